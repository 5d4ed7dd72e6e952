/**
 * The estate's Prometheus rules as pure functions of the stack settings: recording rules for the
 * canary/primary comparison and the SLO windows, the canary alerts of ESTATE section 5, multi-window
 * multi-burn-rate SLO alerts and the platform alerts.
 *
 * Canary and SLO expressions use only the metric contract: Istio's `istio_requests_total` and
 * `istio_request_duration_milliseconds_bucket` with `reporter="destination"`, kube-state-metrics and
 * cAdvisor resource metrics, and Flagger's `flagger_canary_status` / `flagger_canary_weight`. Flagger names
 * the canary workload `<service>` and the stable one `<service>-primary`; every canary selector matches
 * the canary exactly, so a fault on the primary never fires a canary alert. Each source's selector comes from
 * the telemetry contract (lib/telemetry.ts SELECTORS), whose label sets the tests generate series from.
 */
import { durationSeconds, formatDuration } from "../../lib/duration";
import { NAMESPACES, RUNBOOK_BASE_URL, VELERO_SCHEDULES, appNamespace } from "../../lib/names";
import { overdueSeconds, servicePlan } from "../../lib/rollout";
import { CANARY_SCOPE, SELECTORS, openMetricsFloat } from "../../lib/telemetry";
import { effectiveAnalysis, type Settings, type ServiceSettings } from "../../settings";

export interface AlertingRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface RecordingRule {
  record: string;
  expr: string;
  labels?: Record<string, string>;
}

export type Rule = AlertingRule | RecordingRule;

export interface RuleGroup {
  name: string;
  rules: Rule[];
}

export const CANARY_ALERTS = [
  "CanaryHighErrorRate",
  "CanaryHighLatency",
  "CanaryUnhealthyInstances",
  "CanaryPodCrashLoop",
  "CanaryHighCPU",
  "CanaryHighMemory",
  "CanaryErrorRateHigherThanStable",
  "CanaryLatencyHigherThanStable",
  "CanaryTrafficAllocationAbnormal",
  "CanaryDeploymentStuck",
  "CanaryRolledBack",
] as const;

export { CANARY_SCOPE };

export const SLO_ALERTS = [
  "SLOAvailabilityFastBurn",
  "SLOAvailabilitySlowBurn",
  "SLOLatencyFastBurn",
  "SLOLatencySlowBurn",
] as const;

export const PLATFORM_ALERTS = [
  "PrometheusRuleEvaluationFailures",
  "PrometheusTargetMissing",
  "AlertmanagerNotificationsFailing",
  "FlaggerDown",
  "VeleroBackupFailed",
  "VeleroBackupTooOld",
  "NodeNotReady",
  "NodeMemoryPressure",
  "PersistentVolumeFillingUp",
] as const;

/** Team that owns the platform's own alerts (Prometheus, Flagger, Velero, nodes). */
export const PLATFORM_TEAM = "platform";

/** Rate window of Istio request metrics (Istio is scraped every 15s: four samples per window). */
export const REQUEST_WINDOW = "1m";
/** Rate window of cAdvisor CPU usage (the kubelet is scraped every 30s). */
export const CPU_WINDOW = "2m";

/** Istio's default request-duration buckets (ms); the latency SLI counts requests under one of them. */
export const ISTIO_DURATION_BUCKETS = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
];

/** SLO windows and burn-rate factors of the multi-window multi-burn-rate method (SRE workbook, ch. 5). */
export const BURN_RATES = {
  fast: [
    { factor: 14.4, long: "1h", short: "5m" },
    { factor: 6, long: "6h", short: "30m" },
  ],
  slow: [{ factor: 1, long: "3d", short: "6h" }],
} as const;
export const SLO_WINDOWS = ["5m", "30m", "1h", "6h", "3d"] as const;
/** `for` of the burn-rate alerts: the short windows already debounce, these only skip single blips. */
export const FAST_BURN_FOR = "2m";
export const SLOW_BURN_FOR = "15m";
/** How long a failed canary keeps CanaryRolledBack firing, so it notifies once rather than until the next release. */
export const ROLLED_BACK_WINDOW = "30m";
/** A progressing canary that receives no requests for this long is stuck. */
export const STUCK_NO_TRAFFIC_FOR = "5m";

/** One service's identities in rules: Flagger's canary and primary workload names. */
export interface ServiceTarget {
  service: string;
  namespace: string;
  team: string;
  canary: string;
  primary: string;
  settings: ServiceSettings;
}

/** Services that Flagger manages (every strategy but `rolling`). */
export function canaryTargets(settings: Settings): ServiceTarget[] {
  return Object.entries(settings.services)
    .filter(([, svc]) => svc.strategy !== "rolling")
    .map(([service, svc]) => target(settings, service, svc));
}

function target(settings: Settings, service: string, svc: ServiceSettings): ServiceTarget {
  return {
    service,
    namespace: appNamespace(settings),
    team: svc.team,
    canary: service,
    primary: `${service}-primary`,
    settings: svc,
  };
}

/** Pods of a Deployment: `<deployment>-<replicaset hash>-<pod hash>`; never those of `<deployment>-primary`. */
export function podPattern(deployment: string): string {
  return `${deployment}-[a-z0-9]+-[a-z0-9]+`;
}

/** Largest Istio bucket bound at or below the latency threshold: the SLI never counts a slow request as good. */
export function latencyBucket(thresholdMs: number): number {
  const bound = [...ISTIO_DURATION_BUCKETS].reverse().find((b) => b <= thresholdMs);
  if (bound === undefined)
    throw new Error(`latency threshold ${thresholdMs} ms is below Istio's smallest bucket`);
  return bound;
}

/** Grafana's base URL for links in alerts. */
export function grafanaUrl(settings: Settings): string {
  return settings.observability.grafanaHostname
    ? `https://${settings.observability.grafanaHostname}`
    : "http://localhost:3000";
}

/** Dashboard uids; alerts link to them. */
export const DASHBOARD_UIDS = { canary: "aiwp-canary", slo: "aiwp-slo" } as const;

function dashboardLink(settings: Settings, uid: string, t: { service: string; namespace: string }): string {
  return `${grafanaUrl(settings)}/d/${uid}?var-namespace=${t.namespace}&var-service=${t.service}`;
}

const istio = (t: { namespace: string }, workload: string, extra = "") =>
  `istio_requests_total{${SELECTORS.istio}, destination_workload_namespace="${t.namespace}", destination_workload="${workload}"${extra}}`;
const istioBuckets = (t: { namespace: string }, workload: string, extra = "") =>
  `istio_request_duration_milliseconds_bucket{${SELECTORS.istio}, destination_workload_namespace="${t.namespace}", destination_workload="${workload}"${extra}}`;

/** Labels that identify a recorded series of a service's track. */
function trackLabels(t: ServiceTarget, track: "canary" | "primary"): Record<string, string> {
  return { service: t.service, namespace: t.namespace, track };
}

/** Selector of a recorded canary/primary series. */
export function recorded(
  metric: string,
  t: { service: string; namespace: string },
  track: "canary" | "primary",
): string {
  return `${metric}{service="${t.service}", namespace="${t.namespace}", track="${track}"}`;
}

export const RECORDED = {
  requestRate: "service:istio_requests:rate1m",
  errorRatio: "service:istio_requests:error_ratio_rate1m",
  latencyP95: "service:istio_request_duration_milliseconds:p95_rate1m",
  latencyP99: "service:istio_request_duration_milliseconds:p99_rate1m",
  cpu: "service:container_cpu_usage:limit_ratio_rate2m",
  memory: "service:container_memory_working_set:limit_ratio",
  canaryShare: "service:istio_requests:canary_share_rate1m",
  sloErrors: (window: string) => `service:slo_availability:error_ratio_rate${window}`,
  sloSlow: (window: string) => `service:slo_latency:error_ratio_rate${window}`,
} as const;

/** Recording rules for the canary/primary comparison, one series per service and track. */
export function canaryRecordingRules(settings: Settings): RuleGroup {
  const rules: RecordingRule[] = [];
  for (const t of canaryTargets(settings)) {
    for (const track of ["canary", "primary"] as const) {
      const w = track === "canary" ? t.canary : t.primary;
      const labels = trackLabels(t, track);
      const pods = `namespace="${t.namespace}", pod=~"${podPattern(w)}"`;
      rules.push(
        { record: RECORDED.requestRate, expr: `sum(rate(${istio(t, w)}[${REQUEST_WINDOW}]))`, labels },
        {
          record: RECORDED.errorRatio,
          expr:
            `(sum(rate(${istio(t, w, ', response_code=~"5.."')}[${REQUEST_WINDOW}])) or vector(0))\n` +
            `/\nsum(rate(${istio(t, w)}[${REQUEST_WINDOW}]))`,
          labels,
        },
        ...(
          [
            [RECORDED.latencyP95, 0.95],
            [RECORDED.latencyP99, 0.99],
          ] as const
        ).map(([record, q]) => ({
          record,
          expr: `histogram_quantile(${q}, sum by (le) (rate(${istioBuckets(t, w)}[${REQUEST_WINDOW}])))`,
          labels,
        })),
        {
          record: RECORDED.cpu,
          expr:
            `max(\n  sum by (pod, container) (rate(container_cpu_usage_seconds_total{${SELECTORS.cadvisor}, ${pods}, container!="", container!="POD"}[${CPU_WINDOW}]))\n` +
            `  /\n  sum by (pod, container) (kube_pod_container_resource_limits{${SELECTORS.kubeStateMetrics}, ${pods}, resource="cpu"})\n)`,
          labels,
        },
        {
          record: RECORDED.memory,
          expr:
            `max(\n  sum by (pod, container) (container_memory_working_set_bytes{${SELECTORS.cadvisor}, ${pods}, container!="", container!="POD"})\n` +
            `  /\n  sum by (pod, container) (kube_pod_container_resource_limits{${SELECTORS.kubeStateMetrics}, ${pods}, resource="memory"})\n)`,
          labels,
        },
      );
    }
    rules.push({
      record: RECORDED.canaryShare,
      expr:
        `sum(rate(${istio(t, t.canary)}[${REQUEST_WINDOW}]))\n/\n` +
        `sum(rate(istio_requests_total{${SELECTORS.istio}, destination_workload_namespace="${t.namespace}", destination_workload=~"${t.canary}|${t.primary}"}[${REQUEST_WINDOW}]))`,
      labels: { service: t.service, namespace: t.namespace },
    });
  }
  return { name: "aiwp-canary.recording", rules };
}

/** SLO ratio windows per service (canary and primary together: users see both). */
export function sloRecordingRules(settings: Settings): RuleGroup {
  const rules: RecordingRule[] = [];
  const bucket = latencyBucket(settings.observability.slo.latencyThresholdMs);
  for (const [service, svc] of Object.entries(settings.services)) {
    const t = target(settings, service, svc);
    const workloads = `${SELECTORS.istio}, destination_workload_namespace="${t.namespace}", destination_workload=~"${t.canary}|${t.primary}"`;
    const labels = { service, namespace: t.namespace };
    for (const window of SLO_WINDOWS) {
      rules.push({
        record: RECORDED.sloErrors(window),
        expr:
          `(sum(rate(istio_requests_total{${workloads}, response_code=~"5.."}[${window}])) or vector(0))\n` +
          `/\nsum(rate(istio_requests_total{${workloads}}[${window}]))`,
        labels,
      });
      rules.push({
        record: RECORDED.sloSlow(window),
        expr:
          // Prometheus 3 stores a classic histogram's `le` as a float string: le="250.0", never le="250".
          `1 - (\n  sum(rate(istio_request_duration_milliseconds_bucket{${workloads}, le="${openMetricsFloat(bucket)}"}[${window}]))\n` +
          `  /\n  sum(rate(istio_request_duration_milliseconds_bucket{${workloads}, le="+Inf"}[${window}]))\n)`,
        labels,
      });
    }
  }
  return { name: "aiwp-slo.recording", rules };
}

function runbook(alert: string): string {
  return `${RUNBOOK_BASE_URL}/${alert}.md`;
}

/**
 * The version a workload serves, read when the alert fires from Istio's `destination_version` (the pods'
 * `version` label, set to the image tag). Read at fire time rather than written into the rule, so a release
 * that only changes an image tag changes the Deployment and nothing else.
 */
export function releaseTemplate(image: string, t: { namespace: string }, workload: string): string {
  const q =
    `max by (destination_version) (istio_requests_total{${SELECTORS.istio}, ` +
    `destination_workload_namespace="${t.namespace}", destination_workload=~"${workload}"})`;
  return `${image}:{{ with query "${q.replace(/"/g, '\\"')}" }}{{ . | first | label "destination_version" }}{{ else }}unknown{{ end }}`;
}

/**
 * Flagger's selector of a canary's series: `flagger_canary_status` names the Canary (`name`), while
 * `flagger_canary_weight` names the workload (`workload`: `<service>` and `<service>-primary`), both with the
 * canary's `namespace` (Flagger v1.44 pkg/metrics/recorder.go).
 */
export function flaggerSelector(
  metric: "flagger_canary_status" | "flagger_canary_weight",
  t: { service: string; namespace: string },
): string {
  const key = metric === "flagger_canary_status" ? "name" : "workload";
  return `${metric}{${SELECTORS.flagger}, ${key}="${t.service}", namespace="${t.namespace}"}`;
}

/** Flagger's current weight for the canary, rendered when the alert fires (Prometheus's `query` template). */
export function canaryWeightTemplate(t: { service: string; namespace: string }): string {
  const q = `max(${flaggerSelector("flagger_canary_weight", t)})`;
  return `{{ with query "${q.replace(/"/g, '\\"')}" }}{{ . | first | value }}{{ else }}unknown{{ end }}`;
}

interface CanaryAlertSpec {
  alert: (typeof CANARY_ALERTS)[number];
  expr: string;
  for?: string;
  severity: "critical" | "warning" | "info";
  summary: string;
  description: string;
  extraLabels?: Record<string, string>;
}

function canaryAlert(settings: Settings, t: ServiceTarget, spec: CanaryAlertSpec): AlertingRule {
  const rule: AlertingRule = {
    alert: spec.alert,
    expr: spec.expr,
    labels: {
      severity: spec.severity,
      service: t.service,
      namespace: t.namespace,
      team: t.team,
      [CANARY_SCOPE.label]: CANARY_SCOPE.value,
      ...spec.extraLabels,
    },
    annotations: {
      summary: spec.summary,
      description: spec.description,
      runbook_url: runbook(spec.alert),
      release: releaseTemplate(t.settings.image, t, t.service),
      canary_weight: canaryWeightTemplate(t),
      dashboard_url: dashboardLink(settings, DASHBOARD_UIDS.canary, t),
    },
  };
  if (spec.for && durationSeconds(spec.for) > 0) rule.for = spec.for;
  return rule;
}

/** Expected duration of a rollout, and the `for` after which a still-progressing canary is overdue. */
export function overdueFor(settings: Settings, svc: ServiceSettings): string {
  const plan = servicePlan(
    settings.observability,
    svc,
    effectiveAnalysis(settings.delivery.canary, svc.canary),
  );
  return formatDuration(overdueSeconds(plan));
}

/** `for` of CanaryTrafficAllocationAbnormal: observed shares lag each weight step by up to one rate window. */
export function trafficFor(settings: Settings): string {
  return formatDuration(2 * durationSeconds(settings.observability.alerts.for));
}

/** The canary alerts of one service, thresholds from `observability.alerts`. */
export function serviceCanaryAlerts(settings: Settings, t: ServiceTarget): AlertingRule[] {
  const a = settings.observability.alerts;
  const canary = (m: string) => recorded(m, t, "canary");
  const primary = (m: string) => recorded(m, t, "primary");
  const who = `${t.namespace}/${t.service}`;
  const specs: CanaryAlertSpec[] = [
    {
      alert: "CanaryHighErrorRate",
      expr: `max(${canary(RECORDED.errorRatio)}) > ${a.errorRatePercent / 100}`,
      for: a.for,
      severity: "critical",
      summary: `Canary ${who} answers more than ${a.errorRatePercent}% 5xx`,
      description: `The canary's 5xx ratio is {{ $value | humanizePercentage }} (threshold ${a.errorRatePercent}% for ${a.for}); Flagger rolls it back.`,
    },
    ...(
      [
        ["p95", RECORDED.latencyP95, a.latencyP95Ms],
        ["p99", RECORDED.latencyP99, a.latencyP99Ms],
      ] as const
    ).map(([q, metric, ms]) => ({
      alert: "CanaryHighLatency" as const,
      expr: `max(${canary(metric)}) > ${ms}`,
      for: a.for,
      severity: "critical" as const,
      summary: `Canary ${who} ${q.toUpperCase()} latency above ${ms} ms`,
      description: `The canary's ${q.toUpperCase()} latency is {{ $value | printf "%.1f" }} ms (threshold ${ms} ms for ${a.for}).`,
      extraLabels: { quantile: q },
    })),
    {
      alert: "CanaryUnhealthyInstances",
      expr:
        `max(kube_deployment_status_replicas_available{${SELECTORS.kubeStateMetrics}, namespace="${t.namespace}", deployment="${t.canary}"})\n<\n` +
        `max(kube_deployment_spec_replicas{${SELECTORS.kubeStateMetrics}, namespace="${t.namespace}", deployment="${t.canary}"})`,
      for: a.unhealthyFor,
      severity: "critical",
      summary: `Canary ${who} has fewer available replicas than desired`,
      description: `Only {{ $value | printf "%.0f" }} canary replicas are available, fewer than desired, for ${a.unhealthyFor}.`,
    },
    {
      alert: "CanaryPodCrashLoop",
      expr: `sum(increase(kube_pod_container_status_restarts_total{${SELECTORS.kubeStateMetrics}, namespace="${t.namespace}", pod=~"${podPattern(t.canary)}"}[${a.crashLoopWindow}])) > ${a.crashLoopRestarts}`,
      severity: "critical",
      summary: `Canary ${who} containers are crash-looping`,
      description: `Canary containers restarted {{ $value | printf "%.0f" }} times in ${a.crashLoopWindow} (more than ${a.crashLoopRestarts}).`,
    },
    {
      alert: "CanaryHighCPU",
      expr: `max(${canary(RECORDED.cpu)}) > ${a.cpuPercent / 100}`,
      for: a.for,
      severity: "warning",
      summary: `Canary ${who} uses more than ${a.cpuPercent}% of its CPU limit`,
      description: `A canary container uses {{ $value | humanizePercentage }} of its CPU limit (threshold ${a.cpuPercent}% for ${a.for}).`,
    },
    {
      alert: "CanaryHighMemory",
      expr: `max(${canary(RECORDED.memory)}) > ${a.memoryPercent / 100}`,
      for: a.for,
      severity: "warning",
      summary: `Canary ${who} uses more than ${a.memoryPercent}% of its memory limit`,
      description: `A canary container uses {{ $value | humanizePercentage }} of its memory limit (threshold ${a.memoryPercent}% for ${a.for}).`,
    },
    {
      alert: "CanaryErrorRateHigherThanStable",
      expr: `max(${canary(RECORDED.errorRatio)}) - max(${primary(RECORDED.errorRatio)}) > ${a.errorRateMarginPercent / 100}`,
      for: a.for,
      severity: "critical",
      summary: `Canary ${who} fails more often than the primary`,
      description: `The canary's 5xx ratio exceeds the primary's by {{ $value | humanizePercentage }} (margin ${a.errorRateMarginPercent} points for ${a.for}).`,
    },
    {
      alert: "CanaryLatencyHigherThanStable",
      expr: `max(${canary(RECORDED.latencyP95)}) / max(${primary(RECORDED.latencyP95)}) > ${a.latencyFactor}`,
      for: a.for,
      severity: "warning",
      summary: `Canary ${who} is slower than the primary`,
      description: `The canary's P95 latency is {{ $value | printf "%.2f" }} times the primary's (factor ${a.latencyFactor} for ${a.for}).`,
    },
  ];
  // Only a weighted canary's traffic follows flagger_canary_weight; A/B and blue-green route by match or not at all.
  if (t.settings.strategy === "canary") {
    specs.push({
      alert: "CanaryTrafficAllocationAbnormal",
      expr:
        `abs(max(${RECORDED.canaryShare}{service="${t.service}", namespace="${t.namespace}"}) * 100 - max(${flaggerSelector("flagger_canary_weight", t)}))\n` +
        `> ${a.trafficDeviationPercent}`,
      for: trafficFor(settings),
      severity: "warning",
      summary: `Canary ${who} receives a traffic share far from Flagger's weight`,
      description: `The observed canary share is {{ $value | printf "%.0f" }} points away from Flagger's weight (allowed ${a.trafficDeviationPercent}).`,
    });
  }
  const status = flaggerSelector("flagger_canary_status", t);
  const progressing = `max(${status}) == 0`;
  specs.push(
    {
      alert: "CanaryDeploymentStuck",
      expr: `${progressing}\nand on ()\n(sum(${canary(RECORDED.requestRate)}) or vector(0)) == 0`,
      for: STUCK_NO_TRAFFIC_FOR,
      severity: "warning",
      summary: `Canary ${who} is progressing without traffic`,
      description: `Flagger is analysing the canary but it has received no requests for ${STUCK_NO_TRAFFIC_FOR}; the analysis cannot pass.`,
      extraLabels: { reason: "no-traffic" },
    },
    {
      alert: "CanaryDeploymentStuck",
      expr: progressing,
      for: overdueFor(settings, t.settings),
      severity: "warning",
      summary: `Canary ${who} is taking longer than its expected duration`,
      description: `The rollout has been progressing for ${overdueFor(settings, t.settings)}: its worst case to Succeeded, per-step holds included, plus one more rollout without holds.`,
      extraLabels: { reason: "overdue" },
    },
    {
      alert: "CanaryRolledBack",
      expr: `max(${status}) == 2\nand on ()\nmax(changes(${status}[${ROLLED_BACK_WINDOW}])) > 0`,
      severity: "critical",
      summary: `Canary ${who} failed and was rolled back`,
      description: "Flagger reports the canary analysis failed; traffic is back on the primary.",
    },
  );
  return specs.map((s) => canaryAlert(settings, t, s));
}

export function canaryAlertRules(settings: Settings): RuleGroup {
  return {
    name: "aiwp-canary.alerts",
    rules: canaryTargets(settings).flatMap((t) => serviceCanaryAlerts(settings, t)),
  };
}

/** Error budget of an SLO given in percent (99.95 -> 0.0005), rounded to drop binary noise. */
export function errorBudget(percent: number): number {
  return Number((1 - percent / 100).toPrecision(12));
}

function burnCondition(
  metric: (w: string) => string,
  sel: string,
  budget: number,
  windows: readonly { factor: number; long: string; short: string }[],
): string {
  return windows
    .map(({ factor, long, short }) => {
      const limit = Number((factor * budget).toPrecision(12));
      return `(\n  max(${metric(long)}{${sel}}) > ${limit}\n  and\n  max(${metric(short)}{${sel}}) > ${limit}\n)`;
    })
    .join("\nor\n");
}

/** Multi-window multi-burn-rate alerts per service, on availability and latency. */
export function sloAlertRules(settings: Settings): RuleGroup {
  const slo = settings.observability.slo;
  const rules: AlertingRule[] = [];
  for (const [service, svc] of Object.entries(settings.services)) {
    const t = target(settings, service, svc);
    const sel = `service="${service}", namespace="${t.namespace}"`;
    const link = dashboardLink(settings, DASHBOARD_UIDS.slo, t);
    const kinds = [
      [
        "Availability",
        RECORDED.sloErrors,
        errorBudget(slo.availabilityPercent),
        `${slo.availabilityPercent}% of requests succeed`,
      ],
      [
        "Latency",
        RECORDED.sloSlow,
        errorBudget(slo.latencyPercent),
        `${slo.latencyPercent}% of requests within ${latencyBucket(slo.latencyThresholdMs)} ms`,
      ],
    ] as const;
    for (const [kind, metric, budget, objective] of kinds) {
      for (const speed of ["fast", "slow"] as const) {
        const alert = `SLO${kind}${speed === "fast" ? "FastBurn" : "SlowBurn"}`;
        const windows = BURN_RATES[speed];
        rules.push({
          alert,
          expr: burnCondition(metric, sel, budget, windows),
          for: speed === "fast" ? FAST_BURN_FOR : SLOW_BURN_FOR,
          labels: {
            severity: speed === "fast" ? "critical" : "warning",
            service,
            namespace: t.namespace,
            team: svc.team,
          },
          annotations: {
            summary: `${t.namespace}/${service} burns its ${kind.toLowerCase()} error budget ${speed === "fast" ? "fast" : "steadily"}`,
            description:
              `SLO: ${objective}. The bad-request ratio is {{ $value | humanizePercentage }} over ${windows[0].long}, ` +
              `above ${windows.map((w) => `${w.factor}x the budget over ${w.long} and ${w.short}`).join(", or ")}.`,
            runbook_url: runbook(alert),
            release: releaseTemplate(svc.image, t, `${service}(-primary)?`),
            dashboard_url: link,
          },
        });
      }
    }
  }
  return { name: "aiwp-slo.alerts", rules };
}

function platformAlert(
  alert: (typeof PLATFORM_ALERTS)[number],
  expr: string,
  forDuration: string | undefined,
  labels: { severity: "critical" | "warning"; service: string; namespace: string } & Record<string, string>,
  summary: string,
  description: string,
): AlertingRule {
  const rule: AlertingRule = {
    alert,
    expr,
    labels: { ...labels, team: PLATFORM_TEAM },
    annotations: { summary, description, runbook_url: runbook(alert) },
  };
  if (forDuration) rule.for = forDuration;
  return rule;
}

/** Alerts on the platform that the canary and SLO alerts rely on. */
export function platformAlertRules(settings: Settings): RuleGroup {
  const rpo = settings.backup.rpoMinutes;
  const hourly = `${SELECTORS.velero}, schedule="${VELERO_SCHEDULES.hourly}"`;
  const mon = NAMESPACES.monitoring;
  return {
    name: "aiwp-platform.alerts",
    rules: [
      platformAlert(
        "PrometheusRuleEvaluationFailures",
        `sum by (rule_group) (increase(prometheus_rule_evaluation_failures_total{${SELECTORS.prometheus}}[5m])) > 0`,
        "5m",
        { severity: "critical", service: "prometheus", namespace: mon },
        "Prometheus fails to evaluate rules",
        'Rule group {{ $labels.rule_group }} failed {{ $value | printf "%.0f" }} evaluations in 5m: its alerts may be silent.',
      ),
      platformAlert(
        "PrometheusTargetMissing",
        "up == 0",
        "10m",
        { severity: "warning", service: "prometheus", namespace: mon },
        "A Prometheus target is down",
        "{{ $labels.job }} at {{ $labels.instance }} has not been scraped successfully for 10m.",
      ),
      platformAlert(
        "AlertmanagerNotificationsFailing",
        `sum by (integration) (rate(alertmanager_notifications_failed_total{${SELECTORS.alertmanager}}[5m])) > 0`,
        "10m",
        { severity: "critical", service: "alertmanager", namespace: mon },
        "Alertmanager cannot deliver notifications",
        "Notifications through {{ $labels.integration }} have been failing for 10m.",
      ),
      platformAlert(
        "FlaggerDown",
        `absent(up{${SELECTORS.flagger}} == 1)`,
        "5m",
        { severity: "critical", service: "flagger", namespace: NAMESPACES.flagger },
        "Flagger is down",
        "No Flagger instance has been up for 5m: canaries are neither analysed nor rolled back.",
      ),
      platformAlert(
        "VeleroBackupFailed",
        `sum by (schedule) (increase(velero_backup_failure_total{${SELECTORS.velero}}[1h])) > 0`,
        undefined,
        { severity: "warning", service: "velero", namespace: NAMESPACES.velero },
        "A Velero backup failed",
        "Schedule {{ $labels.schedule }} had a failed backup in the last hour.",
      ),
      platformAlert(
        "VeleroBackupTooOld",
        // The hourly Schedule carries the RPO; the daily full backup succeeding must not mask it.
        `(time() - max(velero_backup_last_successful_timestamp{${hourly}})) > ${rpo * 60}\nor\nabsent(velero_backup_last_successful_timestamp{${hourly}})`,
        "5m",
        { severity: "critical", service: "velero", namespace: NAMESPACES.velero },
        `No successful Velero backup within the RPO (${rpo} min)`,
        `The newest successful backup is older than the RPO of ${rpo} minutes, or there is none.`,
      ),
      platformAlert(
        "NodeNotReady",
        `kube_node_status_condition{${SELECTORS.kubeStateMetrics}, condition="Ready", status="true"} == 0`,
        "5m",
        { severity: "warning", service: "node", namespace: "kube-system" },
        "A node is not ready",
        "Node {{ $labels.node }} has not been Ready for 5m.",
      ),
      platformAlert(
        "NodeMemoryPressure",
        `kube_node_status_condition{${SELECTORS.kubeStateMetrics}, condition="MemoryPressure", status="true"} == 1`,
        "5m",
        { severity: "warning", service: "node", namespace: "kube-system" },
        "A node is under memory pressure",
        "Node {{ $labels.node }} reports MemoryPressure; the kubelet is evicting pods.",
      ),
      ...(
        [
          ["warning", 0.15],
          ["critical", 0.05],
        ] as const
      ).map(([severity, free]) =>
        platformAlert(
          "PersistentVolumeFillingUp",
          `kubelet_volume_stats_available_bytes{${SELECTORS.kubelet}} / kubelet_volume_stats_capacity_bytes{${SELECTORS.kubelet}} < ${free}`,
          "5m",
          // The series carries the claim's own namespace; the rule only names the service.
          { severity, service: "persistent-volume", namespace: "{{ $labels.namespace }}" },
          "A persistent volume is filling up",
          `Volume {{ $labels.persistentvolumeclaim }} has {{ $value | humanizePercentage }} free (below ${free * 100}%).`,
        ),
      ),
    ],
  };
}

/** Every rule group of the estate, recording rules first so alerts read this evaluation's values. */
export function alertRules(settings: Settings): RuleGroup[] {
  return [
    canaryRecordingRules(settings),
    sloRecordingRules(settings),
    canaryAlertRules(settings),
    sloAlertRules(settings),
    platformAlertRules(settings),
  ];
}

/** Every PromQL expression of a set of groups (for parsers and linters). */
export function ruleExpressions(groups: RuleGroup[]): string[] {
  return groups.flatMap((g) => g.rules.map((r) => r.expr));
}
