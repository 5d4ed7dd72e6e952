/**
 * Cross-field rules: the checks a schema of single fields cannot express. Each returns issues with the
 * key path they concern, so the error names the key and the rule it breaks.
 */
import { cidrContains, cidrsOverlap, ipInCidr, parseCidr, type Cidr } from "../lib/cidr";
import { accessIssues } from "../lib/access";
import { durationSeconds } from "../lib/duration";
import { DIRECT_MODES } from "../lib/flaggerTiming";
import { linearWeights, servicePlan } from "../lib/rollout";
import type { CanarySettings, ServiceSettings, Settings } from "./schema";
import { authenticatedSmokePath } from "./secrets";

export interface RuleIssue {
  path: string;
  message: string;
}

type Rule = (s: Settings) => RuleIssue[];

function networkRules(s: Settings): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const blocks: { path: string; cidr: Cidr }[] = [];
  const parse = (path: string, text: string): Cidr | undefined => {
    try {
      return parseCidr(text);
    } catch (e) {
      issues.push({ path, message: (e as Error).message });
      return undefined;
    }
  };
  const space = parse("network.addressSpace", s.network.addressSpace);
  for (const [role, text] of Object.entries(s.network.subnets)) {
    const path = `network.subnets.${role}`;
    const block = parse(path, text);
    if (!block) continue;
    if (space && !cidrContains(space, block)) {
      issues.push({
        path,
        message: `${text} must lie inside network.addressSpace ${s.network.addressSpace}`,
      });
    }
    blocks.push({ path, cidr: block });
  }
  const pod = parse("network.podCidr", s.network.podCidr);
  const service = parse("network.serviceCidr", s.network.serviceCidr);
  if (pod) blocks.push({ path: "network.podCidr", cidr: pod });
  if (service) blocks.push({ path: "network.serviceCidr", cidr: service });
  for (const [label, block] of [
    ["network.podCidr", pod],
    ["network.serviceCidr", service],
  ] as const) {
    if (space && block && cidrsOverlap(space, block)) {
      issues.push({
        path: label,
        message: `${block.text} must not overlap network.addressSpace ${space.text}`,
      });
    }
  }
  for (let i = 0; i < blocks.length; i++) {
    for (let j = i + 1; j < blocks.length; j++) {
      if (cidrsOverlap(blocks[i].cidr, blocks[j].cidr)) {
        issues.push({
          path: blocks[j].path,
          message: `${blocks[j].cidr.text} overlaps ${blocks[i].path} ${blocks[i].cidr.text}`,
        });
      }
    }
  }
  (s.network.peerPostgresSubnets ?? []).forEach((text, i) => {
    const path = `network.peerPostgresSubnets[${i}]`;
    const peer = parse(path, text);
    const clash = peer && blocks.find((b) => cidrsOverlap(b.cidr, peer));
    if (space && peer && cidrsOverlap(space, peer))
      issues.push({
        path,
        message: `${text} is another VNet's subnet: it must not overlap network.addressSpace ${space.text}`,
      });
    else if (clash) issues.push({ path, message: `${text} overlaps ${clash.path} ${clash.cidr.text}` });
  });
  if (s.data.postgres.replicaOf && !(s.network.peerPostgresSubnets ?? []).length) {
    issues.push({
      path: "network.peerPostgresSubnets",
      message:
        "must list the source server's PostgreSQL subnet: a replica of data.postgres.replicaOf replicates over 5432 through the peering",
    });
  }
  if (service && !ipInCidr(s.network.dnsServiceIp, service)) {
    issues.push({
      path: "network.dnsServiceIp",
      message: `must lie inside network.serviceCidr ${s.network.serviceCidr}`,
    });
  }
  return issues;
}

function clusterRules(s: Settings): RuleIssue[] {
  const issues: RuleIssue[] = [];
  for (const [name, pool] of Object.entries(s.cluster.pools)) {
    if (pool && pool.min > pool.max) {
      issues.push({
        path: `cluster.pools.${name}.min`,
        message: `must not exceed cluster.pools.${name}.max (${pool.min} > ${pool.max})`,
      });
    }
  }
  if (new Set(s.cluster.zones).size !== s.cluster.zones.length) {
    issues.push({ path: "cluster.zones", message: "must not repeat a zone" });
  }
  if (s.environment !== "dev" && s.cluster.tier === "Free") {
    issues.push({ path: "cluster.tier", message: "must be Standard or Premium outside dev (uptime SLA)" });
  }
  if (s.environment !== "dev" && s.cluster.adminGroupObjectIds.length === 0) {
    issues.push({
      path: "cluster.adminGroupObjectIds",
      message: `must list at least one Entra ID group outside dev: it is granted Azure Kubernetes Service RBAC Cluster Admin (local accounts are disabled, so nobody else can operate the cluster)`,
    });
  }
  if (s.environment === "dr" && !s.registry.pullFrom) {
    issues.push({
      path: "registry.pullFrom",
      message:
        "dr pulls from prod's geo-replicated registry (its replica in the dr region): name prod's registry",
    });
  }
  if (s.environment !== "dr" && s.registry.pullFrom) {
    issues.push({
      path: "registry.pullFrom",
      message: "only the dr stack pulls from another stack's registry",
    });
  }
  if (s.environment !== "prod" && s.edge.drOrigin) {
    issues.push({ path: "edge.drOrigin", message: "only prod fronts the dr stack's ingress" });
  }
  if (
    !s.cluster.apiServer.privateCluster &&
    s.cluster.apiServer.authorizedIpRanges.length === 0 &&
    s.environment !== "dev"
  ) {
    issues.push({
      path: "cluster.apiServer.authorizedIpRanges",
      message:
        "must list at least one range when cluster.apiServer.privateCluster is false (the API server is never open to the internet outside dev)",
    });
  }
  return issues;
}

/** prod (and dr, which must be able to take prod's traffic) keep the production invariants. */
function productionRules(s: Settings): RuleIssue[] {
  if (s.environment !== "prod" && s.environment !== "dr") return [];
  const issues: RuleIssue[] = [];
  const env = s.environment;
  if (s.cluster.zones.length < 3) {
    issues.push({ path: "cluster.zones", message: `must list zones 1, 2 and 3 in ${env}` });
  }
  if (s.edge.wafMode !== "Prevention") {
    issues.push({ path: "edge.wafMode", message: `must be Prevention in ${env}` });
  }
  if (s.data.postgres.highAvailability !== "ZoneRedundant") {
    issues.push({ path: "data.postgres.highAvailability", message: `must be ZoneRedundant in ${env}` });
  }
  if (!s.data.postgres.geoRedundantBackup) {
    issues.push({ path: "data.postgres.geoRedundantBackup", message: `must be true in ${env}` });
  }
  if (s.data.postgres.backupRetentionDays < 30) {
    issues.push({ path: "data.postgres.backupRetentionDays", message: `must be at least 30 in ${env}` });
  }
  if (!s.data.redis.highAvailability) {
    issues.push({ path: "data.redis.highAvailability", message: `must be true in ${env}` });
  }
  if (s.mesh.istiodReplicas < 2) {
    issues.push({ path: "mesh.istiodReplicas", message: `must be at least 2 in ${env}` });
  }
  for (const [name, svc] of Object.entries(s.services)) {
    if (svc.replicas.min < 2) {
      issues.push({ path: `services.${name}.replicas.min`, message: `must be at least 2 in ${env}` });
    }
  }
  if (env === "prod" && !s.edge.drOrigin) {
    issues.push({
      path: "edge.drOrigin",
      message:
        "prod needs the dr ingress as priority-2 origin: name dr's Private Link Service (nodeResourceGroup, privateLinkServiceName, location, ingressAddress)",
    });
  }
  if (env === "prod" && (s.edge.location ?? s.drLocation) === s.location) {
    issues.push({
      path: "edge.location",
      message: `must not be the primary region ${s.location}: Front Door's profile, WAF policy and routes must stay manageable while it is down`,
    });
  }
  if (!s.cluster.defender) {
    issues.push({ path: "cluster.defender", message: `must be true in ${env} (Defender for Containers)` });
  }
  if (!s.cluster.azurePolicy) {
    issues.push({ path: "cluster.azurePolicy", message: `must be true in ${env} (Azure Policy add-on)` });
  }
  return issues;
}

/** The analysis a service runs: the stack's defaults with the service's overrides on top. */
export function effectiveAnalysis(stack: CanarySettings, override: Partial<CanarySettings>): CanarySettings {
  const stepKeys = ["stepWeights", "stepWeight", "maxWeight", "iterations"] as const;
  const overridesSteps = stepKeys.some((k) => override[k] !== undefined);
  const base: CanarySettings = { ...stack };
  // Holds name weights of the stack's stepping: a service with its own stepping does not inherit them.
  if (overridesSteps) for (const k of [...stepKeys, "holds"] as const) delete base[k];
  const merged: CanarySettings = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  return merged;
}

/** Flagger's rules for one analysis block (ESTATE section 4). */
export function analysisIssues(
  path: string,
  a: Partial<CanarySettings>,
  // The budget is held against the timing model per service (budgetIssues), which needs the whole stack.
  _budgetSeconds?: number,
): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const modes = (["stepWeights", "stepWeight", "iterations"] as const).filter((k) => a[k] !== undefined);
  if (modes.length !== 1) {
    issues.push({
      path,
      message: `must set exactly one of stepWeights, stepWeight or iterations (found ${modes.length === 0 ? "none" : modes.join(", ")})`,
    });
  }
  if (a.stepWeights) {
    a.stepWeights.forEach((w, i) => {
      if (w <= 0 || w > 100)
        issues.push({ path: `${path}.stepWeights[${i}]`, message: `${w} must be within (0, 100]` });
      if (i > 0 && w <= a.stepWeights![i - 1]) {
        issues.push({
          path: `${path}.stepWeights[${i}]`,
          message: `must be strictly ascending and unique (${a.stepWeights![i - 1]} then ${w})`,
        });
      }
    });
  }
  if (a.stepWeight !== undefined && (a.stepWeight <= 0 || a.stepWeight > 100)) {
    issues.push({ path: `${path}.stepWeight`, message: "must be within (0, 100]" });
  }
  if (a.maxWeight !== undefined && a.stepWeight === undefined) {
    issues.push({ path: `${path}.maxWeight`, message: "only applies with stepWeight" });
  }
  if (a.interval !== undefined && durationSeconds(a.interval) < 10) {
    issues.push({
      path: `${path}.interval`,
      message: "must be at least 10s (Flagger's shortest useful interval)",
    });
  }
  issues.push(...holdIssues(path, a));
  return issues;
}

/** Holds are gates on the weights of a weighted canary, checked once per interval. */
function holdIssues(path: string, a: Partial<CanarySettings>): RuleIssue[] {
  if (!a.holds || Object.keys(a.holds).length === 0) return [];
  const issues: RuleIssue[] = [];
  if (a.iterations !== undefined) {
    issues.push({
      path: `${path}.holds`,
      message:
        "holds need traffic steps (stepWeights or stepWeight): blue-green and A/B run iterations at a fixed routing, so there is no weight to hold",
    });
    return issues;
  }
  const weights =
    a.stepWeights ?? (a.stepWeight !== undefined ? linearWeights(a.stepWeight, a.maxWeight ?? 50) : []);
  const interval = a.interval !== undefined ? durationSeconds(a.interval) : undefined;
  for (const [weight, hold] of Object.entries(a.holds)) {
    if (!weights.includes(Number(weight))) {
      issues.push({
        path: `${path}.holds.${weight}`,
        message: `${weight} is not a step of this canary (steps: ${weights.join(", ")}): a hold can only keep a weight the canary reaches`,
      });
    }
    if (interval !== undefined && durationSeconds(hold) < interval) {
      issues.push({
        path: `${path}.holds.${weight}`,
        message: `${hold} is shorter than the analysis interval ${a.interval}: the gate is asked once per interval, so it cannot hold less`,
      });
    }
  }
  return issues;
}

function deliveryRules(s: Settings): RuleIssue[] {
  const budget = s.delivery.canary.maxRollbackSeconds;
  const issues = analysisIssues("delivery.canary", s.delivery.canary);
  if (issues.length > 0) return issues;
  const authenticated = authenticatedSmokePath(s);
  if (authenticated && !s.delivery.loadTest.tokenClientId) {
    // Without a token, `curl -f` on that path fails every acceptance check and rolls every release back.
    issues.push({
      path: "delivery.loadTest.tokenClientId",
      message: `is required: ${authenticated} is true, so the load tester needs its app registration's client id (and the secret loadTestClientSecret) to get a bearer token`,
    });
  }
  for (const [name, svc] of Object.entries(s.services)) {
    issues.push(...serviceDeliveryIssues(name, svc, s.delivery.canary, s.observability, budget));
    if (svc.strategy !== "rolling") issues.push(...minRequestIssues(name, svc, s.delivery));
  }
  return issues;
}

/**
 * Below `minRequests` requests per window the success-rate and latency checks abstain, so the load test
 * alone must bring a canary above it: otherwise a quiet canary would only ever be judged by readiness and
 * the alert gate.
 */
function minRequestIssues(name: string, svc: ServiceSettings, delivery: Settings["delivery"]): RuleIssue[] {
  if (!delivery.loadTest.enabled) return [];
  const a = effectiveAnalysis(delivery.canary, svc.canary);
  const perWindow = delivery.loadTest.requestsPerSecond * durationSeconds(a.metricWindow);
  if (perWindow >= a.minRequests) return [];
  return [
    {
      path:
        svc.canary.minRequests !== undefined
          ? `services.${name}.canary.minRequests`
          : "delivery.canary.minRequests",
      message: `${a.minRequests} exceeds the ${perWindow} requests the load test sends per metricWindow (${delivery.loadTest.requestsPerSecond} rps x ${a.metricWindow}): the checks would abstain on a canary without user traffic; raise delivery.loadTest.requestsPerSecond or lower minRequests`,
    },
  ];
}

function serviceDeliveryIssues(
  name: string,
  svc: ServiceSettings,
  stack: CanarySettings,
  observability: Settings["observability"],
  budget: number,
): RuleIssue[] {
  const path = `services.${name}.canary`;
  if (svc.strategy === "rolling") return [];
  const analysis = effectiveAnalysis(stack, svc.canary);
  const issues = analysisIssues(path, analysis);
  const usesIterations = analysis.iterations !== undefined;
  if ((svc.strategy === "blueGreen" || svc.strategy === "abTest") && !usesIterations) {
    issues.push({
      path: `${path}.iterations`,
      message: `strategy ${svc.strategy} runs a fixed number of checks: set iterations`,
    });
  }
  if (svc.strategy === "canary" && usesIterations) {
    issues.push({
      path: `${path}.iterations`,
      message: "strategy canary shifts traffic in steps: use stepWeights or stepWeight, not iterations",
    });
  }
  if (analysis.mirrorWeight !== undefined && svc.strategy !== "blueGreen") {
    issues.push({
      path: `${path}.mirrorWeight`,
      message: `only blue-green mirrors traffic through its iterations (strategy is ${svc.strategy})`,
    });
  }
  if (issues.length === 0) issues.push(...budgetIssues(path, svc, analysis, observability, budget));
  return issues;
}

/** The rollback budget against the timing model's worst case from fault onset (lib/flaggerTiming.ts). */
function budgetIssues(
  path: string,
  svc: ServiceSettings,
  analysis: CanarySettings,
  observability: Settings["observability"],
  budget: number,
): RuleIssue[] {
  const plan = servicePlan(observability, svc, analysis);
  const over = DIRECT_MODES.filter((m) => plan.rollback[m] > budget);
  if (over.length === 0) return [];
  // The fastest this service could roll back with the same scrape, window and deadline: threshold 1.
  const best = servicePlan(observability, svc, { ...analysis, threshold: 1 });
  const reachable = DIRECT_MODES.every((m) => best.rollback[m] <= budget);
  const figures = over.map((m) => `${m} ${plan.rollback[m]}s`).join(", ");
  return [
    {
      path,
      message:
        `worst case from fault onset (${figures}) exceeds delivery.canary.maxRollbackSeconds (${budget}s)` +
        (reachable
          ? "; lower threshold, interval, metricWindow or progressDeadlineSeconds"
          : `; it cannot be met with this interval, scrape interval (observability.prometheus.meshScrapeInterval), metricWindow and progressDeadlineSeconds even at threshold 1 (${DIRECT_MODES.map((m) => `${m} ${best.rollback[m]}s`).join(", ")})`),
    },
  ];
}

function serviceRules(s: Settings): RuleIssue[] {
  const issues: RuleIssue[] = [...accessIssues(s.services)];
  const routes = new Map<string, string>();
  for (const [name, svc] of Object.entries(s.services)) {
    const path = `services.${name}`;
    if (svc.replicas.min > svc.replicas.max) {
      issues.push({
        path: `${path}.replicas.min`,
        message: `must not exceed services.${name}.replicas.max (${svc.replicas.min} > ${svc.replicas.max})`,
      });
    }
    if (svc.autoscaler === "keda" && !svc.queue) {
      issues.push({ path: `${path}.queue`, message: "is required when autoscaler is keda" });
    }
    if (svc.exposed) {
      // The public root matches a route with or without its trailing slash (components/workloads.ts publicRoutes).
      const route = svc.route.replace(/\/+$/, "") || "/";
      const other = routes.get(route);
      if (other)
        issues.push({
          path: `${path}.route`,
          message: `${svc.route} is already the route of services.${other}`,
        });
      routes.set(route, name);
    }
    for (const caller of svc.callers) {
      if (!(caller in s.services)) {
        issues.push({ path: `${path}.callers`, message: `"${caller}" is not a service of this stack` });
      }
    }
    if (svc.pool === "codeExecution" && svc.strategy !== "rolling" && svc.exposed) {
      issues.push({
        path: `${path}.exposed`,
        message: "a code-execution service is reached only through its callers, never from the ingress",
      });
    }
  }
  return issues;
}

function dataRules(s: Settings): RuleIssue[] {
  const issues: RuleIssue[] = [];
  if (s.data.storage.archiveAfterDays <= s.data.storage.coolAfterDays) {
    issues.push({
      path: "data.storage.archiveAfterDays",
      message: "must be later than data.storage.coolAfterDays",
    });
  }
  if (s.cluster.zones.length === 0 && s.data.postgres.highAvailability === "ZoneRedundant") {
    issues.push({
      path: "data.postgres.highAvailability",
      message: "ZoneRedundant needs cluster.zones (the region's zones)",
    });
  }
  return issues;
}

function observabilityRules(s: Settings): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const a = s.observability.alerts;
  if (a.latencyP99Ms < a.latencyP95Ms) {
    issues.push({
      path: "observability.alerts.latencyP99Ms",
      message: "must be at least observability.alerts.latencyP95Ms",
    });
  }
  const email = s.observability.receivers.email;
  if (email.enabled && email.to.length === 0) {
    issues.push({
      path: "observability.receivers.email.to",
      message: "must list a recipient when e-mail is enabled",
    });
  }
  const wechat = s.observability.receivers.wechat;
  if (wechat.enabled && (!wechat.corpId || !wechat.agentId)) {
    issues.push({
      path: "observability.receivers.wechat.corpId",
      message: "corpId and agentId are required when WeChat Work is enabled",
    });
  }
  return issues;
}

function backupRules(s: Settings): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const every = cronIntervalMinutes(s.backup.hourlySchedule);
  if (every === undefined) {
    issues.push({
      path: "backup.hourlySchedule",
      message: 'must be a cron schedule such as "0 * * * *" or "*/30 * * * *"',
    });
  } else if (every > s.backup.rpoMinutes) {
    issues.push({
      path: "backup.hourlySchedule",
      message: `runs every ${every} min, beyond the RPO of ${s.backup.rpoMinutes} min`,
    });
  }
  if (durationSeconds(s.backup.dailyTtl) < 30 * 86400) {
    issues.push({ path: "backup.dailyTtl", message: "must keep daily backups at least 30 days (720h)" });
  }
  if (s.environment === "dr" && !s.backup.restoreFrom) {
    issues.push({
      path: "backup.restoreFrom",
      message: "dr restores from prod's backups: name prod's backup storage account",
    });
  }
  issues.push(...disasterRecoveryIssues(s));
  return issues;
}

/**
 * What a restore in the other region needs (docs/disaster-recovery.md): backups kept at least one RPO, volume
 * data that leaves the region, backups and a database copy that stay readable while the primary region is down.
 */
function disasterRecoveryIssues(s: Settings): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const b = s.backup;
  const rpoSeconds = b.rpoMinutes * 60;
  for (const key of ["hourlyTtl", "dailyTtl"] as const) {
    if (durationSeconds(b[key]) < rpoSeconds) {
      issues.push({
        path: `backup.${key}`,
        message: `${b[key]} is shorter than the RPO (backup.rpoMinutes ${b.rpoMinutes}): a backup would expire before the next one is taken`,
      });
    }
  }
  const env = s.environment;
  const production = env === "prod" || env === "dr";
  if (production && b.volumes === "snapshot") {
    issues.push({
      path: "backup.volumes",
      message: `snapshot keeps volume data as Azure disk snapshots in ${s.location}, which cannot be restored in another region: use fsBackup in ${env}`,
    });
  }
  if (env === "prod" && (b.location ?? s.location) !== s.drLocation) {
    issues.push({
      path: "backup.location",
      message: `must be the dr region drLocation (${s.drLocation}), so the backups stay readable while ${s.location} is down (found ${b.location ?? `${s.location}, the stack's own`})`,
    });
  }
  if (b.restoreFrom && env !== "dr") {
    issues.push({
      path: "backup.restoreFrom",
      message: "only the dr stack restores from another stack's backups",
    });
  }
  if (env === "dr" && b.restoreFrom && b.restoreFrom.location !== s.location) {
    issues.push({
      path: "backup.restoreFrom.location",
      message: `${b.restoreFrom.location} is not the dr region (${s.location}): ${b.restoreFrom.location === s.drLocation ? "the primary region's storage is unreadable during its outage" : "the restore source must be readable in the dr region"}; point it at prod's backup account in ${s.location}`,
    });
  }
  const replica = s.data.postgres.replicaOf;
  if (env === "dr" && !replica) {
    issues.push({
      path: "data.postgres.replicaOf",
      message:
        "dr needs a copy of prod's database in its own region: name prod's server (a cross-region read replica)",
    });
  }
  if (replica && env !== "dr") {
    issues.push({
      path: "data.postgres.replicaOf",
      message: "only the dr stack replicates another stack's database",
    });
  }
  if (replica && replica.location === s.location) {
    issues.push({
      path: "data.postgres.replicaOf.location",
      message: `the source server must be in another region than this stack (${s.location}); a same-region copy does not survive the loss of the primary`,
    });
  }
  const blobs = s.data.storage.replicateFrom;
  if (env === "dr" && !blobs) {
    issues.push({
      path: "data.storage.replicateFrom",
      message: "dr needs a copy of prod's blobs in its own region: name prod's data storage account",
    });
  }
  if (blobs && env !== "dr") {
    issues.push({
      path: "data.storage.replicateFrom",
      message: "only the dr stack replicates another stack's blobs",
    });
  }
  if (blobs && blobs.location === s.location) {
    issues.push({
      path: "data.storage.replicateFrom.location",
      message: `the source account must be in another region than this stack (${s.location})`,
    });
  }
  if (replica && s.data.postgres.skuTier === "Burstable") {
    issues.push({
      path: "data.postgres.skuTier",
      message: "read replicas need GeneralPurpose or MemoryOptimized (Burstable is not supported)",
    });
  }
  if (s.cluster.drActive && env !== "dr") {
    issues.push({ path: "cluster.drActive", message: "only the dr stack takes over production" });
  }
  for (const [name, pool] of Object.entries(s.cluster.pools)) {
    if (pool?.drActiveMin !== undefined && pool.drActiveMin > pool.max) {
      issues.push({
        path: `cluster.pools.${name}.drActiveMin`,
        message: `must not exceed cluster.pools.${name}.max (${pool.drActiveMin} > ${pool.max})`,
      });
    }
  }
  return issues;
}

/**
 * Minutes between runs of a cron schedule whose hour field is "*" (hourly or more often);
 * undefined when the schedule is not of that form.
 */
export function cronIntervalMinutes(schedule: string): number | undefined {
  const fields = schedule.trim().split(/\s+/);
  if (fields.length !== 5) return undefined;
  const [minute, hour] = fields;
  if (hour !== "*" && !/^\*\/\d+$/.test(hour)) return undefined;
  const hourStep = hour === "*" ? 1 : Number(hour.slice(2));
  if (/^\d+$/.test(minute) && Number(minute) < 60) return 60 * hourStep;
  const step = /^\*\/(\d+)$/.exec(minute);
  if (step && hourStep === 1) return Number(step[1]);
  return undefined;
}

export const RULES: Rule[] = [
  networkRules,
  clusterRules,
  productionRules,
  deliveryRules,
  serviceRules,
  dataRules,
  observabilityRules,
  backupRules,
];
