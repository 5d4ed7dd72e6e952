import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as dbforpostgresql from "@pulumi/azure-native/dbforpostgresql";
import * as redisenterprise from "@pulumi/azure-native/redisenterprise";
import {
  grantDescription,
  matrixGrants,
  redisAssignmentName,
  type AccessEntry,
  type DataResource,
  type MatrixGrant,
} from "../lib/access";
import { roleDefinitionId } from "./workloadIdentity";

/** The stack's data resources as the grants address them. */
export interface DataResourceRefs {
  /** ARM ids of the resources that take Azure RBAC role assignments. */
  keyVault: pulumi.Input<string>;
  storage: pulumi.Input<string>;
  search: pulumi.Input<string>;
  /** Azure Managed Redis: its resource group, cluster and database (access policies live on the database). */
  redis: { resourceGroupName: pulumi.Input<string>; clusterName: pulumi.Input<string>; databaseName: string };
  /** PostgreSQL Flexible Server: its resource group and server name. */
  postgres: { resourceGroupName: pulumi.Input<string>; serverName: pulumi.Input<string> };
}

export interface AccessArgs {
  /** The access matrix: per service, its entries (`settings.services.<name>.access`). */
  services: Record<string, { access: readonly AccessEntry[] }>;
  /** Object (principal) id of each service's workload identity (Service.principalId). */
  principals: Record<string, pulumi.Input<string>>;
  /** The data resources of the stack. */
  resources: DataResourceRefs;
  /** Subscription of the role definitions. */
  subscriptionId: pulumi.Input<string>;
  /** Entra ID tenant (PostgreSQL Entra principals). */
  tenantId: pulumi.Input<string>;
}

/**
 * The access matrix declared: one grant per entry on the service's workload identity, and nothing else. An
 * Azure RBAC role assignment for Key Vault, Blob and Search; an assignment to the database's "default" access
 * policy for Azure Managed Redis; an Entra principal of the server for PostgreSQL.
 */
export class Access extends pulumi.ComponentResource {
  /** The grants by label ("<service>-<role slug>"), for tests and dependencies. */
  public readonly grants: Record<string, pulumi.CustomResource>;

  constructor(name: string, args: AccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:Access", name, {}, opts);
    this.grants = {};
    // Entra principals of one server are written one at a time: Flexible Server fails parallel administrator
    // writes (hashicorp/terraform-provider-azurerm#19962, fixed there with a lock in #20384). Redis access policy
    // assignments of one database go one at a time as well, as the cluster applies one update at a time.
    const previous: Partial<Record<MatrixGrant["kind"], pulumi.CustomResource>> = {};
    for (const grant of matrixGrants(args.services)) {
      const principal = args.principals[grant.service];
      if (principal === undefined) {
        throw new Error(
          `Access ${name}: services.${grant.service} has no workload identity to grant ${grant.role} to`,
        );
      }
      const after = grant.kind === "roleAssignment" ? undefined : previous[grant.kind];
      const resource = this.declare(name, grant, principal, args, after);
      if (grant.kind !== "roleAssignment") previous[grant.kind] = resource;
      this.grants[grant.label] = resource;
    }
    this.registerOutputs({});
  }

  private declare(
    name: string,
    grant: MatrixGrant,
    principalId: pulumi.Input<string>,
    args: AccessArgs,
    after?: pulumi.CustomResource,
  ): pulumi.CustomResource {
    const opts = { parent: this, dependsOn: after ? [after] : [] };
    const r = args.resources;
    switch (grant.kind) {
      case "roleAssignment": {
        const scopes: Record<Exclude<DataResource, "redis" | "postgres">, pulumi.Input<string>> = {
          keyVault: r.keyVault,
          storage: r.storage,
          search: r.search,
        };
        const scope = scopes[grant.resource as keyof typeof scopes];
        if (scope === undefined)
          throw new Error(`Access ${name}: ${grant.role} needs a resource id for ${grant.resource}`);
        return new authorization.RoleAssignment(
          `${name}-${grant.label}`,
          {
            principalId,
            principalType: "ServicePrincipal",
            description: grantDescription(grant.service, grant.role),
            roleDefinitionId: pulumi
              .output(args.subscriptionId)
              .apply((sub) => roleDefinitionId(sub, grant.roleDefinitionId!)),
            scope,
          },
          opts,
        );
      }
      case "redisAccessPolicy":
        // Azure Managed Redis with access keys disabled: an Entra principal assigned to an access policy
        // ("default" is the built-in full data access policy) may connect (learn.microsoft.com/azure/redis/entra-for-authentication).
        return new redisenterprise.AccessPolicyAssignment(
          `${name}-${grant.label}`,
          {
            resourceGroupName: r.redis.resourceGroupName,
            clusterName: r.redis.clusterName,
            databaseName: r.redis.databaseName,
            accessPolicyAssignmentName: redisAssignmentName(grant.service),
            accessPolicyName: "default",
            user: { objectId: principalId },
          },
          opts,
        );
      case "postgresEntraPrincipal":
        return new dbforpostgresql.AdministratorsMicrosoftEntra(
          `${name}-${grant.label}`,
          {
            resourceGroupName: r.postgres.resourceGroupName,
            serverName: r.postgres.serverName,
            objectId: principalId,
            principalName: grant.service,
            principalType: "ServicePrincipal",
            tenantId: args.tenantId,
          },
          opts,
        );
    }
  }
}
