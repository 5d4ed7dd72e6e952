import * as assert from "node:assert/strict";
import { ofType, rendered } from "../support/estate";

/** The data tier's one resource of a type (the backup layer has a storage account of its own). */
const one = (run: Awaited<ReturnType<typeof rendered>>, type: string) => {
  const found = ofType(run, type).filter((r) => r.urn.includes("aiwp:azure:Data$"));
  assert.equal(found.length, 1, type);
  return found[0].inputs as Record<string, any>;
};

describe("data tier", () => {
  it("prod: PostgreSQL 16 is zone-redundant (standby in another zone), geo-backed-up for 35 days, private", async () => {
    const pg = one(await rendered("prod"), "azure-native:dbforpostgresql:Server");
    assert.equal(pg.version, "16");
    assert.equal(pg.highAvailability.mode, "ZoneRedundant");
    assert.ok(pg.highAvailability.standbyAvailabilityZone);
    assert.notEqual(pg.highAvailability.standbyAvailabilityZone, pg.availabilityZone);
    assert.deepEqual(pg.backup, { backupRetentionDays: 35, geoRedundantBackup: "Enabled" });
    assert.equal(pg.network.publicNetworkAccess, "Disabled");
    assert.match(pg.network.delegatedSubnetResourceId, /subnets\/snet-postgres$/);
    assert.match(pg.network.privateDnsZoneArmResourceId, /\.postgres\.database\.azure\.com$/);
  });

  it("takes the administrator password from the secret, never as plain config", async () => {
    const run = await rendered("prod");
    const [server] = ofType(run, "azure-native:dbforpostgresql:Server");
    const password = server.inputs.administratorLoginPassword as unknown;
    // Secret inputs arrive wrapped with Pulumi's secret signature.
    assert.equal(typeof password, "object");
    assert.ok((password as { value: string }).value.startsWith("placeholder-postgresAdminPassword"));
  });

  it("dev: PostgreSQL without HA and with locally redundant backups", async () => {
    const pg = one(await rendered("dev"), "azure-native:dbforpostgresql:Server");
    assert.equal(pg.highAvailability.mode, "Disabled");
    assert.equal(pg.backup.geoRedundantBackup, "Disabled");
  });

  it("declares each configured database", async () => {
    const run = await rendered("prod");
    const dbs = ofType(run, "azure-native:dbforpostgresql:Database").map((d) => d.inputs.databaseName);
    assert.deepEqual(dbs, run.config.settings.data.postgres.databases);
  });

  it("prod: Azure Managed Redis with HA, zones, TLS 1.2, AOF persistence, Entra-only access and a private endpoint", async () => {
    const run = await rendered("prod");
    const redis = one(run, "azure-native:redisenterprise:RedisEnterprise");
    assert.equal(redis.highAvailability, "Enabled");
    assert.deepEqual(redis.zones, ["1", "2", "3"]);
    assert.equal(redis.minimumTlsVersion, "1.2");
    assert.equal(redis.publicNetworkAccess, "Disabled");
    const db = one(run, "azure-native:redisenterprise:Database");
    assert.deepEqual(db.persistence, { aofEnabled: true, aofFrequency: "1s", rdbEnabled: false });
    assert.equal(db.accessKeysAuthentication, "Disabled");
    const pe = ofType(run, "azure-native:network:PrivateEndpoint").find((p) => p.name.includes("-redis-"))!;
    assert.deepEqual((pe.inputs.privateLinkServiceConnections as any[])[0].groupIds, ["redisEnterprise"]);
  });

  it("dev: Redis snapshots hourly (rdb) without zones", async () => {
    const run = await rendered("dev");
    assert.equal(one(run, "azure-native:redisenterprise:RedisEnterprise").zones, undefined);
    assert.deepEqual(one(run, "azure-native:redisenterprise:Database").persistence, {
      aofEnabled: false,
      rdbEnabled: true,
      rdbFrequency: "1h",
    });
  });

  it("storage: GRS, no public blobs or shared keys, TLS 1.2, HTTPS only, cool at 90 days and archive at 365", async () => {
    const run = await rendered("prod");
    const sa = one(run, "azure-native:storage:StorageAccount");
    assert.deepEqual(sa.sku, { name: "Standard_GRS" });
    assert.equal(sa.allowBlobPublicAccess, false);
    assert.equal(sa.allowSharedKeyAccess, false);
    assert.equal(sa.minimumTlsVersion, "TLS1_2");
    assert.equal(sa.enableHttpsTrafficOnly, true);
    const policy = one(run, "azure-native:storage:ManagementPolicy");
    const blob = policy.policy.rules[0].definition.actions.baseBlob;
    assert.deepEqual(blob.tierToCool, { daysAfterModificationGreaterThan: 90 });
    assert.deepEqual(blob.tierToArchive, { daysAfterModificationGreaterThan: 365 });
    const pe = ofType(run, "azure-native:network:PrivateEndpoint").find((p) => p.name.includes("-blob-"))!;
    assert.deepEqual((pe.inputs.privateLinkServiceConnections as any[])[0].groupIds, ["blob"]);
  });

  it("prod: AI Search S1 with 3 replicas x 3 partitions, keys disabled, private", async () => {
    const search = one(await rendered("prod"), "azure-native:search:Service");
    assert.deepEqual(search.sku, { name: "standard" });
    assert.deepEqual([search.replicaCount, search.partitionCount], [3, 3]);
    assert.equal(search.disableLocalAuth, true);
    assert.equal(search.publicNetworkAccess, "Disabled");
  });

  it("exports the PostgreSQL and Redis host names", async () => {
    const { outputs } = await rendered("prod");
    assert.equal(outputs.postgresHost, "psql-aiwp-prod.postgres.database.azure.com");
    assert.equal(outputs.redisHost, "redis-aiwp-prod.eastus.redis.azure.net");
  });
});
