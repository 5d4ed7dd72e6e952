/**
 * The shape of a stack's configuration. Every object is strict: an unknown key is an error, so a typo
 * never passes silently. Defaults are not filled here but in `defaults.ts`, per environment, before parsing.
 */
import { z } from "zod";
import { ACCESS_ROLE_NAMES, DATA_RESOURCES } from "../lib/access";
import { DURATION_PATTERN } from "../lib/duration";

export const ENVIRONMENTS = ["dev", "staging", "prod", "dr"] as const;
export const STRATEGIES = ["canary", "blueGreen", "abTest", "rolling"] as const;
/** Service priority tiers; components/priorityClasses.ts maps each to its PriorityClass. */
export const SERVICE_PRIORITIES = ["revenue", "standard"] as const;

const duration = z.string().regex(DURATION_PATTERN, 'must be a duration such as "30s", "2m" or "1h"');
const cidr = z
  .string()
  .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be an IPv4 CIDR block such as 10.0.0.0/16");
const ipv4 = z.string().regex(/^\d{1,3}(\.\d{1,3}){3}$/, "must be an IPv4 address");
const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a lowercase DNS label (letters, digits, '-')");
const hostname = z
  .string()
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, "must be a lowercase DNS hostname");
const posInt = z.number().int("must be a whole number").positive("must be greater than 0");
const percent = z.number().gt(0, "must be greater than 0").max(100, "must be at most 100");
const quantity = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?$/, 'must be a Kubernetes quantity such as "500m" or "1Gi"');
const uuid = z.string().regex(/^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$/i, "must be a GUID");
const zone = z.enum(["1", "2", "3"]);

const pool = z.strictObject({
  /** VM size of the pool's nodes. */
  vmSize: z.string().min(1),
  /** Autoscaler lower bound. */
  min: posInt,
  /** Autoscaler upper bound. */
  max: posInt,
  /** Pods per node. */
  maxPods: z.number().int().min(30).max(250),
  /** OS disk size in GB. */
  osDiskSizeGb: z.number().int().min(30).max(2048),
  /** dr only: the autoscaler lower bound while `cluster.drActive` is true (prod's capacity). */
  drActiveMin: posInt.optional(),
});

export const networkSchema = z.strictObject({
  addressSpace: cidr,
  subnets: z.strictObject({
    aksNodes: cidr,
    ingress: cidr,
    privateEndpoints: cidr,
    postgres: cidr,
  }),
  podCidr: cidr,
  serviceCidr: cidr,
  dnsServiceIp: ipv4,
  natIdleTimeoutMinutes: z.number().int().min(4).max(120),
  /**
   * The other region's PostgreSQL subnets that replicate with this stack's server over global VNet peering
   * (prod lists dr's, dr lists prod's): 5432 is allowed both ways between them. Empty when nothing replicates.
   */
  peerPostgresSubnets: z.array(cidr).optional(),
});

export const clusterSchema = z.strictObject({
  kubernetesVersion: z.string().regex(/^1\.\d+(\.\d+)?$/, 'must be a Kubernetes version such as "1.33"'),
  tier: z.enum(["Free", "Standard", "Premium"]),
  zones: z.array(zone),
  upgradeChannel: z.enum(["none", "patch", "stable", "rapid", "node-image"]),
  nodeOsUpgradeChannel: z.enum(["None", "Unmanaged", "NodeImage", "SecurityPatch"]),
  maintenanceWindow: z.strictObject({
    dayOfWeek: z.enum(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]),
    startTime: z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$/, 'must be a time such as "02:00"'),
    durationHours: z.number().int().min(4, "must be at least 4 (an AKS rule)").max(24),
    utcOffset: z.string().regex(/^[+-](0[0-9]|1[0-4]):[0-5][0-9]$/, 'must be an offset such as "+00:00"'),
  }),
  apiServer: z.strictObject({
    privateCluster: z.boolean(),
    authorizedIpRanges: z.array(cidr),
  }),
  /** Entra ID groups granted Azure Kubernetes Service RBAC Cluster Admin on the cluster (required outside dev). */
  adminGroupObjectIds: z.array(uuid),
  /** Microsoft Defender for Containers sensor on the cluster (reports to the stack's Log Analytics workspace). */
  defender: z.boolean(),
  /** The Azure Policy add-on (Gatekeeper) on the cluster. */
  azurePolicy: z.boolean(),
  kubeloginMode: z.enum(["azurecli", "workloadidentity", "spn", "msi"]),
  renderYamlToDirectory: z.string().min(1).optional(),
  pools: z.strictObject({
    system: pool,
    application: pool,
    codeExecution: pool,
    memory: pool.optional(),
  }),
  logRetentionDays: z.number().int().min(30).max(730),
  /** dr only: the stack serves production (after a failover); the pools run at their `drActiveMin`. */
  drActive: z.boolean(),
});

export const edgeSchema = z.strictObject({
  customDomain: hostname,
  wafMode: z.enum(["Prevention", "Detection"]),
  rateLimitPerMinute: posInt,
  healthProbePath: z.string().startsWith("/"),
  healthProbeIntervalSeconds: z.number().int().min(5).max(255),
  /** Azure DNS zone holding customDomain (cert-manager's DNS01 challenge); default: customDomain minus its first label. */
  dnsZoneName: hostname.optional(),
  /** Resource group of that DNS zone. */
  dnsZoneResourceGroup: z.string().min(1),
  /**
   * Region of the resource group holding the Front Door profile, its WAF policy and routes: not the primary's,
   * so the edge stays manageable while that region is down. Default: drLocation in prod, location elsewhere.
   */
  location: z
    .string()
    .regex(/^[a-z][a-z0-9]+$/, 'must be an Azure region name such as "westeurope"')
    .optional(),
  /** prod only: the dr stack's ingress, reached through dr's own Private Link Service as the priority-2 origin. */
  drOrigin: z
    .strictObject({
      /** dr's AKS node resource group, where its cloud provider creates the Private Link Service. */
      nodeResourceGroup: z.string().min(1),
      /** Name of dr's ingress Private Link Service (lib/names ingressPrivateLinkServiceName of dr's prefix). */
      privateLinkServiceName: z.string().min(1),
      /** Region of dr's Private Link Service (dr's location). */
      location: z.string().regex(/^[a-z][a-z0-9]+$/, 'must be an Azure region name such as "westeurope"'),
      /** dr's internal ingress address (lib/names ingressLoadBalancerIp of dr's ingress subnet). */
      ingressAddress: ipv4,
      /** Host header and certificate name Front Door sends to dr's gateway: dr's edge.customDomain. */
      hostHeader: hostname,
      /** Subscription of the dr stack. Default: this stack's. */
      subscriptionId: uuid.optional(),
    })
    .optional(),
});

export const dataSchema = z.strictObject({
  postgres: z.strictObject({
    version: z.literal("16"),
    skuName: z.string().min(1),
    skuTier: z.enum(["Burstable", "GeneralPurpose", "MemoryOptimized"]),
    storageSizeGb: z.number().int().min(32),
    highAvailability: z.enum(["Disabled", "SameZone", "ZoneRedundant"]),
    geoRedundantBackup: z.boolean(),
    backupRetentionDays: z.number().int().min(7).max(35),
    administratorLogin: dnsLabel,
    databases: z.array(dnsLabel).min(1),
    /** dr only: prod's server, of which this stack's server is a cross-region read replica (promoted on failover). */
    replicaOf: z
      .strictObject({
        resourceGroup: z.string().min(1),
        serverName: z.string().regex(/^[a-z0-9][-a-z0-9]{1,61}[a-z0-9]$/, "must be a server name"),
        /** Region of the source server (the primary's). */
        location: z.string().regex(/^[a-z][a-z0-9]+$/, 'must be an Azure region name such as "eastus"'),
        /** The source's VNet: replication between VNet-integrated servers in two regions runs over global peering. */
        virtualNetwork: z.strictObject({ resourceGroup: z.string().min(1), name: z.string().min(2) }),
      })
      .optional(),
  }),
  redis: z.strictObject({
    sku: z
      .string()
      .regex(
        /^(Balanced|MemoryOptimized|ComputeOptimized|FlashOptimized)_[A-Z][0-9]+$/,
        'must be an Azure Managed Redis SKU such as "Balanced_B5"',
      ),
    highAvailability: z.boolean(),
    persistence: z.enum(["aof", "rdb", "none"]),
  }),
  storage: z.strictObject({
    replication: z.enum([
      "Standard_LRS",
      "Standard_ZRS",
      "Standard_GRS",
      "Standard_RAGRS",
      "Standard_GZRS",
      "Standard_RAGZRS",
    ]),
    coolAfterDays: posInt,
    archiveAfterDays: posInt,
    /** Blob containers of the application (the object replication rules copy each one). */
    containers: z.array(dnsLabel).min(1),
    /** dr only: prod's data account, whose containers object replication copies into this stack's. */
    replicateFrom: z
      .strictObject({
        resourceGroup: z.string().min(1),
        accountName: z.string().regex(/^[a-z0-9]{3,24}$/, "must be a storage account name"),
        /** Region of that account (the primary's). */
        location: z.string().regex(/^[a-z][a-z0-9]+$/, 'must be an Azure region name such as "eastus"'),
      })
      .optional(),
  }),
  search: z.strictObject({
    sku: z.enum(["basic", "standard", "standard2", "standard3"]),
    replicas: z.number().int().min(1).max(12),
    partitions: z.union([
      z.literal(1),
      z.literal(2),
      z.literal(3),
      z.literal(4),
      z.literal(6),
      z.literal(12),
    ]),
  }),
  rabbitmq: z.strictObject({
    replicas: z.number().int().min(1).max(7),
    storage: quantity,
    cpu: quantity,
    memory: quantity,
  }),
});

export const meshSchema = z.strictObject({
  istiodReplicas: posInt,
  gateway: z.strictObject({ minReplicas: posInt, maxReplicas: posInt }),
  tracingSamplePercent: z.number().min(0).max(100),
  jwt: z.strictObject({
    issuer: z.url(),
    jwksUri: z.url(),
    audiences: z.array(z.string().min(1)),
  }),
  /** Workloads allowed to accept plain-text traffic, each with the reason. */
  permissiveExceptions: z.array(
    z.strictObject({
      namespace: dnsLabel,
      workload: dnsLabel,
      /** Only this container port accepts plain text (port-level PERMISSIVE); absent: every port. */
      port: z.number().int().min(1).max(65535).optional(),
      reason: z.string().min(10, "must say why"),
    }),
  ),
});

export const alertsSchema = z.strictObject({
  errorRatePercent: percent,
  latencyP95Ms: posInt,
  latencyP99Ms: posInt,
  cpuPercent: percent,
  memoryPercent: percent,
  /** How long a canary error or latency breach lasts before it fires. */
  for: duration,
  /** How long canary replicas may stay below desired before it fires. */
  unhealthyFor: duration,
  crashLoopRestarts: posInt,
  crashLoopWindow: duration,
  /** Canary 5xx ratio above the primary's by this many percentage points. */
  errorRateMarginPercent: percent,
  /** Canary P95 above the primary's by this factor. */
  latencyFactor: z.number().gt(1, "must be greater than 1"),
  /** Observed canary traffic share this many points away from Flagger's weight. */
  trafficDeviationPercent: percent,
});

const receiverToggle = z.strictObject({ enabled: z.boolean() });

export const observabilitySchema = z.strictObject({
  prometheus: z.strictObject({
    retention: duration,
    retentionSize: z.string().regex(/^[0-9]+(GB|TB)$/, 'must be a size such as "45GB"'),
    storage: quantity,
    replicas: posInt,
    /** Default scrape interval of every target (kube-prometheus-stack `prometheusSpec.scrapeInterval`). */
    scrapeInterval: duration,
    /** Scrape interval of the mesh's request metrics (the envoy-stats PodMonitor): the canary checks read them. */
    meshScrapeInterval: duration,
    /** Rule evaluation interval (`prometheusSpec.evaluationInterval`): recording rules and alerts. */
    evaluationInterval: duration,
  }),
  alertmanager: z.strictObject({ replicas: posInt, storage: quantity }),
  grafana: z.strictObject({ replicas: posInt, storage: quantity }),
  alerts: alertsSchema,
  slo: z.strictObject({
    availabilityPercent: z.number().gt(90).lt(100),
    latencyThresholdMs: posInt,
    latencyPercent: z.number().gt(50).lt(100),
  }),
  routing: z.strictObject({
    groupWait: duration,
    groupInterval: duration,
    repeatIntervalCritical: duration,
    repeatIntervalWarning: duration,
  }),
  receivers: z.strictObject({
    slack: z.strictObject({
      enabled: z.boolean(),
      channelCritical: z.string().startsWith("#"),
      channelWarning: z.string().startsWith("#"),
    }),
    pagerduty: receiverToggle,
    email: z.strictObject({
      enabled: z.boolean(),
      to: z.array(z.email()),
      from: z.email(),
      smarthost: z.string().regex(/^[^:\s]+:\d+$/, 'must be "host:port"'),
    }),
    wechat: z.strictObject({
      enabled: z.boolean(),
      corpId: z.string(),
      agentId: z.string(),
      toParty: z.string(),
    }),
    dingtalk: receiverToggle,
    msteams: receiverToggle,
  }),
  grafanaHostname: hostname.optional(),
});

/** Flagger analysis settings; every field may be overridden per service. */
export const canarySchema = z.strictObject({
  stepWeights: z.array(z.number().int("must be whole percentages")).min(1).optional(),
  stepWeight: z.number().int().optional(),
  maxWeight: z.number().int().min(1).max(100).optional(),
  iterations: posInt.optional(),
  interval: duration,
  threshold: z.number().int("must be a whole number").min(1, "must be at least 1"),
  /** Minimum request success rate (percent) during analysis. */
  successRatePercent: percent,
  latencyP95Ms: posInt,
  latencyP99Ms: posInt,
  /** Query window of the success-rate and latency checks (the metrics' `interval`). */
  metricWindow: duration,
  /** Requests the canary must receive within metricWindow before the success-rate and latency checks judge it. */
  minRequests: posInt,
  /** The Canary's progressDeadlineSeconds: how long an unready canary is waited for before it rolls back. */
  progressDeadlineSeconds: z.number().int().min(10, "must be at least 10"),
  /** Expected time for a new pod to become Ready (image pull, start-up, readiness), for the rollout plan. */
  podReadySeconds: posInt,
  /** Hold per canary weight ("5": "12h"): the weight is kept at least this long before the next step. */
  holds: z.record(z.string().regex(/^[0-9]+$/, 'must be a canary weight such as "5"'), duration).optional(),
  /** Blue-green only: mirror this percentage of live traffic to the new version during its iterations. */
  mirrorWeight: percent.optional(),
});

export const deliverySchema = z.strictObject({
  canary: canarySchema.extend({
    /** The stack's rollback budget: worst-case rollback of every service must fit. */
    maxRollbackSeconds: posInt,
  }),
  loadTest: z.strictObject({
    enabled: z.boolean(),
    requestsPerSecond: posInt,
    concurrency: posInt,
    /** Client id of the load tester's app registration (client-credentials token for `auth` smoke paths). */
    tokenClientId: uuid.optional(),
  }),
  acceptanceTest: z.strictObject({ enabled: z.boolean() }),
  slackChannel: z.string().startsWith("#").optional(),
});

const resourcePair = z.strictObject({ request: quantity, limit: quantity });

export const serviceSchema = z.strictObject({
  image: z
    .string()
    .regex(/^[a-z0-9]+([._/-][a-z0-9]+)*$/, 'must be a repository path such as "aiwp/api-gateway"'),
  tag: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, "must be an image tag")
    .refine((t) => t !== "latest", "must be pinned: 'latest' is not allowed"),
  /** Content digest of the image (`sha256:<64 hex>`); when set, pods pull `<image>:<tag>@<digest>`. */
  digest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, 'must be an image digest "sha256:" followed by 64 lowercase hex digits')
    .optional(),
  /** Scheduling priority: `revenue` for the request path users pay for, `standard` otherwise. */
  priority: z.enum(SERVICE_PRIORITIES),
  /** The access matrix: Azure data resources the service calls and the role its workload identity needs on each. */
  access: z.array(z.strictObject({ resource: z.enum(DATA_RESOURCES), role: z.enum(ACCESS_ROLE_NAMES) })),
  strategy: z.enum(STRATEGIES),
  replicas: z.strictObject({ min: posInt, max: posInt }),
  resources: z.strictObject({ cpu: resourcePair, memory: resourcePair }),
  route: z.string().startsWith("/", "must be a path starting with /"),
  /** Whether the ingress gateway routes `route` to this service from outside the mesh. */
  exposed: z.boolean(),
  port: z.number().int().min(1024).max(65535),
  pool: z.enum(["application", "codeExecution"]),
  autoscaler: z.enum(["hpa", "keda"]),
  /** Owning team: alerts carry it as the `team` label and Alertmanager routes by it. */
  team: dnsLabel,
  /** RabbitMQ queue and backlog per replica, when `autoscaler` is keda. */
  queue: z.strictObject({ name: dnsLabel, messagesPerReplica: posInt }).optional(),
  /** Other services allowed to call this one (mesh AuthorizationPolicy); the gateway is implied for routed services. */
  callers: z.array(dnsLabel),
  /** Methods and paths the callers may use; empty means any. */
  allowedPaths: z.array(
    z.strictObject({
      methods: z.array(z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"])),
      paths: z.array(z.string()),
    }),
  ),
  /** Read-only requests the acceptance and load webhooks send to the canary; `auth` sends the load tester's bearer token. */
  smokePaths: z
    .array(
      z.strictObject({
        path: z.string().startsWith("/", "must be a path starting with /"),
        auth: z.boolean(),
      }),
    )
    .min(1, "must list at least one path the new version really serves"),
  canary: canarySchema.partial(),
});

export const backupSchema = z.strictObject({
  rpoMinutes: posInt,
  hourlySchedule: z.string().min(9),
  hourlyTtl: duration,
  hourlyNamespaces: z.array(dnsLabel).min(1),
  dailySchedule: z.string().min(9),
  dailyTtl: duration,
  storageReplication: z.enum(["Standard_GRS", "Standard_RAGRS", "Standard_GZRS", "Standard_RAGZRS"]),
  /** Azure region of the backup storage account (absent: the stack's); prod keeps it in its dr region so the backups outlive the primary. */
  location: z
    .string()
    .regex(/^[a-z][a-z0-9]+$/, 'must be an Azure region name such as "westeurope"')
    .optional(),
  /** How volume data is backed up: Kopia file-system backup through the node agent, or Azure disk snapshots (same region only). */
  volumes: z.enum(["fsBackup", "snapshot"]),
  /** Days a deleted or overwritten backup blob stays recoverable (blob soft delete and versions). */
  softDeleteDays: z.number().int().min(7).max(365),
  /** A dr stack restores from this storage account (prod's), read-only. */
  restoreFrom: z
    .strictObject({
      resourceGroup: z.string().min(1),
      storageAccount: z.string().regex(/^[a-z0-9]{3,24}$/),
      container: dnsLabel,
      /** Azure region of that account: it must be readable while the primary region is down. */
      location: z.string().regex(/^[a-z][a-z0-9]+$/, 'must be an Azure region name such as "westeurope"'),
    })
    .optional(),
});

export const settingsSchema = z.strictObject({
  environment: z.enum(ENVIRONMENTS),
  location: z.string().regex(/^[a-z][a-z0-9]+$/, 'must be an Azure region name such as "eastus"'),
  drLocation: z.string().regex(/^[a-z][a-z0-9]+$/, 'must be an Azure region name such as "westeurope"'),
  prefix: z.string().regex(/^[a-z][a-z0-9]{1,7}$/, "must be 2-8 lowercase letters and digits"),
  tags: z.record(z.string().min(1), z.string()),
  network: networkSchema,
  cluster: clusterSchema,
  edge: edgeSchema,
  data: dataSchema,
  mesh: meshSchema,
  observability: observabilitySchema,
  delivery: deliverySchema,
  services: z.record(dnsLabel, serviceSchema),
  backup: backupSchema,
  registry: z.strictObject({
    /**
     * dr only: pull from prod's geo-replicated registry (its replica in this region) through a private endpoint
     * of this VNet, instead of a registry of its own that nothing fills.
     */
    pullFrom: z
      .strictObject({
        resourceGroup: z.string().min(1),
        registryName: z
          .string()
          .regex(/^[a-z0-9]{5,50}$/, "must be a registry name (5-50 lowercase letters and digits)"),
        /** Subscription of that registry. Default: this stack's. */
        subscriptionId: uuid.optional(),
      })
      .optional(),
  }),
});

export type Environment = (typeof ENVIRONMENTS)[number];
export type Settings = z.infer<typeof settingsSchema>;
export type NetworkSettings = Settings["network"];
export type ClusterSettings = Settings["cluster"];
export type PoolSettings = z.infer<typeof pool>;
export type EdgeSettings = Settings["edge"];
export type DataSettings = Settings["data"];
export type MeshSettings = Settings["mesh"];
export type ObservabilitySettings = Settings["observability"];
export type AlertSettings = Settings["observability"]["alerts"];
export type DeliverySettings = Settings["delivery"];
export type CanarySettings = z.infer<typeof canarySchema>;
export type ServiceSettings = z.infer<typeof serviceSchema>;
export type BackupSettings = Settings["backup"];
