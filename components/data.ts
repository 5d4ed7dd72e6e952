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
    this.postgres = new dbforpostgresql.Server(
      `${name}-postgres`,
      {
        resourceGroupName,
        location,
        serverName: `psql-${args.prefix}`,
        version: pg.version,
        sku: { name: pg.skuName, tier: pg.skuTier },
        storage: { storageSizeGB: pg.storageSizeGb, autoGrow: "Enabled" },
        administratorLogin: pg.administratorLogin,
        administratorLoginPassword: args.postgresAdminPassword,
        authConfig: { passwordAuth: "Enabled", activeDirectoryAuth: "Enabled", tenantId: args.tenantId },
        availabilityZone: args.zones[0],
        highAvailability: postgresHighAvailability(pg.highAvailability, args.zones),
        backup: {
          backupRetentionDays: pg.backupRetentionDays,
          geoRedundantBackup: pg.geoRedundantBackup ? "Enabled" : "Disabled",
        },
        network: {
          delegatedSubnetResourceId: args.postgresSubnetId,
          privateDnsZoneArmResourceId: args.privateDnsZoneIds.postgres,
          publicNetworkAccess: "Disabled",
        },
        tags,
      },
      { parent: this },
    );
    for (const database of pg.databases) {
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
