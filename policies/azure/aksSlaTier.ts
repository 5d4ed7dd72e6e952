import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ENVIRONMENT_PROPERTY, appliesToProperty, configOf, requireEnvironment, schema } from "../lib/config";

const configSchema = schema({ environment: ENVIRONMENT_PROPERTY, appliesTo: appliesToProperty(["prod"]) });

/** The Free tier has no uptime SLA for the API server; production needs the Standard (99.95% with zones) tier. */
export const aksSlaTier: ResourceValidationPolicy = {
  name: "aks-sla-tier",
  description: "AKS clusters run on the Standard or Premium (SLA-backed) tier in production.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:containerservice:ManagedCluster") return;
    const config = configOf<{ environment?: string; appliesTo: string[] }>(configSchema, args);
    const environment = requireEnvironment(args, config, args.props);
    const tier = args.props.sku?.tier;
    if (tier !== "Standard" && tier !== "Premium") {
      reportViolation(`sku.tier is ${tier ?? "unset (Free)"}; ${environment} needs "Standard" or "Premium".`);
    }
  },
};
