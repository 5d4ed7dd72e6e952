import * as pulumi from "@pulumi/pulumi";
import * as dbforpostgresql from "@pulumi/azure-native/dbforpostgresql";
import * as redisenterprise from "@pulumi/azure-native/redisenterprise";
import * as search from "@pulumi/azure-native/search";
import * as storage from "@pulumi/azure-native/storage";
import type { DataSettings, Environment } from "../settings";
import { privateEndpoint } from "./privateEndpoint";

/** Storage account names are global, 3-24 lowercase letters and digits. */
export function storageAccountName(prefix: string): string {
  return `st${prefix.replace(/[^a-z0-9]/g, "")}data`.slice(0, 24);
}

/** PostgreSQL high availability: the standby goes to the second zone of the stack when zone-redundant. */
export function postgresHighAvailability(
  mode: DataSettings["postgres"]["highAvailability"],
  zones: string[],
): { mode: string; standbyAvailabilityZone?: string } {
  if (mode === "ZoneRedundant") {
    if (zones.length < 2)
      throw new Error("data.postgres.highAvailability ZoneRedundant needs at least two zones");
    return { mode, standbyAvailabilityZone: zones[1] };
  }
  return { mode };
}

/** Redis persistence from settings: append-only file every second, or a snapshot every hour. */
export function redisPersistence(
  mode: DataSettings["redis"]["persistence"],
): redisenterprise.DatabaseArgs["persistence"] {
  switch (mode) {
    case "aof":
      return { aofEnabled: true, aofFrequency: "1s", rdbEnabled: false };
    case "rdb":
      return { aofEnabled: false, rdbEnabled: true, rdbFrequency: "1h" };
    case "none":
      return { aofEnabled: false, rdbEnabled: false };
  }
}

/** The lifecycle rule: block blobs go cool, then archive, by days since last modification. */
export function lifecycleRule(s: DataSettings["storage"]) {
  return {
    name: "tier-down",
    enabled: true,
    type: "Lifecycle",
    definition: {
      filters: { blobTypes: ["blockBlob"] },
      actions: {
        baseBlob: {
          tierToCool: { daysAfterModificationGreaterThan: s.coolAfterDays },
          tierToArchive: { daysAfterModificationGreaterThan: s.archiveAfterDays },
        },
      },
    },
  };
}

export interface DataArgs {
  /** Name prefix, "<prefix>-<env>". */
  prefix: string;
  /** Which environment (Redis zones in prod). */
  environment: Environment;
  /** Resource group of the data tier. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  location: string;
  /** Availability zones of the stack (PostgreSQL primary/standby placement). */
  zones: string[];
  /** The stack's data settings. */
  settings: DataSettings;
  /** PostgreSQL administrator password (the postgresAdminPassword secret). */
  postgresAdminPassword: pulumi.Input<string>;
  /** Entra ID tenant (Entra authentication on PostgreSQL). */
  tenantId: pulumi.Input<string>;
  /** The delegated PostgreSQL subnet. */
  postgresSubnetId: pulumi.Input<string>;
  /** The private endpoints subnet. */
  privateEndpointSubnetId: pulumi.Input<string>;
  /** Private DNS zone ids: postgres (VNet integration), redis, blob, search. */
  privateDnsZoneIds: {
    postgres: pulumi.Input<string>;
    redis: pulumi.Input<string>;
    blob: pulumi.Input<string>;
    search: pulumi.Input<string>;
  };
  /** Tags of every resource. */
  tags: Record<string, string>;
  /** Subscription of the stack (the replica's source server is in the same one). */
  subscriptionId?: pulumi.Input<string>;
  /** dr only: the stack serves production, so its promoted replica runs with the stack's high availability. */
  drActive?: boolean;
}

/**
 * ARM id of the server a dr stack replicates (`data.postgres.replicaOf`): prod's Flexible Server in its region.
 */
export function replicaSourceId(
  subscriptionId: pulumi.Input<string>,
  replicaOf: NonNullable<DataSettings["postgres"]["replicaOf"]>,
): pulumi.Output<string> {
  return pulumi.interpolate`/subscriptions/${subscriptionId}/resourceGroups/${replicaOf.resourceGroup}/providers/Microsoft.DBforPostgreSQL/flexibleServers/${replicaOf.serverName}`;
}

/**
 * The data tier, all private: PostgreSQL Flexible Server 16 in its delegated subnet, Azure Managed Redis,
 * a GRS storage account with a lifecycle policy, and Azure AI Search.
 */
export class Data extends pulumi.ComponentResource {
  public readonly postgres: dbforpostgresql.Server;
  public readonly postgresHost: pulumi.Output<string>;
  public readonly postgresId: pulumi.Output<string>;
  public readonly redisHost: pulumi.Output<string>;
  public readonly redisId: pulumi.Output<string>;
  /** Redis listens on 10000 (TLS). */
  public readonly redisPort: number;
  public readonly storageAccountName: pulumi.Output<string>;
  public readonly storageAccountId: pulumi.Output<string>;
  public readonly searchEndpoint: pulumi.Output<string>;
  public readonly searchId: pulumi.Output<string>;

  constructor(name: string, args: DataArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:Data", name, {}, opts);
    const { resourceGroupName, location, tags, settings: s } = args;
    const pe = (
      suffix: string,
      targetId: pulumi.Input<string>,
      groupId: string,
      zone: pulumi.Input<string>,
    ) =>
      privateEndpoint(
        `${name}-${suffix}-pe`,
        {
          resourceGroupName,
          location,
          subnetId: args.privateEndpointSubnetId,
          targetId,
          groupId,
          privateDnsZoneId: zone,
          tags,
        },
        this,
      );

    // PostgreSQL
    const pg = s.postgres;
    const network = {
      delegatedSubnetResourceId: args.postgresSubnetId,
      privateDnsZoneArmResourceId: args.privateDnsZoneIds.postgres,
      publicNetworkAccess: "Disabled",
    };
    const common = {
      resourceGroupName,
      location,
      serverName: `psql-${args.prefix}`,
      version: pg.version,
      sku: { name: pg.skuName, tier: pg.skuTier },
      // A replica's autogrow must match its source's (Azure read-replica docs, "Storage autogrow").
      storage: { storageSizeGB: pg.storageSizeGb, autoGrow: "Enabled" },
      authConfig: { passwordAuth: "Enabled", activeDirectoryAuth: "Enabled", tenantId: args.tenantId },
      availabilityZone: args.zones[0],
      network,
      tags,
    };
    if (pg.replicaOf) {
      if (!args.subscriptionId)
        throw new Error("data.postgres.replicaOf: the Data component needs subscriptionId");
      // A cross-region read replica of prod's server in this stack's VNet and private zone: asynchronous streaming
      // replication (lag of seconds to minutes), promoted to a standalone server on failover. It inherits the
      // source's administrator, roles and databases; replicas take no backups and no high availability until
      // promoted (Azure "Read replicas": unsupported features), so both follow cluster.drActive.
      this.postgres = new dbforpostgresql.Server(
        `${name}-postgres`,
        {
          ...common,
          createMode: "Replica",
          sourceServerResourceId: replicaSourceId(args.subscriptionId, pg.replicaOf),
          highAvailability: args.drActive
            ? postgresHighAvailability(pg.highAvailability, args.zones)
            : { mode: "Disabled" },
        },
        // Promotion detaches the server from its source: Azure then reports no source, which must not replace it.
        { parent: this, protect: true, ignoreChanges: ["createMode", "sourceServerResourceId"] },
      );
    } else {
      this.postgres = new dbforpostgresql.Server(
        `${name}-postgres`,
        {
          ...common,
          administratorLogin: pg.administratorLogin,
          administratorLoginPassword: args.postgresAdminPassword,
          highAvailability: postgresHighAvailability(pg.highAvailability, args.zones),
          backup: {
            backupRetentionDays: pg.backupRetentionDays,
            geoRedundantBackup: pg.geoRedundantBackup ? "Enabled" : "Disabled",
          },
        },
        { parent: this },
      );
    }
    // A replica's databases are its source's.
    for (const database of pg.replicaOf ? [] : pg.databases) {
      new dbforpostgresql.Database(
        `${name}-db-${database}`,
        {
          resourceGroupName,
          serverName: this.postgres.name,
          databaseName: database,
          charset: "UTF8",
          collation: "en_US.utf8",
        },
        { parent: this },
      );
    }

    // Azure Managed Redis
    const redis = new redisenterprise.RedisEnterprise(
      `${name}-redis`,
      {
        resourceGroupName,
        location,
        clusterName: `redis-${args.prefix}`,
        sku: { name: s.redis.sku },
        highAvailability: s.redis.highAvailability ? "Enabled" : "Disabled",
        minimumTlsVersion: "1.2",
        publicNetworkAccess: "Disabled",
        zones: args.environment === "prod" && args.zones.length > 0 ? args.zones : undefined,
        tags,
      },
      { parent: this },
    );
    new redisenterprise.Database(
      `${name}-redis-db`,
      {
        resourceGroupName,
        clusterName: redis.name,
        databaseName: "default",
        clientProtocol: "Encrypted",
        port: 10000,
        clusteringPolicy: "OSSCluster",
        evictionPolicy: "NoEviction",
        // Entra ID only: services authenticate with their workload identities.
        accessKeysAuthentication: "Disabled",
        persistence: redisPersistence(s.redis.persistence),
      },
      { parent: this },
    );
    pe("redis", redis.id, "redisEnterprise", args.privateDnsZoneIds.redis);

    // Storage
    const account = new storage.StorageAccount(
      `${name}-storage`,
      {
        resourceGroupName,
        location,
        accountName: storageAccountName(args.prefix),
        kind: "StorageV2",
        sku: { name: s.storage.replication },
        accessTier: "Hot",
        allowBlobPublicAccess: false,
        allowSharedKeyAccess: false,
        defaultToOAuthAuthentication: true,
        enableHttpsTrafficOnly: true,
        minimumTlsVersion: "TLS1_2",
        publicNetworkAccess: "Disabled",
        networkRuleSet: { defaultAction: "Deny", bypass: "AzureServices" },
        tags,
      },
      { parent: this },
    );
    new storage.ManagementPolicy(
      `${name}-storage-lifecycle`,
      {
        resourceGroupName,
        accountName: account.name,
        managementPolicyName: "default",
        policy: { rules: [lifecycleRule(s.storage)] },
      },
      { parent: this },
    );
    pe("blob", account.id, "blob", args.privateDnsZoneIds.blob);
    // Versioning and the change feed: what object replication needs on both ends (Azure "Object replication for
    // block blobs", prerequisites); versions and soft delete also undo an overwrite or a deletion.
    const blobService = new storage.BlobServiceProperties(
      `${name}-storage-blob-service`,
      {
        resourceGroupName,
        accountName: account.name,
        blobServicesName: "default",
        isVersioningEnabled: true,
        changeFeed: { enabled: true, retentionInDays: 7 },
        deleteRetentionPolicy: { enabled: true, days: 14 },
        containerDeleteRetentionPolicy: { enabled: true, days: 14 },
      },
      { parent: this },
    );
    const containers = s.storage.containers.map(
      (container) =>
        new storage.BlobContainer(
          `${name}-storage-${container}`,
          { resourceGroupName, accountName: account.name, containerName: container, publicAccess: "None" },
          { parent: this, dependsOn: [blobService] },
        ),
    );
    const source = s.storage.replicateFrom;
    if (source && !args.drActive) {
      if (!args.subscriptionId)
        throw new Error("data.storage.replicateFrom: the Data component needs subscriptionId");
      const sourceId = pulumi.interpolate`/subscriptions/${args.subscriptionId}/resourceGroups/${source.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${source.accountName}`;
      const rules = s.storage.containers.map((c) => ({ sourceContainer: c, destinationContainer: c }));
      // Asynchronous copy of every new or changed block blob of prod's containers into this account's (minutes
      // behind, no SLA); the destination containers are read-only while the policy exists. The policy is made on
      // the destination first, then on the source with the id and rule ids Azure assigned.
      const destination = new storage.ObjectReplicationPolicy(
        `${name}-storage-replication`,
        {
          resourceGroupName,
          accountName: account.name,
          objectReplicationPolicyId: "default",
          sourceAccount: sourceId,
          destinationAccount: account.id,
          rules,
          metrics: { enabled: true },
        },
        { parent: this, dependsOn: containers },
      );
      // The source half lives on prod's account, in the primary region: when cluster.drActive drops the policy,
      // Pulumi forgets it without calling East US (retainOnDelete), and removes the destination half above,
      // which makes this stack's containers writable.
      new storage.ObjectReplicationPolicy(
        `${name}-storage-replication-source`,
        {
          resourceGroupName: source.resourceGroup,
          accountName: source.accountName,
          objectReplicationPolicyId: destination.policyId,
          sourceAccount: sourceId,
          destinationAccount: account.id,
          rules: destination.rules.apply((assigned) =>
            (assigned ?? []).map((r) => ({
              ruleId: r.ruleId,
              sourceContainer: r.sourceContainer,
              destinationContainer: r.destinationContainer,
            })),
          ),
          metrics: { enabled: true },
        },
        { parent: this, retainOnDelete: true },
      );
    }

    // Azure AI Search
    const searchService = new search.Service(
      `${name}-search`,
      {
        resourceGroupName,
        location,
        searchServiceName: `srch-${args.prefix}`,
        sku: { name: s.search.sku },
        replicaCount: s.search.replicas,
        partitionCount: s.search.partitions,
        publicNetworkAccess: "Disabled",
        disableLocalAuth: true,
        tags,
      },
      { parent: this },
    );
    pe("search", searchService.id, "searchService", args.privateDnsZoneIds.search);

    this.postgresHost = this.postgres.fullyQualifiedDomainName;
    this.postgresId = this.postgres.id;
    this.redisHost = redis.hostName;
    this.redisId = redis.id;
    this.redisPort = 10000;
    this.storageAccountName = account.name;
    this.storageAccountId = account.id;
    this.searchEndpoint = searchService.name.apply((n) => `https://${n}.search.windows.net`);
    this.searchId = searchService.id;
    this.registerOutputs({
      postgresHost: this.postgresHost,
      postgresId: this.postgresId,
      redisHost: this.redisHost,
      redisId: this.redisId,
      redisPort: this.redisPort,
      storageAccountName: this.storageAccountName,
      storageAccountId: this.storageAccountId,
      searchEndpoint: this.searchEndpoint,
      searchId: this.searchId,
    });
  }
}
