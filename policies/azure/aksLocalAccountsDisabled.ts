import type { ResourceValidationPolicy } from "@pulumi/policy";

/** Local accounts give a static admin kubeconfig that bypasses Entra ID; the estate authenticates through kubelogin. */
export const aksLocalAccountsDisabled: ResourceValidationPolicy = {
  name: "aks-local-accounts-disabled",
  description: "AKS clusters disable local accounts, so every access goes through Entra ID.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:containerservice:ManagedCluster") return;
    if (args.props.disableLocalAccounts !== true) {
      reportViolation(
        "disableLocalAccounts must be true (the admin kubeconfig bypasses Entra ID and Azure RBAC).",
      );
    }
  },
};
