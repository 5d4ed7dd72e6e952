import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ENVIRONMENT_PROPERTY, appliesToProperty, configOf, requireEnvironment, schema } from "../lib/config";

const configSchema = schema({
  environment: ENVIRONMENT_PROPERTY,
  appliesTo: appliesToProperty(["prod"]),
  minRetentionDays: {
    type: "integer",
    minimum: 7,
    maximum: 35,
    default: 30,
    description: "Shortest PITR window.",
  },
});

interface Config {
  environment?: string;
  appliesTo: string[];
  minRetentionDays: number;
}

/** The dr stack restores from geo-redundant backups; without them a regional outage loses the data tier. */
export const postgresGeoRedundantBackup: ResourceValidationPolicy = {
  name: "postgres-geo-redundant-backup",
  description:
    "PostgreSQL flexible servers keep geo-redundant backups with at least 30 days of retention in production.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:dbforpostgresql:Server") return;
    const config = configOf<Config>(configSchema, args);
    requireEnvironment(args, config, args.props);
    // A read replica takes neither high availability nor backups of its own until it is promoted (Azure
    // Database for PostgreSQL flexible server, "Read replicas": unsupported features); its source carries both.
    if (args.props.createMode === "Replica") return;
    const backup = args.props.backup ?? {};
    if (backup.geoRedundantBackup !== "Enabled")
      reportViolation('backup.geoRedundantBackup must be "Enabled".');
    if (!(backup.backupRetentionDays >= config.minRetentionDays)) {
      reportViolation(
        `backup.backupRetentionDays is ${backup.backupRetentionDays ?? "unset (7)"}; at least ${config.minRetentionDays} needed.`,
      );
    }
  },
};
