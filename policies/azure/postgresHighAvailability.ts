import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ENVIRONMENT_PROPERTY, appliesToProperty, configOf, requireEnvironment, schema } from "../lib/config";

const configSchema = schema({ environment: ENVIRONMENT_PROPERTY, appliesTo: appliesToProperty(["prod"]) });

/** A single-zone server is down for as long as its zone is; zone-redundant HA fails over to a standby. */
export const postgresHighAvailability: ResourceValidationPolicy = {
  name: "postgres-zone-redundant-ha",
  description: "PostgreSQL flexible servers use zone-redundant high availability in production.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:dbforpostgresql:Server") return;
    const config = configOf<{ environment?: string; appliesTo: string[] }>(configSchema, args);
    const environment = requireEnvironment(args, config, args.props);
    // A read replica takes neither high availability nor backups of its own until it is promoted (Azure
    // Database for PostgreSQL flexible server, "Read replicas": unsupported features); its source carries both.
    if (args.props.createMode === "Replica") return;
    const mode = args.props.highAvailability?.mode;
    if (mode !== "ZoneRedundant") {
      reportViolation(
        `highAvailability.mode is ${mode ?? "unset (Disabled)"}; ${environment} needs "ZoneRedundant".`,
      );
    }
  },
};
