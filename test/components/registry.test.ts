import * as assert from "node:assert/strict";
import { ofType, rendered } from "../support/estate";

const ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

describe("registry", () => {
  it("prod: Premium, admin user off, private only, geo-replicated to the dr region", async () => {
    const run = await rendered("prod");
    const [acr] = ofType(run, "azure-native:containerregistry:Registry");
    assert.deepEqual(acr.inputs.sku, { name: "Premium" });
    assert.equal(acr.inputs.adminUserEnabled, false);
    assert.equal(acr.inputs.publicNetworkAccess, "Disabled");
    const replicas = ofType(run, "azure-native:containerregistry:Replication");
    assert.deepEqual(
      replicas.map((r) => r.inputs.location),
      [run.config.settings.drLocation],
    );
    const pe = ofType(run, "azure-native:network:PrivateEndpoint").filter((p) =>
      p.name.includes("-registry-"),
    );
    assert.equal(pe.length, 1);
    assert.deepEqual((pe[0].inputs.privateLinkServiceConnections as any[])[0].groupIds, ["registry"]);
  });

  it("dr pulls from prod's geo-replicated registry through a private endpoint of its VNet, with AcrPull there", async () => {
    const dr = await rendered("dr");
    const prod = await rendered("prod");
    assert.equal(
      ofType(dr, "azure-native:containerregistry:Registry").length,
      0,
      "dr declares no registry nothing fills",
    );
    const [prodAcr] = ofType(prod, "azure-native:containerregistry:Registry");
    // prod's replica sits in dr's region.
    assert.deepEqual(
      ofType(prod, "azure-native:containerregistry:Replication").map((r) => r.inputs.location),
      [dr.config.settings.location],
    );
    const pe = ofType(dr, "azure-native:network:PrivateEndpoint").find((p) => p.name.includes("-registry-"))!;
    const connection = (pe.inputs.privateLinkServiceConnections as any[])[0];
    assert.match(
      connection.privateLinkServiceId,
      new RegExp(
        `/resourceGroups/rg-aiwp-prod-platform/providers/Microsoft.ContainerRegistry/registries/${prodAcr.inputs.registryName}$`,
      ),
    );
    assert.deepEqual(connection.groupIds, ["registry"]);
    const pulls = ofType(dr, "azure-native:authorization:RoleAssignment").filter((r) =>
      String(r.inputs.roleDefinitionId).endsWith(ACR_PULL),
    );
    assert.equal(pulls.length, 1);
    assert.equal(pulls[0].inputs.scope, connection.privateLinkServiceId);
    assert.equal(dr.outputs.registryLoginServer, `${prodAcr.inputs.registryName}.azurecr.io`);
  });

  it("staging is Premium but not replicated; dev is Standard and public", async () => {
    for (const stack of ["staging"] as const) {
      const run = await rendered(stack);
      assert.deepEqual(ofType(run, "azure-native:containerregistry:Registry")[0].inputs.sku, {
        name: "Premium",
      });
      assert.equal(ofType(run, "azure-native:containerregistry:Replication").length, 0);
    }
    const dev = await rendered("dev");
    const [acr] = ofType(dev, "azure-native:containerregistry:Registry");
    assert.deepEqual(acr.inputs.sku, { name: "Standard" });
    assert.equal(acr.inputs.adminUserEnabled, false);
  });

  it("grants AcrPull on the registry to the kubelet identity", async () => {
    const run = await rendered("prod");
    const [acr] = ofType(run, "azure-native:containerregistry:Registry");
    const pulls = ofType(run, "azure-native:authorization:RoleAssignment").filter((r) =>
      String(r.inputs.roleDefinitionId).endsWith(ACR_PULL),
    );
    assert.equal(pulls.length, 1);
    assert.match(String(pulls[0].inputs.scope), new RegExp(`/registries/${acr.inputs.registryName}$`));
    assert.match(
      String(pulls[0].inputs.roleDefinitionId),
      /^\/subscriptions\/[^/]+\/providers\/Microsoft.Authorization\/roleDefinitions\//,
    );
    assert.ok(pulls[0].inputs.principalId);
  });
});
