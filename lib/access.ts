/**
 * The access matrix: which Azure data resources each service calls and the role it needs there. Local auth
 * and keys are disabled on every data service (Key Vault in RBAC mode, storage without shared keys, Search
 * with disableLocalAuth, Redis with access keys disabled, PostgreSQL with Entra ID), so a service can call
 * only what its workload identity holds a role on. The matrix is set per service in the catalogue
 * (settings/catalogue.ts) and may be overridden per stack (`services.<name>.access`); components/access.ts
 * declares one grant per entry and nothing else.
 */

/** The data resources of a stack that a service may be granted access to. */
export const DATA_RESOURCES = ["keyVault", "storage", "search", "redis", "postgres"] as const;
export type DataResource = (typeof DATA_RESOURCES)[number];

/** How a role is granted: an Azure RBAC role assignment, a Redis access policy assignment, or a PostgreSQL Entra principal. */
export type GrantKind = "roleAssignment" | "redisAccessPolicy" | "postgresEntraPrincipal";

interface RoleSpec {
  resource: DataResource;
  kind: GrantKind;
  /** Built-in role definition GUID, for role assignments. */
  roleDefinitionId?: string;
  /** Short label used in resource names. */
  slug: string;
}

/**
 * The roles a service may be given, by their Azure names. GUIDs: learn.microsoft.com/azure/role-based-access-control/built-in-roles.
 * Redis: Azure Managed Redis grants data access by assigning an Entra principal to the database's "default"
 * access policy (redisenterprise AccessPolicyAssignment). PostgreSQL: an Entra principal of the server
 * (AdministratorsMicrosoftEntra, the only Entra principal ARM declares; it joins azure_pg_admin).
 */
export const ACCESS_ROLES = {
  "Key Vault Secrets User": {
    resource: "keyVault",
    kind: "roleAssignment",
    roleDefinitionId: "4633458b-17de-408a-b874-0445c86b69e6",
    slug: "kv-secrets-user",
  },
  "Storage Blob Data Contributor": {
    resource: "storage",
    kind: "roleAssignment",
    roleDefinitionId: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
    slug: "blob-contributor",
  },
  "Storage Blob Data Reader": {
    resource: "storage",
    kind: "roleAssignment",
    roleDefinitionId: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
    slug: "blob-reader",
  },
  "Search Index Data Reader": {
    resource: "search",
    kind: "roleAssignment",
    roleDefinitionId: "1407120a-92aa-4202-b7e9-c0e197c71c8f",
    slug: "search-reader",
  },
  "Search Index Data Contributor": {
    resource: "search",
    kind: "roleAssignment",
    roleDefinitionId: "8ebe5a00-799e-43f5-93ac-243d3dce84a7",
    slug: "search-contributor",
  },
  "Redis access policy assignment": {
    resource: "redis",
    kind: "redisAccessPolicy",
    slug: "redis-default-policy",
  },
  "PostgreSQL Entra principal": {
    resource: "postgres",
    kind: "postgresEntraPrincipal",
    slug: "postgres-entra",
  },
} as const satisfies Record<string, RoleSpec>;
export type AccessRole = keyof typeof ACCESS_ROLES;
export const ACCESS_ROLE_NAMES = Object.keys(ACCESS_ROLES) as [AccessRole, ...AccessRole[]];

/** One matrix entry: a data resource of the stack and the role the service needs on it. */
export interface AccessEntry {
  resource: DataResource;
  role: AccessRole;
}

/** One grant the matrix asks for. */
export interface MatrixGrant {
  service: string;
  resource: DataResource;
  role: AccessRole;
  kind: GrantKind;
  roleDefinitionId?: string;
  /** Stable label of the grant, used in resource names: "<service>-<role slug>". */
  label: string;
}

/** Problems of a matrix entry: a role that does not apply to the resource named. Paths are config keys. */
export function accessIssues(
  services: Record<string, { access: readonly AccessEntry[] }>,
): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  for (const [name, svc] of Object.entries(services)) {
    const seen = new Set<string>();
    svc.access.forEach((entry, i) => {
      const path = `services.${name}.access[${i}]`;
      const spec = ACCESS_ROLES[entry.role];
      if (!spec) {
        issues.push({
          path: `${path}.role`,
          message: `"${entry.role}" is not one of ${ACCESS_ROLE_NAMES.join(", ")}`,
        });
        return;
      }
      if (spec.resource !== entry.resource) {
        issues.push({
          path: `${path}.role`,
          message: `"${entry.role}" is a role on ${spec.resource}, not on ${entry.resource}`,
        });
      }
      const key = `${entry.resource}/${entry.role}`;
      if (seen.has(key)) issues.push({ path, message: `repeats ${entry.role} on ${entry.resource}` });
      seen.add(key);
    });
  }
  return issues;
}

/** Every grant of the matrix, in a stable order. */
export function matrixGrants(services: Record<string, { access: readonly AccessEntry[] }>): MatrixGrant[] {
  return Object.entries(services).flatMap(([service, svc]) =>
    svc.access.map((entry) => {
      const spec: RoleSpec = ACCESS_ROLES[entry.role];
      return {
        service,
        resource: entry.resource,
        role: entry.role,
        kind: spec.kind,
        roleDefinitionId: spec.roleDefinitionId,
        label: `${service}-${spec.slug}`,
      };
    }),
  );
}

/** Tag keys a workload identity carries: the service it belongs to and the data resources it calls. */
export const ACCESS_TAGS = { workload: "aiwp-workload", dataAccess: "aiwp-data-access" } as const;

/** "keyVault=Key Vault Secrets User;postgres=PostgreSQL Entra principal": the matrix entries of one service. */
export function formatAccessTag(entries: readonly AccessEntry[]): string {
  return entries.map((e) => `${e.resource}=${e.role}`).join(";");
}

/** Parses formatAccessTag's text back into entries (unknown resources or roles are kept as text). */
export function parseAccessTag(text: string): { resource: string; role: string }[] {
  return text
    .split(";")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const [resource, ...role] = part.split("=");
      return { resource: resource.trim(), role: role.join("=").trim() };
    });
}

/** The tags of a service's workload identity: what the policy pack checks the grants against. */
export function accessTags(service: string, entries: readonly AccessEntry[]): Record<string, string> {
  return { [ACCESS_TAGS.workload]: service, [ACCESS_TAGS.dataAccess]: formatAccessTag(entries) };
}

/** Description of a role assignment of the matrix: names the service, so a check can match grant and identity. */
export function grantDescription(service: string, role: string): string {
  return `${service}: ${role}`;
}

/** Name of a service's Redis access policy assignment (letters and digits). */
export function redisAssignmentName(service: string): string {
  return service.replace(/[^A-Za-z0-9]/g, "");
}
