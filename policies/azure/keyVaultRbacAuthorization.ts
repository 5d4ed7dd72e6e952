import type { ResourceValidationPolicy } from "@pulumi/policy";

/** Access policies live outside Azure RBAC and its reviews; RBAC mode keeps vault access in role assignments. */
export const keyVaultRbacAuthorization: ResourceValidationPolicy = {
  name: "keyvault-rbac-authorization",
  description: "Key Vaults use Azure RBAC for data-plane authorization, not access policies.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:keyvault:Vault") return;
    const properties = args.props.properties ?? {};
    if (properties.enableRbacAuthorization !== true)
      reportViolation("properties.enableRbacAuthorization must be true.");
    if ((properties.accessPolicies ?? []).length > 0)
      reportViolation("properties.accessPolicies must be empty in RBAC mode.");
  },
};
