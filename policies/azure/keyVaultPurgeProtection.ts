import type { ResourceValidationPolicy } from "@pulumi/policy";

/** Without purge protection a deleted vault and its secrets can be destroyed for good before anyone notices. */
export const keyVaultPurgeProtection: ResourceValidationPolicy = {
  name: "keyvault-purge-protection",
  description: "Key Vaults enable soft delete and purge protection.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:keyvault:Vault") return;
    const properties = args.props.properties ?? {};
    if (properties.enablePurgeProtection !== true)
      reportViolation("properties.enablePurgeProtection must be true.");
    if (properties.enableSoftDelete === false)
      reportViolation("properties.enableSoftDelete must not be false.");
  },
};
