import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";

/** Built-in Azure role definition GUIDs the estate grants (the same in every tenant). */
export const ROLES = {
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  networkContributor: "4d97b98b-1d4f-4787-a291-c67834d212e7",
  keyVaultSecretsUser: "4633458b-17de-408a-b874-0445c86b69e6",
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
  searchIndexDataReader: "1407120a-92aa-4202-b7e9-c0e197c71c8f",
  searchIndexDataContributor: "8ebe5a00-799e-43f5-93ac-243d3dce84a7",
  contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  /** Kubernetes data-plane admin of the whole cluster under Azure RBAC (every namespace, CRDs, Helm releases). */
  aksRbacClusterAdmin: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
  /** The listClusterUserCredential action: fetch the Entra ID kubeconfig (no Kubernetes rights by itself). */
  aksClusterUser: "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
  /** Kubernetes read-only access under Azure RBAC (no Secrets). */
  aksRbacReader: "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
} as const;

/** The audience AKS workload identity tokens are exchanged for. */
export const WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange";

/**
 * Full ARM id of a built-in role definition. A bare GUID is resolved in `subscriptionId`; an id that already
 * starts with "/" is returned unchanged.
 */
export function roleDefinitionId(subscriptionId: string, role: string): string {
  if (role.startsWith("/")) return role;
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${role}`;
}

/** The subject AKS puts in a service account's projected token. */
export function serviceAccountSubject(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/** One least-privilege grant: a role on a scope (a resource id, never the subscription unless it must be). */
export interface RoleGrant {
  /** ARM id of the resource the role applies to (e.g. a Key Vault or a storage container). */
  scope: pulumi.Input<string>;
  /** Role definition GUID (see ROLES) or full role definition id. */
  roleDefinitionId: string;
  /** Short stable label of the grant in resource names (e.g. "vault-secrets"). Default: its index. */
  name?: string;
}

export interface WorkloadIdentityArgs {
  /** Resource group that holds the user-assigned identity. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region of the identity. */
  location: pulumi.Input<string>;
  /** Kubernetes namespace of the service account. */
  namespace: string;
  /** Name of the Kubernetes service account that federates to this identity. */
  serviceAccount: string;
  /** The cluster's OIDC issuer URL (`cluster.oidcIssuerUrl`). */
  oidcIssuerUrl: pulumi.Input<string>;
  /** Role assignments of the identity; empty for an identity that only authenticates. */
  roles: RoleGrant[];
  /** Tags of the identity (the estate's standard tags). */
  tags: Record<string, string>;
}

/**
 * An Entra ID identity for one Kubernetes service account: a user-assigned identity, its federated credential
 * trusting the cluster's OIDC issuer for exactly `system:serviceaccount:<namespace>:<serviceAccount>`, and
 * the role assignments it needs. Annotate the service account with `azure.workload.identity/client-id:
 * <clientId>` and label its pods `azure.workload.identity/use: "true"`.
 */
export class WorkloadIdentity extends pulumi.ComponentResource {
  /** The user-assigned identity. */
  public readonly identity: managedidentity.UserAssignedIdentity;
  /** Client id for the service account annotation `azure.workload.identity/client-id`. */
  public readonly clientId: pulumi.Output<string>;
  /** Object (principal) id of the identity, for further role assignments. */
  public readonly principalId: pulumi.Output<string>;
  /** Tenant of the identity (for `azure.workload.identity/tenant-id` where a chart asks for it). */
  public readonly tenantId: pulumi.Output<string>;
  /** ARM id of the identity. */
  public readonly identityId: pulumi.Output<string>;

  constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:WorkloadIdentity", name, {}, opts);
    if (!args.namespace || !args.serviceAccount) {
      throw new Error(`WorkloadIdentity ${name}: namespace and serviceAccount are required`);
    }
    this.identity = new managedidentity.UserAssignedIdentity(
      name,
      { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags },
      { parent: this },
    );
    new managedidentity.FederatedIdentityCredential(
      `${name}-federation`,
      {
        resourceGroupName: args.resourceGroupName,
        resourceName: this.identity.name,
        issuer: args.oidcIssuerUrl,
        subject: serviceAccountSubject(args.namespace, args.serviceAccount),
        audiences: [WORKLOAD_IDENTITY_AUDIENCE],
      },
      { parent: this },
    );
    if (args.roles.length > 0) {
      const subscriptionId = authorization.getClientConfigOutput({ parent: this }).subscriptionId;
      args.roles.forEach((grant, i) => {
        new authorization.RoleAssignment(
          `${name}-role-${grant.name ?? i}`,
          {
            principalId: this.identity.principalId,
            principalType: "ServicePrincipal",
            roleDefinitionId: subscriptionId.apply((sub) => roleDefinitionId(sub, grant.roleDefinitionId)),
            scope: grant.scope,
          },
          { parent: this },
        );
      });
    }
    this.clientId = this.identity.clientId;
    this.principalId = this.identity.principalId;
    this.tenantId = this.identity.tenantId;
    this.identityId = this.identity.id;
    this.registerOutputs({
      clientId: this.clientId,
      principalId: this.principalId,
      tenantId: this.tenantId,
      identityId: this.identityId,
    });
  }
}
