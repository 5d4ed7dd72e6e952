import type { StackValidationPolicy } from "@pulumi/policy";

const CLUSTER = "azure-native:containerservice:ManagedCluster";
const ASSIGNMENT = "azure-native:authorization:RoleAssignment";

/** The AKS RBAC roles that can operate the whole cluster (learn.microsoft.com/azure/aks/manage-azure-rbac). */
const CLUSTER_ADMIN_ROLES = {
  "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b": "Azure Kubernetes Service RBAC Cluster Admin",
  "3498e952-d568-435e-9b2c-8d77e338d7f7": "Azure Kubernetes Service RBAC Admin",
} as const;

/**
 * With Azure RBAC for Kubernetes authorization and local accounts disabled, only AKS RBAC role assignments
 * authorize Kubernetes calls (Owner and Contributor hold no Kubernetes data actions): without an admin grant
 * on the cluster, every namespace, CRD and Helm release of the first `pulumi up` gets 403.
 */
export const aksAzureRbacAdminGranted: StackValidationPolicy = {
  name: "aks-azure-rbac-admin-granted",
  description:
    "An AKS cluster with Azure RBAC and local accounts disabled has an AKS RBAC Cluster Admin (or RBAC Admin) role assignment scoped to it.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, reportViolation) => {
    const assignments = args.resources.filter((r) => r.type === ASSIGNMENT);
    for (const r of args.resources) {
      if (r.type !== CLUSTER) continue;
      if (r.props.aadProfile?.enableAzureRBAC !== true) continue;
      const name = String(r.props.resourceName ?? r.name);
      const suffix = `/managedClusters/${name}`.toLowerCase();
      const granted = assignments.some((a) => {
        const role =
          String(a.props.roleDefinitionId ?? "")
            .split("/")
            .at(-1)
            ?.toLowerCase() ?? "";
        const scope = String(a.props.scope ?? "").toLowerCase();
        return role in CLUSTER_ADMIN_ROLES && (scope.endsWith(suffix) || scope.includes(`${suffix}/`));
      });
      if (!granted) {
        reportViolation(
          `cluster ${name} authorizes Kubernetes calls with Azure RBAC${r.props.disableLocalAccounts ? " and has no local accounts" : ""}, but no RoleAssignment of ${Object.values(CLUSTER_ADMIN_ROLES).join(" or ")} is scoped to it: every Kubernetes call would get 403.`,
          r.urn,
        );
      }
    }
  },
};
