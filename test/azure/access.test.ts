/**
 * The access matrix against the rendered stacks: every matrix entry of every service has its grant on that
 * service's workload identity, and no data-plane grant exists that the matrix does not name; the operators
 * who deploy hold AKS RBAC Cluster Admin on the cluster. Bad matrix input is rejected naming the key.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { Access } from "../../components/access";
import { ACCESS_ROLES, matrixGrants, type AccessEntry, type AccessRole } from "../../lib/access";
import { parseSettings, PROJECT, SettingsError } from "../../settings";
import { MOCK_SUBSCRIPTION, mockGuid, mocks } from "../../tools/mocks";
import type { ProgramRun } from "../../tools/harness";
import { ofType, rendered, STACKS } from "../support/estate";
import { stackValues } from "../support/settings";

/** Built-in role GUIDs (learn.microsoft.com/azure/role-based-access-control/built-in-roles), named. */
const ROLE_BY_GUID: Record<string, AccessRole> = {
  "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
  "ba92f5b4-2d11-453d-a403-e96b0029c9fe": "Storage Blob Data Contributor",
  "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": "Storage Blob Data Reader",
  "1407120a-92aa-4202-b7e9-c0e197c71c8f": "Search Index Data Reader",
  "8ebe5a00-799e-43f5-93ac-243d3dce84a7": "Search Index Data Contributor",
};
const AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";

/**
 * Principal id of each service's workload identity, keyed by service: the mock runtime derives an identity's
 * principal from its ARM id (tools/mocks.ts), which the federated credential names (resource group, identity).
 */
function servicePrincipals(run: ProgramRun): Map<string, string> {
  const namespace = `ai-workflow-${run.config.stack}`;
  const byService = new Map<string, string>();
  for (const fic of ofType(run, "azure-native:managedidentity:FederatedIdentityCredential")) {
    const subject = String(fic.inputs.subject);
    const prefix = `system:serviceaccount:${namespace}:`;
    if (!subject.startsWith(prefix)) continue;
    const id = `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/${fic.inputs.resourceGroupName}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${fic.inputs.resourceName}`;
    byService.set(subject.slice(prefix.length), mockGuid(`${id}/principal`));
  }
  return byService;
}

interface Found {
  principal: string;
  resource: string;
  role: string;
  what: string;
}

/** Every data-plane grant of the render: RBAC roles on the data tier, Redis access policies, PostgreSQL Entra principals. */
function dataGrants(run: ProgramRun): Found[] {
  const found: Found[] = [];
  for (const a of ofType(run, "azure-native:authorization:RoleAssignment")) {
    const guid = String(a.inputs.roleDefinitionId).split("/").at(-1)!;
    const role = ROLE_BY_GUID[guid];
    if (!role) continue;
    const scope = String(a.inputs.scope);
    // Velero's own backup account is the platform's, not the data tier's.
    if (scope.includes("/Microsoft.Storage/") && !scope.includes("-data/")) continue;
    const resource = scope.includes("/Microsoft.KeyVault/")
      ? "keyVault"
      : scope.includes("/Microsoft.Storage/")
        ? "storage"
        : scope.includes("/Microsoft.Search/")
          ? "search"
          : scope;
    found.push({ principal: String(a.inputs.principalId), resource, role, what: `RoleAssignment ${a.name}` });
  }
  for (const a of ofType(run, "azure-native:redisenterprise:AccessPolicyAssignment")) {
    assert.equal(a.inputs.accessPolicyName, "default");
    found.push({
      principal: String((a.inputs.user as { objectId: string }).objectId),
      resource: "redis",
      role: "Redis access policy assignment",
      what: `AccessPolicyAssignment ${a.name}`,
    });
  }
  for (const a of ofType(run, "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra")) {
    found.push({
      principal: String(a.inputs.objectId),
      resource: "postgres",
      role: "PostgreSQL Entra principal",
      what: `AdministratorsMicrosoftEntra ${a.name}`,
    });
  }
  return found;
}

describe("access matrix", () => {
  for (const stack of STACKS) {
    it(`${stack}: every matrix entry has its grant on the service's identity, and no grant lies outside the matrix`, async () => {
      const run = await rendered(stack);
      const principals = servicePrincipals(run);
      const services = run.config.settings.services;
      assert.equal(principals.size, Object.keys(services).length, "one workload identity per service");
      const serviceOf = new Map([...principals].map(([svc, p]) => [p, svc]));
      const grants = dataGrants(run);
      const granted = new Set(
        grants.map(
          (g) => `${serviceOf.get(g.principal) ?? `(principal ${g.principal})`} ${g.resource} ${g.role}`,
        ),
      );
      const expected = new Set(matrixGrants(services).map((g) => `${g.service} ${g.resource} ${g.role}`));
      assert.deepEqual(
        [...expected].filter((e) => !granted.has(e)),
        [],
        "matrix entries without a grant",
      );
      assert.deepEqual(
        [...granted].filter((g) => !expected.has(g)),
        [],
        "grants outside the matrix",
      );
      assert.equal(grants.length, expected.size, "one grant per matrix entry");
      // The sandbox's identity only authenticates.
      const sandbox = principals.get("code-execution-service");
      assert.ok(sandbox && !grants.some((g) => g.principal === sandbox));
    });
  }

  it("prod: role assignments scope to the resource itself, never a group or the subscription", async () => {
    const run = await rendered("prod");
    for (const a of ofType(run, "azure-native:authorization:RoleAssignment")) {
      const guid = String(a.inputs.roleDefinitionId).split("/").at(-1)!;
      if (!ROLE_BY_GUID[guid]) continue;
      assert.match(String(a.inputs.scope), /\/providers\/Microsoft\.(KeyVault|Storage|Search)\//, a.name);
    }
  });

  for (const stack of STACKS) {
    it(`${stack}: the deployer${stack === "dev" ? " holds" : " and every admin group hold"} AKS RBAC Cluster Admin on the cluster`, async () => {
      const run = await rendered(stack);
      const [cluster] = ofType(run, "azure-native:containerservice:ManagedCluster");
      const admins = ofType(run, "azure-native:authorization:RoleAssignment").filter((a) =>
        String(a.inputs.roleDefinitionId).endsWith(`/${AKS_RBAC_CLUSTER_ADMIN}`),
      );
      for (const a of admins)
        assert.match(String(a.inputs.scope), new RegExp(`/managedClusters/${cluster.inputs.resourceName}$`));
      const groups = run.config.settings.cluster.adminGroupObjectIds;
      const principals = admins.map((a) => String(a.inputs.principalId));
      for (const g of groups) assert.ok(principals.includes(g), `admin group ${g} has no grant`);
      // getClientConfig's objectId in the mock runtime: the deployer's grant comes on top of the groups'.
      assert.equal(admins.length, groups.length + 1);
      if (stack !== "dev") assert.ok(groups.length > 0);
    });
  }
});

describe("access grants: declaration order", () => {
  it("writes PostgreSQL Entra principals and Redis access policy assignments one after another", async () => {
    const seen: { type: string; name: string; dependsOn: pulumi.Resource[] }[] = [];
    const byName = new Map<pulumi.Resource, string>();
    await pulumi.runtime.setMocks(mocks, PROJECT, "prod", false);
    await pulumi.runtime.runInPulumiStack(async () => {
      const svc = (access: AccessEntry[]) => ({ access });
      const access = new Access(
        "probe",
        {
          services: {
            a: svc([
              { resource: "postgres", role: "PostgreSQL Entra principal" },
              { resource: "redis", role: "Redis access policy assignment" },
            ]),
            b: svc([
              { resource: "postgres", role: "PostgreSQL Entra principal" },
              { resource: "keyVault", role: "Key Vault Secrets User" },
            ]),
            c: svc([
              { resource: "postgres", role: "PostgreSQL Entra principal" },
              { resource: "redis", role: "Redis access policy assignment" },
            ]),
          },
          principals: { a: "pa", b: "pb", c: "pc" },
          resources: {
            keyVault: "/kv",
            storage: "/st",
            search: "/srch",
            redis: { resourceGroupName: "rg", clusterName: "redis", databaseName: "default" },
            postgres: { resourceGroupName: "rg", serverName: "psql" },
          },
          subscriptionId: "s",
          tenantId: "t",
        },
        {
          transformations: [
            (a) =>
              void seen.push({
                type: a.type,
                name: a.name,
                dependsOn: [a.opts.dependsOn ?? []].flat() as pulumi.Resource[],
              }) as undefined,
          ],
        },
      );
      for (const [label, r] of Object.entries(access.grants)) byName.set(r, label);
      return {};
    });
    const deps = (type: string) =>
      seen.filter((s) => s.type === type).map((s) => [s.name, s.dependsOn.map((d) => byName.get(d))]);
    assert.deepEqual(deps("azure-native:dbforpostgresql:AdministratorsMicrosoftEntra"), [
      ["probe-a-postgres-entra", []],
      ["probe-b-postgres-entra", ["a-postgres-entra"]],
      ["probe-c-postgres-entra", ["b-postgres-entra"]],
    ]);
    assert.deepEqual(deps("azure-native:redisenterprise:AccessPolicyAssignment"), [
      ["probe-a-redis-default-policy", []],
      ["probe-c-redis-default-policy", ["a-redis-default-policy"]],
    ]);
    // Role assignments have no such limit.
    assert.deepEqual(deps("azure-native:authorization:RoleAssignment"), [["probe-b-kv-secrets-user", []]]);
  });
});

function rejected(stack: string, edit: (c: Record<string, any>) => void, key: string, rule: RegExp): void {
  const values = stackValues(stack);
  edit(values);
  let error: unknown;
  try {
    parseSettings(values, `Pulumi.${stack}.yaml`);
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof SettingsError, `expected ${key} to be rejected`);
  const issue = error.issues.find((i) => i.path === key || i.path.startsWith(`${key}.`));
  assert.ok(issue, `expected an issue on ${key}, got: ${error.message}`);
  assert.match(issue.message, rule);
}

describe("access matrix: bad input", () => {
  const service = "knowledge-base-service";
  const access = (c: Record<string, any>) => {
    c.services ??= {};
    c.services[service] ??= {};
    return c.services[service];
  };

  for (const stack of ["staging", "prod", "dr"]) {
    it(`${stack} without admin groups is rejected naming cluster.adminGroupObjectIds`, () => {
      rejected(
        stack,
        (c) => (c.cluster.adminGroupObjectIds = []),
        "cluster.adminGroupObjectIds",
        /at least one Entra ID group/,
      );
    });
  }

  it("dev may go without admin groups (the deployer's grant suffices)", () => {
    const values = stackValues("dev");
    assert.deepEqual(parseSettings(values, "Pulumi.dev.yaml").cluster.adminGroupObjectIds, []);
  });

  it("a role outside the allowed set is rejected naming the entry's role", () => {
    rejected(
      "prod",
      (c) => (access(c).access = [{ resource: "search", role: "Owner" }]),
      `services.${service}.access[0].role`,
      /Search Index Data Reader/,
    );
  });

  it("a resource the stack does not have is rejected naming the entry's resource", () => {
    rejected(
      "prod",
      (c) => (access(c).access = [{ resource: "cosmosDb", role: "Key Vault Secrets User" }]),
      `services.${service}.access[0].resource`,
      /keyVault/,
    );
  });

  it("a role on the wrong resource is rejected naming the entry", () => {
    rejected(
      "prod",
      (c) => (access(c).access = [{ resource: "keyVault", role: "Search Index Data Reader" }]),
      `services.${service}.access[0].role`,
      /is a role on search, not on keyVault/,
    );
  });

  it("the allowed roles are exactly the matrix's, each on one resource", () => {
    assert.deepEqual(Object.keys(ACCESS_ROLES).sort(), [
      "Key Vault Secrets User",
      "PostgreSQL Entra principal",
      "Redis access policy assignment",
      "Search Index Data Contributor",
      "Search Index Data Reader",
      "Storage Blob Data Contributor",
      "Storage Blob Data Reader",
    ]);
  });
});
