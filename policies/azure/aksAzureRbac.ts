import type { ResourceValidationPolicy } from "@pulumi/policy";

/** Kubernetes authorization through Azure RBAC keeps cluster access in Entra ID role assignments. */
export const aksAzureRbac: ResourceValidationPolicy = {
  name: "aks-azure-rbac",
  description: "AKS clusters use managed Entra ID integration with Azure RBAC for Kubernetes authorization.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:containerservice:ManagedCluster") return;
    const aad = args.props.aadProfile;
    if (aad?.managed !== true)
      reportViolation("aadProfile.managed must be true (managed Entra ID integration).");
    if (aad?.enableAzureRBAC !== true) reportViolation("aadProfile.enableAzureRBAC must be true.");
    if (args.props.enableRBAC === false) reportViolation("enableRBAC must not be false.");
  },
};
