/**
 * dr names prod's resources in its configuration (the backups it reads, the server it replicates, the account it
 * copies blobs from, the VNet it peers with). Those names must be what prod's render declares, in the region dr
 * says, or the copies silently point at nothing.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { manifests, ofType, rendered } from "../support/estate";

const only = (run: Awaited<ReturnType<typeof rendered>>, type: string, key: string, value: string) => {
  const found = ofType(run, type).filter((r) => r.inputs[key] === value);
  assert.equal(found.length, 1, `the render declares one ${type} ${key}=${value}`);
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

describe("the failover scripts' defaults name what the stacks declare", () => {
  const script = (name: string) =>
    fs.readFileSync(path.resolve(__dirname, "..", "..", "scripts", name), "utf8");
  /** The default a script assigns to a variable (`name="value"`). */
  const defaultOf = (text: string, variable: string) => {
    const match = new RegExp(`^${variable}="([^"]*)"$`, "m").exec(text);
    assert.ok(match, `no default for ${variable}`);
    return match[1];
  };

  it("dr-failover.sh: dr's cluster and replica, prod's Front Door profile and its group", async () => {
    const text = script("dr-failover.sh");
    const [prod, dr] = [await rendered("prod"), await rendered("dr")];
    only(dr, "azure-native:containerservice:ManagedCluster", "resourceName", defaultOf(text, "dr_cluster"));
    const server = only(
      dr,
      "azure-native:dbforpostgresql:Server",
      "serverName",
      defaultOf(text, "pg_server"),
    );
    assert.equal(server.resourceGroupName, defaultOf(text, "dr_data_rg"));
    const profile = only(prod, "azure-native:cdn:Profile", "profileName", defaultOf(text, "fd_profile"));
    assert.equal(profile.resourceGroupName, defaultOf(text, "fd_rg"));
  });

  it("dr-restore.sh: dr's read-only location on prod's backups, the namespaces it maps and the queue it empties", async () => {
    const text = script("dr-restore.sh");
    const [prod, dr] = [await rendered("prod"), await rendered("dr")];
    const location = manifests(dr, "BackupStorageLocation").find(
      (l) => l.metadata.name === defaultOf(text, "location"),
    );
    assert.equal(location?.spec.accessMode, "ReadOnly");
    assert.equal(defaultOf(text, "from_ns"), `ai-workflow-${prod.config.settings.environment}`);
    assert.equal(defaultOf(text, "to_ns"), `ai-workflow-${dr.config.settings.environment}`);
    assert.ok(manifests(dr, "Schedule").some((s) => s.metadata.name === defaultOf(text, "schedule")));
    assert.match(text, /replace_volumes=\(rabbitmq\)/);
    assert.ok(manifests(dr, "RabbitmqCluster").every((c) => c.metadata.namespace === "rabbitmq"));
  });
});
