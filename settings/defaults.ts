/**
 * Per-environment defaults. A stack file only needs to say what differs; whatever it says is merged over
 * these (objects key by key, arrays replaced whole) before the result is validated.
 */
import type { Environment } from "./schema";
import { CATALOGUE } from "./catalogue";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

const isProdLike = (env: Environment) => env === "prod" || env === "dr";

function pool(vmSize: string, min: number, max: number) {
  return { vmSize, min, max, maxPods: 110, osDiskSizeGb: 128 };
}

/** Replicas per environment: prod figures from the catalogue, staging half, dev one, dr the prod minimum. */
function replicasFor(env: Environment, prodReplicas: number): { min: number; max: number } {
  switch (env) {
    case "prod":
      return { min: prodReplicas, max: prodReplicas * 4 };
    case "dr":
      return { min: 2, max: prodReplicas * 4 };
    case "staging":
      return { min: Math.max(2, Math.ceil(prodReplicas / 2)), max: prodReplicas * 2 };
    case "dev":
      return { min: 1, max: 2 };
  }
}

/** Read-only requests each service really serves, for the acceptance and load webhooks (bearer token where `auth`). */
const SMOKE_PATHS: Record<string, { path: string; auth: boolean }[]> = {
  "api-gateway": [{ path: "/api/personas", auth: true }],
  "auth-service": [
    { path: "/api/auth/.well-known/openid-configuration", auth: false },
    { path: "/api/auth/userinfo", auth: true },
  ],
  "agent-service": [{ path: "/api/agents", auth: true }],
  "persona-service": [{ path: "/api/personas", auth: true }],
  "code-execution-service": [{ path: "/api/code-execution/runtimes", auth: true }],
  "text-to-sql-service": [{ path: "/api/sql/schemas", auth: true }],
  "knowledge-base-service": [{ path: "/api/knowledge/collections", auth: true }],
  "workflow-service": [{ path: "/api/workflows", auth: true }],
};

function servicesFor(env: Environment): JsonObject {
  const services: JsonObject = {};
  for (const [name, entry] of Object.entries(CATALOGUE)) {
    services[name] = {
      image: `aiwp/${name}`,
      tag: "1.0.0",
      strategy: entry.strategy,
      replicas: replicasFor(env, entry.replicas),
      resources: {
        cpu: { request: entry.cpu[0], limit: entry.cpu[1] },
        memory: { request: entry.memory[0], limit: entry.memory[1] },
      },
      route: entry.route,
      exposed: entry.exposed,
      port: 8080,
      pool: entry.pool,
      autoscaler: entry.autoscaler,
      team: entry.team,
      priority: entry.priority,
      access: entry.access.map((a) => ({ resource: a.resource, role: a.role })),
      callers: entry.callers,
      allowedPaths: [],
      smokePaths: SMOKE_PATHS[name] ?? [{ path: entry.route, auth: true }],
      canary: {},
    };
  }
  // Blue-green and A/B run a fixed number of checks rather than traffic steps.
  // Authentication fronts every request: its blue-green switch runs the strictest checks (ESTATE section 1 targets).
  // Its success check is 99%, ten times the steady-state error target: a 99.9% check fails about one window
  // in two at the target itself (README, delivery). No mirroring: a mirrored refresh or login would replay a
  // one-time token against the new version; the webhooks call its real read paths with a real token instead.
  (services["auth-service"] as JsonObject).canary = {
    iterations: env === "dev" ? 3 : 5,
    successRatePercent: 99,
    latencyP95Ms: 300,
    latencyP99Ms: 500,
  };
  (services["agent-service"] as JsonObject).canary = { iterations: env === "dev" ? 3 : 5 };
  (services["code-execution-service"] as JsonObject).allowedPaths = [
    { methods: ["POST"], paths: ["/api/code-execution/execute"] },
  ];
  (services["workflow-service"] as JsonObject).queue = { name: "workflow-tasks", messagesPerReplica: 20 };
  return services;
}

export function defaultsFor(env: Environment): JsonObject {
  const prodLike = isProdLike(env);
  const zoned = env !== "dev";
  return {
    prefix: "aiwp",
    drLocation: env === "dr" ? "eastus" : "westeurope",
    tags: { owner: "platform-team", "cost-center": "ai-platform" },
    network: {
      natIdleTimeoutMinutes: 10,
      podCidr: "192.168.0.0/16",
      serviceCidr: "172.16.0.0/16",
      dnsServiceIp: "172.16.0.10",
    },
    cluster: {
      kubernetesVersion: "1.33",
      tier: env === "dev" ? "Free" : "Standard",
      zones: zoned ? ["1", "2", "3"] : [],
      upgradeChannel: "patch",
      nodeOsUpgradeChannel: "NodeImage",
      maintenanceWindow: { dayOfWeek: "Sunday", startTime: "02:00", durationHours: 4, utcOffset: "+00:00" },
      apiServer: { privateCluster: false, authorizedIpRanges: [] },
      adminGroupObjectIds: [],
      // Microsoft Defender for Containers and the Azure Policy add-on (mspnp/aks-baseline) outside dev.
      defender: env !== "dev",
      azurePolicy: env !== "dev",
      kubeloginMode: "azurecli",
      logRetentionDays: prodLike ? 90 : 30,
      drActive: false,
      pools: {
        system: pool("Standard_D4s_v5", prodLike ? 3 : zoned ? 3 : 1, 5),
        // dr runs at prod's minimums (drActiveMin) once it serves production (cluster.drActive).
        application: {
          ...pool(
            env === "dev" ? "Standard_D4s_v5" : "Standard_D8s_v5",
            env === "prod" ? 5 : env === "staging" ? 3 : 1,
            env === "prod" || env === "dr" ? 20 : env === "staging" ? 10 : 4,
          ),
          ...(env === "dr" ? { drActiveMin: 5 } : {}),
        },
        codeExecution: {
          ...pool(
            env === "dev" ? "Standard_D4s_v5" : "Standard_D8s_v5",
            env === "prod" ? 3 : env === "staging" ? 2 : 1,
            env === "prod" || env === "dr" ? 15 : env === "staging" ? 8 : 3,
          ),
          ...(env === "dr" ? { drActiveMin: 3 } : {}),
        },
      },
    },
    edge: {
      wafMode: env === "dev" ? "Detection" : "Prevention",
      rateLimitPerMinute: env === "dev" ? 600 : 3000,
      healthProbePath: "/health/ready",
      healthProbeIntervalSeconds: 30,
      dnsZoneResourceGroup: "rg-aiwp-dns",
    },
    data: {
      postgres: {
        version: "16",
        skuName:
          env === "dev" ? "Standard_B2ms" : env === "staging" ? "Standard_D2ds_v5" : "Standard_D4ds_v5",
        skuTier: env === "dev" ? "Burstable" : "GeneralPurpose",
        storageSizeGb: env === "dev" ? 64 : 256,
        highAvailability: env === "dev" ? "Disabled" : "ZoneRedundant",
        geoRedundantBackup: env !== "dev",
        backupRetentionDays: env === "dev" ? 7 : 35,
        administratorLogin: "aiwpadmin",
        databases: ["workflows", "agents", "auth"],
      },
      redis: {
        sku: env === "dev" ? "Balanced_B1" : env === "staging" ? "Balanced_B3" : "Balanced_B5",
        highAvailability: env !== "dev",
        persistence: env === "dev" ? "rdb" : "aof",
      },
      storage: {
        replication: "Standard_GRS",
        coolAfterDays: 90,
        archiveAfterDays: 365,
        containers: ["documents", "artifacts"],
      },
      search: {
        sku: env === "dev" ? "basic" : "standard",
        replicas: env === "prod" ? 3 : env === "dev" ? 1 : 2,
        partitions: env === "prod" ? 3 : 1,
      },
      rabbitmq: {
        replicas: env === "dev" ? 1 : 3,
        storage: env === "dev" ? "8Gi" : "50Gi",
        cpu: "1",
        memory: "2Gi",
      },
    },
    mesh: {
      istiodReplicas: env === "dev" ? 1 : 2,
      gateway: { minReplicas: env === "dev" ? 1 : 3, maxReplicas: env === "dev" ? 2 : 10 },
      tracingSamplePercent: env === "dev" ? 100 : env === "staging" ? 10 : 1,
      // Port-level plain text where a client without a sidecar must reach a meshed server (lib/wiring/cluster.ts
      // checks every such flow has one); everything else stays STRICT.
      permissiveExceptions: [
        {
          namespace: "istio-system",
          workload: "loadtester",
          port: 8080,
          reason:
            "Flagger (no sidecar) calls the load tester's webhooks; the maintainers' answer to STRICT mTLS (fluxcd/flagger#239)",
        },
        {
          namespace: "rabbitmq",
          workload: "workflow-queue",
          port: 5672,
          reason:
            "KEDA's operator (AKS add-on in kube-system, no sidecar) reads the queue length over AMQP with the application user's password",
        },
      ],
    },
    observability: {
      prometheus: {
        retention: prodLike ? "15d" : "7d",
        retentionSize: prodLike ? "90GB" : "20GB",
        storage: prodLike ? "100Gi" : "25Gi",
        replicas: env === "dev" ? 1 : 2,
        scrapeInterval: "30s",
        // The canary checks read the mesh's request metrics: scrape them and evaluate rules more often outside dev.
        meshScrapeInterval: env === "dev" ? "15s" : "10s",
        evaluationInterval: env === "dev" ? "30s" : "15s",
      },
      alertmanager: { replicas: env === "dev" ? 1 : 3, storage: "5Gi" },
      grafana: { replicas: env === "dev" ? 1 : 2, storage: "10Gi" },
      alerts: {
        errorRatePercent: env === "dev" ? 10 : 5,
        latencyP95Ms: env === "dev" ? 1000 : 500,
        latencyP99Ms: env === "dev" ? 2000 : 1000,
        cpuPercent: 80,
        memoryPercent: 85,
        for: env === "dev" ? "1m" : "2m",
        unhealthyFor: "1m",
        crashLoopRestarts: 5,
        crashLoopWindow: "5m",
        errorRateMarginPercent: 2,
        latencyFactor: 1.5,
        trafficDeviationPercent: 20,
      },
      slo: {
        availabilityPercent: env === "dev" ? 99.5 : 99.95,
        latencyThresholdMs: 300,
        latencyPercent: 95,
      },
      routing: {
        groupWait: "30s",
        groupInterval: "5m",
        repeatIntervalCritical: "1h",
        repeatIntervalWarning: "4h",
      },
      receivers: {
        slack: {
          enabled: true,
          channelCritical: `#aiwp-${env}-critical`,
          channelWarning: `#aiwp-${env}-alerts`,
        },
        pagerduty: { enabled: env !== "dev" },
        email: {
          enabled: false,
          to: [],
          from: `alertmanager-${env}@aiwp.example.com`,
          smarthost: "smtp.example.com:587",
        },
        wechat: { enabled: false, corpId: "", agentId: "", toParty: "" },
        dingtalk: { enabled: false },
        msteams: { enabled: false },
      },
    },
    delivery: {
      // Timing from fault onset (lib/flaggerTiming.ts): outside dev a 15s tick, 3 failed checks and a 60s
      // progress deadline keep every directly checked failure within 120 s; no holds unless the stack sets them.
      canary:
        env === "dev"
          ? {
              stepWeights: [10, 50],
              interval: "30s",
              threshold: 3,
              maxRollbackSeconds: 180,
              metricWindow: "1m",
              minRequests: 20,
              progressDeadlineSeconds: 120,
              podReadySeconds: 30,
            }
          : {
              stepWeights: [5, 25, 50],
              interval: "15s",
              threshold: 3,
              maxRollbackSeconds: 120,
              metricWindow: "1m",
              minRequests: 100,
              progressDeadlineSeconds: 60,
              podReadySeconds: 30,
            },
      loadTest: { enabled: true, requestsPerSecond: env === "dev" ? 5 : 20, concurrency: 2 },
      acceptanceTest: { enabled: true },
    },
    services: servicesFor(env),
    registry: {},
    backup: {
      rpoMinutes: 60,
      hourlySchedule: "0 * * * *",
      hourlyNamespaces: [`ai-workflow-${env}`, "rabbitmq"],
      hourlyTtl: "72h",
      dailySchedule: "0 2 * * *",
      dailyTtl: "720h",
      // prod's backups live in its dr region, zone-redundant with a readable secondary (RA-GZRS).
      storageReplication: env === "prod" ? "Standard_RAGZRS" : "Standard_GRS",
      ...(env === "prod" ? { location: "westeurope" } : {}),
      volumes: "fsBackup",
      softDeleteDays: prodLike ? 30 : 7,
    },
  };
}
