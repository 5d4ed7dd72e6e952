import * as assert from "node:assert/strict";
import { manifest, manifests, ofType, rendered, renderWith } from "../support/estate";

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
    assert.deepEqual(dbs.sort(), [...run.config.settings.data.postgres.databases].sort());
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

describe("data tier in dr: standing copies of prod's data", () => {
  it("PostgreSQL is a cross-region read replica of prod's server, in dr's subnet, without HA or its own databases", async () => {
    const run = await rendered("dr");
    const pg = one(run, "azure-native:dbforpostgresql:Server");
    assert.equal(pg.createMode, "Replica");
    assert.match(
      pg.sourceServerResourceId,
      /\/resourceGroups\/rg-aiwp-prod-data\/providers\/Microsoft\.DBforPostgreSQL\/flexibleServers\/psql-aiwp-prod$/,
    );
    assert.equal(pg.location, "westeurope");
    // Replicas support neither HA nor backups until promoted (Azure read replicas: unsupported features), and
    // inherit the source's administrator.
    assert.equal(pg.highAvailability.mode, "Disabled");
    assert.equal(pg.backup, undefined);
    assert.equal(pg.administratorLogin, undefined);
    assert.equal(pg.administratorLoginPassword, undefined);
    assert.equal(pg.storage.autoGrow, "Enabled");
    assert.match(pg.network.delegatedSubnetResourceId, /subnets\/snet-postgres$/);
    assert.deepEqual(ofType(run, "azure-native:dbforpostgresql:Database"), []);
  });

  it("dr's VNet and prod's are peered both ways, both halves declared by dr", async () => {
    const run = await rendered("dr");
    const peerings = ofType(run, "azure-native:network:VirtualNetworkPeering").map(
      (p) => p.inputs as Record<string, any>,
    );
    const pairs = peerings.map(
      (p) => `${p.virtualNetworkName}->${String(p.remoteVirtualNetwork.id).split("/").at(-1)}`,
    );
    assert.deepEqual(pairs.sort(), ["vnet-aiwp-dr->vnet-aiwp-prod", "vnet-aiwp-prod->vnet-aiwp-dr"]);
    for (const p of peerings) assert.equal(p.allowVirtualNetworkAccess, true);
    // prod declares none of its own: the dr stack owns both halves.
    assert.deepEqual(ofType(await rendered("prod"), "azure-native:network:VirtualNetworkPeering"), []);
  });

  it("prod's containers are object-replicated into dr's account, the policy declared on both ends", async () => {
    const run = await rendered("dr");
    const policies = ofType(run, "azure-native:storage:ObjectReplicationPolicy");
    assert.equal(policies.length, 2);
    const [destination, source] = ["staiwpdrdata", "staiwpproddata"].map(
      (account) => policies.find((p) => p.inputs.accountName === account)!.inputs as Record<string, any>,
    );
    assert.equal(destination.objectReplicationPolicyId, "default");
    assert.match(destination.sourceAccount, /\/storageAccounts\/staiwpproddata$/);
    assert.deepEqual(
      destination.rules.map((r: any) => r.sourceContainer),
      run.config.settings.data.storage.containers,
    );
    assert.equal(source.resourceGroupName, "rg-aiwp-prod-data");
    // Both ends need versioning, the source its change feed.
    for (const stack of ["prod", "dr"] as const) {
      const blob = ofType(await rendered(stack), "azure-native:storage:BlobServiceProperties").find((b) =>
        String(b.inputs.accountName).endsWith("data"),
      )!.inputs as Record<string, any>;
      assert.equal(blob.isVersioningEnabled, true, stack);
      assert.equal(blob.changeFeed.enabled, true, stack);
    }
  });

  it("cluster.drActive: pools at prod's minimums, the promoted server zone-redundant, dr's containers writable", async () => {
    const active = await renderWith("dr", (c) => (c["aiwp-estate:cluster"].drActive = true));
    const pools = Object.fromEntries(
      ofType(active, "azure-native:containerservice:AgentPool").map((p) => [
        p.inputs.agentPoolName,
        p.inputs.minCount,
      ]),
    );
    const prod = await rendered("prod");
    const prodPools = Object.fromEntries(
      ofType(prod, "azure-native:containerservice:AgentPool").map((p) => [
        p.inputs.agentPoolName,
        p.inputs.minCount,
      ]),
    );
    assert.deepEqual(pools, prodPools);
    const pg = one(active, "azure-native:dbforpostgresql:Server");
    assert.equal(pg.highAvailability.mode, "ZoneRedundant");
    assert.deepEqual(ofType(active, "azure-native:storage:ObjectReplicationPolicy"), []);
    // The cold standby itself runs below prod's capacity.
    const standby = ofType(await rendered("dr"), "azure-native:containerservice:AgentPool");
    assert.ok(
      standby.every(
        (p) => (p.inputs.minCount as number) < (prodPools[p.inputs.agentPoolName as string] as number),
      ),
    );
  });

  it("every service reads its stack's own data endpoints from the data-endpoints ConfigMap", async () => {
    for (const stack of ["prod", "dr"] as const) {
      const run = await rendered(stack);
      const env = stack === "prod" ? "prod" : "dr";
      const endpoints = manifest(run, "ConfigMap", "data-endpoints", `ai-workflow-${env}`).data;
      assert.equal(endpoints.POSTGRES_HOST, `psql-aiwp-${env}.postgres.database.azure.com`);
      assert.equal(endpoints.BLOB_ENDPOINT, `https://staiwp${env}data.blob.core.windows.net`);
      assert.match(endpoints.REDIS_HOST, new RegExp(`^redis-aiwp-${env}\\.`));
      assert.equal(endpoints.SEARCH_ENDPOINT, `https://srch-aiwp-${env}.search.windows.net`);
      assert.match(endpoints.KEY_VAULT_URI, new RegExp(`^https://kv-aiwp-${env}\\.vault\\.azure\\.net`));
      const deployments = manifests(run, "Deployment").filter(
        (d) => d.metadata.namespace === `ai-workflow-${env}`,
      );
      assert.ok(deployments.length >= 8);
      for (const d of deployments) {
        const app = d.spec.template.spec.containers[0];
        assert.ok(
          (app.envFrom ?? []).some((e: any) => e.configMapRef?.name === "data-endpoints"),
          `${stack} ${d.metadata.name}`,
        );
      }
    }
  });
});
