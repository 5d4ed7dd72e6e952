import * as assert from "node:assert/strict";
import { ofType, rendered, STACKS } from "../support/estate";
import { MOCK_TENANT } from "../../tools/mocks";

describe("key vault", () => {
  for (const stack of STACKS) {
    it(`${stack}: every vault uses RBAC, purge protection, 90-day soft delete and no public access`, async () => {
      const vaults = ofType(await rendered(stack), "azure-native:keyvault:Vault");
      assert.ok(vaults.length >= 1);
      for (const v of vaults) {
        const p = v.inputs.properties as Record<string, any>;
        assert.equal(p.enablePurgeProtection, true, v.name);
        assert.equal(p.enableRbacAuthorization, true, v.name);
        assert.equal(p.softDeleteRetentionInDays, 90, v.name);
        assert.equal(p.publicNetworkAccess, "Disabled", v.name);
        assert.equal(p.tenantId, MOCK_TENANT, "tenant comes from the deployer's client config");
      }
    });
  }

  it("is reached through a private endpoint registered in the vaultcore zone", async () => {
    const run = await rendered("prod");
    const pe = ofType(run, "azure-native:network:PrivateEndpoint").find((p) =>
      p.name.includes("-keyvault-"),
    )!;
    assert.deepEqual((pe.inputs.privateLinkServiceConnections as any[])[0].groupIds, ["vault"]);
    const group = ofType(run, "azure-native:network:PrivateDnsZoneGroup").find((g) =>
      g.name.includes("-keyvault-"),
    )!;
    assert.match(
      (group.inputs.privateDnsZoneConfigs as any[])[0].privateDnsZoneId,
      /privatelink\.vaultcore\.azure\.net$/,
    );
  });
});
