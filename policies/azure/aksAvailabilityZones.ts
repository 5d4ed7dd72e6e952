import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ENVIRONMENT_PROPERTY, appliesToProperty, configOf, requireEnvironment, schema } from "../lib/config";

const configSchema = schema({
  environment: ENVIRONMENT_PROPERTY,
  appliesTo: appliesToProperty(["prod"]),
  minZones: {
    type: "integer",
    minimum: 1,
    maximum: 3,
    default: 3,
    description: "Zones each node pool spans.",
  },
});

interface Config {
  environment?: string;
  appliesTo: string[];
  minZones: number;
}

/** A node pool in one zone goes down with that zone; production pools spread across the region's zones. */
export const aksAvailabilityZones: ResourceValidationPolicy = {
  name: "aks-availability-zones",
  description: "AKS node pools span availability zones in production.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateResource: (args, reportViolation) => {
    const pools: { name: string; zones?: string[] }[] = [];
    if (args.type === "azure-native:containerservice:AgentPool") {
      pools.push({ name: args.props.agentPoolName ?? args.name, zones: args.props.availabilityZones });
    } else if (args.type === "azure-native:containerservice:ManagedCluster") {
      for (const p of args.props.agentPoolProfiles ?? [])
        pools.push({ name: p.name, zones: p.availabilityZones });
    } else {
      return;
    }
    const config = configOf<Config>(configSchema, args);
    const environment = requireEnvironment(args, config, args.props);
    for (const pool of pools) {
      const zones = new Set(pool.zones ?? []);
      if (zones.size < config.minZones) {
        reportViolation(
          `node pool "${pool.name}" spans ${zones.size} zone(s); ${environment} needs at least ${config.minZones}.`,
        );
      }
    }
  },
};
