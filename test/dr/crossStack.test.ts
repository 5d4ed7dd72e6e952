/**
 * dr names prod's resources in its configuration (the backups it reads, the server it replicates, the account it
 * copies blobs from, the VNet it peers with). Those names must be what prod's render declares, in the region dr
 * says, or the copies silently point at nothing.
 */
import * as assert from "node:assert/strict";
import { ofType, rendered } from "../support/estate";

const only = (run: Awaited<ReturnType<typeof rendered>>, type: string, key: string, value: string) => {
  const found = ofType(run, type).filter((r) => r.inputs[key] === value);
  assert.equal(found.length, 1, `prod declares one ${type} ${key}=${value}`);
  return found[0].inputs as Record<string, any>;
};

describe("dr's references to prod", () => {
  it("backup.restoreFrom is prod's backup account, its group and container, in dr's region", async () => {
    const [prod, dr] = [await rendered("prod"), await rendered("dr")];
    const from = dr.config.settings.backup.restoreFrom!;
    const account = only(prod, "azure-native:storage:StorageAccount", "accountName", from.storageAccount);
    assert.equal(account.resourceGroupName, from.resourceGroup);
    assert.equal(account.location, from.location);
    assert.equal(from.location, dr.config.settings.location);
    const container = only(prod, "azure-native:storage:BlobContainer", "accountName", from.storageAccount);
    assert.equal(container.containerName, from.container);
  });

  it("data.postgres.replicaOf is prod's server and VNet, in prod's region", async () => {
    const [prod, dr] = [await rendered("prod"), await rendered("dr")];
    const of = dr.config.settings.data.postgres.replicaOf!;
    const server = only(prod, "azure-native:dbforpostgresql:Server", "serverName", of.serverName);
    assert.equal(server.resourceGroupName, of.resourceGroup);
    assert.equal(server.location, of.location);
    const vnet = only(
      prod,
      "azure-native:network:VirtualNetwork",
      "virtualNetworkName",
      of.virtualNetwork.name,
    );
    assert.equal(vnet.resourceGroupName, of.virtualNetwork.resourceGroup);
    // A replica's storage and compute must be at least its source's (Azure read replicas, "Scale").
    const replica = ofType(dr, "azure-native:dbforpostgresql:Server")[0].inputs as Record<string, any>;
    assert.ok(replica.storage.storageSizeGB >= server.storage.storageSizeGB);
    assert.equal(replica.sku.name, server.sku.name);
    // The peering only works between address spaces that do not overlap.
    assert.notEqual(vnet.addressSpace.addressPrefixes[0], dr.config.settings.network.addressSpace);
  });

  it("data.storage.replicateFrom is prod's data account with the same containers", async () => {
    const [prod, dr] = [await rendered("prod"), await rendered("dr")];
    const from = dr.config.settings.data.storage.replicateFrom!;
    const account = only(prod, "azure-native:storage:StorageAccount", "accountName", from.accountName);
    assert.equal(account.resourceGroupName, from.resourceGroup);
    assert.equal(account.location, from.location);
    const containers = ofType(prod, "azure-native:storage:BlobContainer")
      .filter((c) => c.inputs.accountName === from.accountName)
      .map((c) => c.inputs.containerName);
    assert.deepEqual(containers.sort(), [...dr.config.settings.data.storage.containers].sort());
  });
});
