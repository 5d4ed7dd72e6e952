/**
 * Generates `promtool test rules` cases from the same settings that produce the rules: for every threshold
 * alert, input series that cross the threshold, with the alert absent one minute before it is due and
 * firing, with its contract labels, at the minute it is due; series just under the threshold that never
 * fire; faults on `<service>-primary` that never fire canary alerts; fast and slow SLO burns.
 *
 * Timing: series are sampled every 15s from t=0 and rules are evaluated every minute. A ratio of two rates
 * (error ratio, latency quantile, traffic share, SLO ratios) is exact as soon as its window holds two
 * samples, i.e. at the 1m evaluation; a rate of CPU seconds reaches its full value once its whole window
 * (CPU_WINDOW) lies after t=0, and the series are chosen so the partial window before that stays under the
 * threshold; gauges (memory, replicas, Flagger status) hold from t=0. The alert is due at that minute plus
 * the rule's `for`.
 *
 * Input series are generated from the telemetry contract (lib/telemetry.ts `storedSeries`): the exporter's own
 * label names (Istio's standard labels, kube-state-metrics', cAdvisor's, Flagger's `name`/`workload`), the
 * target labels the Prometheus Operator adds (`job`, `namespace`, `pod`, `container`, `service`, `endpoint`,
 * `exported_*` where honor_labels is off) and Prometheus 3's float `le`. They are never derived from the
 * rules' selectors, so a rule that selects a label the stored series lack selects nothing and fails its test.
 * Debian's promtool is 2.42, which stores input series exactly as written and does not normalise `le` the way
 * Prometheus 3's scrape does; the series are therefore written in Prometheus 3's stored form (`le="250.0"`).
 */
import { durationSeconds } from "../../lib/duration";
import { VELERO_SCHEDULES, appNamespace } from "../../lib/names";
import {
  canaryTargets,
  CPU_WINDOW,
  errorBudget,
  FAST_BURN_FOR,
  latencyBucket,
  overdueFor,
  platformAlertRules,
  RECORDED,
  SLOW_BURN_FOR,
  STUCK_NO_TRAFFIC_FOR,
  type AlertingRule,
  type RuleGroup,
  type ServiceTarget,
} from "../../components/observability/rules";
import type { Settings } from "../../settings";
import { CANARY_SCOPE, EXPORTERS, storedLabels, storedSeries, seriesNotation } from "../../lib/telemetry";

const STEP_SECONDS = 15;

export interface InputSeries {
  series: string;
  values: string;
}
export interface ExpAlert {
  exp_labels: Record<string, string>;
  exp_annotations: Record<string, string>;
}
export interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts: ExpAlert[];
}
export interface PromtoolTest {
  name: string;
  interval: string;
  input_series: InputSeries[];
  alert_rule_test: AlertRuleTest[];
}
export interface PromtoolTestFile {
  rule_files: string[];
  evaluation_interval: string;
  group_eval_order: string[];
  tests: PromtoolTest[];
}

const minutes = (d: string) => durationSeconds(d) / 60;

/** Severities as ESTATE section 5 fixes them (independent of the rules module). */
const SEVERITY: Record<string, string> = {
  CanaryHighErrorRate: "critical",
  CanaryHighLatency: "critical",
  CanaryUnhealthyInstances: "critical",
  CanaryPodCrashLoop: "critical",
  CanaryHighCPU: "warning",
  CanaryHighMemory: "warning",
  CanaryErrorRateHigherThanStable: "critical",
  CanaryLatencyHigherThanStable: "warning",
  CanaryTrafficAllocationAbnormal: "warning",
  CanaryDeploymentStuck: "warning",
  CanaryRolledBack: "critical",
  SLOAvailabilityFastBurn: "critical",
  SLOAvailabilitySlowBurn: "warning",
  SLOLatencyFastBurn: "critical",
  SLOLatencySlowBurn: "warning",
};

/** Go's `%.4g`, as Prometheus's humanize functions print. */
export function goG4(v: number): string {
  if (v === 0) return "0";
  const rounded = Number(v.toPrecision(4));
  const exp = Math.floor(Math.log10(Math.abs(rounded)));
  if (exp < -4 || exp >= 4) {
    const [mantissa, e] = rounded.toExponential(3).split("e");
    const n = Number(e);
    return `${mantissa.replace(/\.?0+$/, "")}e${n < 0 ? "-" : "+"}${String(Math.abs(n)).padStart(2, "0")}`;
  }
  return String(rounded);
}

/**
 * Renders the template forms the estate's annotations use, for a known value, canary weight and alert
 * labels (`$labels` are the expression's output labels, as Prometheus expands them).
 */
export function renderAnnotation(
  template: string,
  value: number,
  weight: number | undefined,
  labels: Record<string, string> = {},
): string {
  const out = template
    // The release query's answer is marked here; `versioned` below fills in the served version, or
    // "unknown" where a case has no request series.
    .replace(
      /\{\{ with query "(?:[^"\\]|\\.)*" \}\}\{\{ \. \| first \| label "destination_version" \}\}\{\{ else \}\}unknown\{\{ end \}\}/g,
      VERSION_MARK,
    )
    .replace(/\{\{ \$labels\.([a-zA-Z_][a-zA-Z0-9_]*) \}\}/g, (_m, l: string) => labels[l] ?? "")
    .replace(
      /\{\{ with query "(?:[^"\\]|\\.)*" \}\}\{\{ \. \| first \| value \}\}\{\{ else \}\}unknown\{\{ end \}\}/g,
      () => (weight === undefined ? "unknown" : String(weight)),
    )
    .replace(/\{\{ \$value \| humanizePercentage \}\}/g, () => `${goG4(value * 100)}%`)
    .replace(/\{\{ \$value \| printf "%\.(\d)f" \}\}/g, (_m, digits: string) =>
      value.toFixed(Number(digits)),
    );
  if (out.includes("{{")) throw new Error(`ruleTests cannot render annotation template: ${template}`);
  return out;
}

/** Stands for the release query's answer until the case's input series are known. */
const VERSION_MARK = "\u0000version\u0000";

const counter = (perStep: number, steps: number) => `0+${perStep}x${steps}`;
const gauge = (value: number, steps: number) => `${value}+0x${steps}`;

interface Ctx {
  settings: Settings;
  rules: AlertingRule[];
  namespace: string;
}

function ruleFor(ctx: Ctx, alert: string, service: string, extra: Record<string, string> = {}): AlertingRule {
  const found = ctx.rules.find(
    (r) =>
      r.alert === alert &&
      r.labels.service === service &&
      Object.entries(extra).every(([k, v]) => r.labels[k] === v),
  );
  if (!found) throw new Error(`no ${alert} rule for ${service} ${JSON.stringify(extra)}`);
  return found;
}

function expected(
  ctx: Ctx,
  alert: string,
  t: { service: string; team: string },
  value: number,
  weight?: number,
  extra: Record<string, string> = {},
): ExpAlert {
  const rule = ruleFor(ctx, alert, t.service, extra);
  return {
    exp_labels: {
      severity: SEVERITY[alert],
      service: t.service,
      namespace: ctx.namespace,
      team: t.team,
      // Canary alerts carry the gate's scope label; the service-wide SLO alerts must not.
      ...(alert.startsWith("Canary") ? { [CANARY_SCOPE.label]: CANARY_SCOPE.value } : {}),
      ...extra,
    },
    exp_annotations: Object.fromEntries(
      Object.entries(rule.annotations).map(([k, v]) => [k, renderAnnotation(v, value, weight)]),
    ),
  };
}

/**
 * The version the release annotation reads: the stored `destination_version` of the case's request series
 * (the pods' `version` label, Istio's standard label), or "unknown" when the case has none.
 */
function servedVersion(input: InputSeries[]): string {
  const found = input
    .map((s) => /^istio_requests_total\{.*\bdestination_version="([^"]*)"/.exec(s.series))
    .find((m) => m !== null);
  return found ? found[1] : "unknown";
}

function versioned(test: AlertRuleTest, version: string): AlertRuleTest {
  return {
    ...test,
    exp_alerts: test.exp_alerts.map((e) => ({
      ...e,
      exp_annotations: Object.fromEntries(
        Object.entries(e.exp_annotations).map(([k, v]) => [k, v.split(VERSION_MARK).join(version)]),
      ),
    })),
  };
}

/** A firing check at `due` minutes, absent the minute before. */
function firesAt(alertname: string, due: number, exp: ExpAlert[]): AlertRuleTest[] {
  const checks: AlertRuleTest[] = [];
  if (due >= 1) checks.push({ eval_time: `${due - 1}m`, alertname, exp_alerts: [] });
  checks.push({ eval_time: `${due}m`, alertname, exp_alerts: exp });
  return checks;
}

function never(alertname: string, until: number): AlertRuleTest[] {
  return [
    { eval_time: `${until}m`, alertname, exp_alerts: [] },
    { eval_time: `${until + 2}m`, alertname, exp_alerts: [] },
  ];
}

/** The tag the generated pods run (their `version` label, which Istio reports as `destination_version`). */
const TEST_VERSION = "1.4.2";

/**
 * Istio's standard labels of a request from the ingress gateway to a workload, as the destination's sidecar
 * reports it; the target labels are those of the destination pod's sidecar (the envoy-stats PodMonitor).
 */
function istioLabels(ns: string, w: string, extra: Record<string, string | number>): Record<string, string> {
  const service = w.replace(/-primary$/, "");
  return storedLabels(
    extra.le === undefined ? "istio_requests_total" : "istio_request_duration_milliseconds_bucket",
    {
      reporter: "destination",
      source_workload: "istio-ingressgateway",
      source_workload_namespace: "istio-ingress",
      source_principal: "spiffe://cluster.local/ns/istio-ingress/sa/istio-ingressgateway",
      source_app: "istio-ingressgateway",
      source_version: "unknown",
      source_cluster: "Kubernetes",
      source_canonical_service: "istio-ingressgateway",
      source_canonical_revision: "latest",
      destination_workload: w,
      destination_workload_namespace: ns,
      destination_principal: `spiffe://cluster.local/ns/${ns}/sa/${service}`,
      destination_app: service,
      destination_version: TEST_VERSION,
      destination_service: `${w}.${ns}.svc.cluster.local`,
      destination_service_name: w,
      destination_service_namespace: ns,
      destination_cluster: "Kubernetes",
      destination_canonical_service: service,
      destination_canonical_revision: TEST_VERSION,
      request_protocol: "http",
      response_flags: "-",
      connection_security_policy: "mutual_tls",
      response_code: "200",
      ...extra,
    },
    { namespace: ns, pod: pod(w) },
    ns,
  );
}

const istioSel = (ns: string, w: string, code: string) =>
  seriesNotation("istio_requests_total", istioLabels(ns, w, { response_code: code }));

/** Requests to a workload at 100 per step with the given 5xx ratio. */
function requests(ns: string, w: string, errorRatio: number, steps: number, perStep = 100): InputSeries[] {
  const series = [{ series: istioSel(ns, w, "200"), values: counter(perStep * (1 - errorRatio), steps) }];
  if (errorRatio > 0)
    series.push({ series: istioSel(ns, w, "503"), values: counter(perStep * errorRatio, steps) });
  return series;
}

/** Requests whose durations all fall in (lower, upper]; `bounds` are the histogram's finite bucket bounds. */
function durations(ns: string, w: string, bounds: number[], lower: number, steps: number): InputSeries[] {
  return [...bounds, "+Inf" as const].map((le) => ({
    series: seriesNotation("istio_request_duration_milliseconds_bucket", istioLabels(ns, w, { le })),
    values: le !== "+Inf" && le <= lower ? gauge(0, steps) : counter(100, steps),
  }));
}

/** histogram_quantile when every observation lies in the bucket (lower, upper]. */
const quantileIn = (q: number, lower: number, upper: number) => lower + (upper - lower) * q;

const pod = (w: string) => `${w}-5d8f7c9b6-x7k2p`;
/** The application container of a workload's pods: the Deployment names it after the service. */
const container = (w: string) => w.replace(/-primary$/, "");
const NODE = EXPORTERS.cadvisor.target.node;

/** cAdvisor's labels of one container, as the kubelet exposes them (stored with the kubelet target's). */
function cadvisor(name: string, ns: string, w: string): string {
  return storedSeries(name, {
    namespace: ns,
    pod: pod(w),
    container: container(w),
    id: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f1e2d3c.slice/cri-containerd-4b5a6c7d.scope`,
    image: `aiwpprod.azurecr.io/${container(w)}:${TEST_VERSION}`,
    name: "4b5a6c7d8e9f",
  });
}

/** kube-state-metrics' limit of one container's resource. */
function limitSeries(ns: string, w: string, resource: "cpu" | "memory"): string {
  return storedSeries("kube_pod_container_resource_limits", {
    namespace: ns,
    pod: pod(w),
    uid: "6f1c2e3d-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
    container: container(w),
    node: NODE,
    resource,
    unit: resource === "cpu" ? "core" : "byte",
  });
}

function cpuSeries(ns: string, w: string, ratio: number, steps: number): InputSeries[] {
  return [
    {
      series: cadvisor("container_cpu_usage_seconds_total", ns, w),
      values: counter(ratio * STEP_SECONDS, steps),
    },
    { series: limitSeries(ns, w, "cpu"), values: gauge(1, steps) },
  ];
}

function memorySeries(ns: string, w: string, ratio: number, steps: number): InputSeries[] {
  const limit = 2 ** 30;
  return [
    { series: cadvisor("container_memory_working_set_bytes", ns, w), values: gauge(ratio * limit, steps) },
    { series: limitSeries(ns, w, "memory"), values: gauge(limit, steps) },
  ];
}

function replicaSeries(
  ns: string,
  w: string,
  available: number,
  desired: number,
  steps: number,
): InputSeries[] {
  return [
    {
      series: storedSeries("kube_deployment_status_replicas_available", { namespace: ns, deployment: w }),
      values: gauge(available, steps),
    },
    {
      series: storedSeries("kube_deployment_spec_replicas", { namespace: ns, deployment: w }),
      values: gauge(desired, steps),
    },
  ];
}

/** Restart counter flat at 0, jumping by `restarts` at minute 1. */
function restartSeries(ns: string, w: string, restarts: number, steps: number): InputSeries[] {
  return [
    {
      series: storedSeries("kube_pod_container_status_restarts_total", {
        namespace: ns,
        pod: pod(w),
        uid: "6f1c2e3d-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
        container: container(w),
      }),
      values: `0+0x${60 / STEP_SECONDS - 1} ${restarts}+0x${steps - 60 / STEP_SECONDS}`,
    },
  ];
}

/** Flagger's series of a canary, as Flagger writes them (Flagger v1.44 pkg/metrics/recorder.go). */
const flaggerStatus = (t: ServiceTarget) =>
  storedSeries("flagger_canary_status", { name: t.service, namespace: t.namespace });
const flaggerWeight = (t: ServiceTarget, workload: string) =>
  storedSeries("flagger_canary_weight", { workload, namespace: t.namespace });

/** The tests of one Flagger-managed service. */
export function serviceTests(ctx: Ctx, t: ServiceTarget): PromtoolTest[] {
  const a = ctx.settings.observability.alerts;
  const ns = t.namespace;
  const tests: PromtoolTest[] = [];
  const add = (
    name: string,
    _due: number,
    input_series: InputSeries[],
    alert_rule_test: AlertRuleTest[],
    stepSeconds = STEP_SECONDS,
  ) =>
    tests.push({
      name: `${t.service}: ${name}`,
      interval: `${stepSeconds}s`,
      input_series,
      alert_rule_test: alert_rule_test.map((c) => versioned(c, servedVersion(input_series))),
    });
  const stepsFor = (horizonMinutes: number) => (horizonMinutes + 1) * (60 / STEP_SECONDS);
  const forMin = minutes(a.for);

  // CanaryHighErrorRate: a ratio of rates, exact from the 1m evaluation.
  {
    const theta = a.errorRatePercent / 100;
    const bad = Math.min(2 * theta, (theta + 1) / 2);
    const due = 1 + forMin;
    const steps = stepsFor(due + 2);
    add(
      `CanaryHighErrorRate fires ${a.for} after the canary's 5xx ratio reaches ${bad * 100}%`,
      due,
      requests(ns, t.canary, bad, steps),
      firesAt("CanaryHighErrorRate", due, [expected(ctx, "CanaryHighErrorRate", t, bad)]),
    );
    add(
      `CanaryHighErrorRate stays silent at ${theta * 90}% 5xx`,
      due,
      requests(ns, t.canary, theta * 0.9, steps),
      never("CanaryHighErrorRate", due),
    );
    add(
      "CanaryHighErrorRate ignores 5xx on the primary",
      due,
      [...requests(ns, t.primary, bad, steps), ...requests(ns, t.canary, 0, steps)],
      never("CanaryHighErrorRate", due),
    );
  }

  // CanaryHighLatency: every observation in one bucket, bounds relative to the threshold under test.
  for (const [q, threshold] of [
    ["p95", a.latencyP95Ms],
    ["p99", a.latencyP99Ms],
  ] as const) {
    const bounds = [0.5 * threshold, 0.9 * threshold, 2 * threshold];
    const due = 1 + forMin;
    const steps = stepsFor(due + 2);
    const firing = (lower: number, upper: number) =>
      (
        [
          ["p95", 0.95, a.latencyP95Ms],
          ["p99", 0.99, a.latencyP99Ms],
        ] as const
      )
        .filter(([, qq, ms]) => quantileIn(qq, lower, upper) > ms)
        .map(([name, qq]) =>
          expected(ctx, "CanaryHighLatency", t, quantileIn(qq, lower, upper), undefined, { quantile: name }),
        );
    add(
      `CanaryHighLatency (${q}) fires ${a.for} after the canary's ${q} passes ${threshold} ms`,
      due,
      durations(ns, t.canary, bounds, bounds[1], steps),
      firesAt("CanaryHighLatency", due, firing(bounds[1], bounds[2])),
    );
    const under = firing(bounds[0], bounds[1]).filter((e) => e.exp_labels.quantile === q);
    if (under.length > 0) throw new Error(`latency test series for ${q} are not under the threshold`);
    add(
      `CanaryHighLatency (${q}) stays silent under ${threshold} ms`,
      due,
      durations(ns, t.canary, bounds, bounds[0], steps),
      [{ eval_time: `${due}m`, alertname: "CanaryHighLatency", exp_alerts: firing(bounds[0], bounds[1]) }],
    );
    add(
      `CanaryHighLatency (${q}) ignores a slow primary`,
      due,
      durations(ns, t.primary, bounds, bounds[1], steps),
      never("CanaryHighLatency", due),
    );
  }

  // CanaryUnhealthyInstances: gauges, true from t=0.
  {
    const due = minutes(a.unhealthyFor);
    const steps = stepsFor(due + 2);
    add(
      `CanaryUnhealthyInstances fires after ${a.unhealthyFor} with 1 of 3 replicas available`,
      due,
      replicaSeries(ns, t.canary, 1, 3, steps),
      firesAt("CanaryUnhealthyInstances", due, [expected(ctx, "CanaryUnhealthyInstances", t, 1)]),
    );
    add(
      "CanaryUnhealthyInstances stays silent with every replica available",
      due,
      replicaSeries(ns, t.canary, 3, 3, steps),
      never("CanaryUnhealthyInstances", due),
    );
    add(
      "CanaryUnhealthyInstances ignores the primary",
      due,
      [...replicaSeries(ns, t.primary, 1, 3, steps), ...replicaSeries(ns, t.canary, 3, 3, steps)],
      never("CanaryUnhealthyInstances", due),
    );
  }

  // CanaryPodCrashLoop: restarts jump at minute 1; no `for`.
  {
    const due = 1;
    const steps = stepsFor(due + 3);
    const bad = 2 * a.crashLoopRestarts;
    add(
      `CanaryPodCrashLoop fires at once on ${bad} restarts`,
      due,
      restartSeries(ns, t.canary, bad, steps),
      firesAt("CanaryPodCrashLoop", due, [expected(ctx, "CanaryPodCrashLoop", t, bad)]),
    );
    add(
      `CanaryPodCrashLoop stays silent at exactly ${a.crashLoopRestarts} restarts`,
      due,
      restartSeries(ns, t.canary, a.crashLoopRestarts, steps),
      never("CanaryPodCrashLoop", due),
    );
    add(
      "CanaryPodCrashLoop ignores primary pods",
      due,
      restartSeries(ns, t.primary, bad, steps),
      never("CanaryPodCrashLoop", due),
    );
  }

  // CanaryHighCPU and CanaryHighMemory: over the limit share on the canary fires after `for`; just under it,
  // or on the primary, never fires.
  const resourceCases = (
    alert: "CanaryHighCPU" | "CanaryHighMemory",
    what: string,
    series: typeof cpuSeries,
    theta: number,
    bad: number,
    due: number,
  ) => {
    const steps = stepsFor(due + 2);
    add(
      `${alert} fires ${a.for} after the canary uses ${bad * 100}% of its ${what} limit`,
      due,
      series(ns, t.canary, bad, steps),
      firesAt(alert, due, [expected(ctx, alert, t, bad)]),
    );
    add(
      `${alert} stays silent at ${theta * 90}% of the limit`,
      due,
      series(ns, t.canary, theta * 0.9, steps),
      never(alert, due),
    );
    add(`${alert} ignores primary pods`, due, series(ns, t.primary, bad, steps), never(alert, due));
  };
  // CPU is a rate: full value once the CPU window lies after t=0; the half window before stays under.
  const cpuTheta = a.cpuPercent / 100;
  resourceCases(
    "CanaryHighCPU",
    "CPU",
    cpuSeries,
    cpuTheta,
    Math.min((1 + cpuTheta) / 2, 1.6 * cpuTheta),
    minutes(CPU_WINDOW) + forMin,
  );
  // Memory is a gauge, true from t=0.
  const memoryTheta = a.memoryPercent / 100;
  resourceCases("CanaryHighMemory", "memory", memorySeries, memoryTheta, (1 + memoryTheta) / 2, forMin);

  // CanaryErrorRateHigherThanStable: primary clean, canary above it by twice the margin.
  {
    const margin = a.errorRateMarginPercent / 100;
    const bad = Math.min(2 * margin, 1);
    const due = 1 + forMin;
    const steps = stepsFor(due + 2);
    add(
      `CanaryErrorRateHigherThanStable fires when the canary fails ${bad * 100} points more than the primary`,
      due,
      [...requests(ns, t.canary, bad, steps), ...requests(ns, t.primary, 0, steps)],
      firesAt("CanaryErrorRateHigherThanStable", due, [
        expected(ctx, "CanaryErrorRateHigherThanStable", t, bad),
      ]),
    );
    add(
      "CanaryErrorRateHigherThanStable stays silent within the margin",
      due,
      [...requests(ns, t.canary, margin * 0.5, steps), ...requests(ns, t.primary, 0, steps)],
      never("CanaryErrorRateHigherThanStable", due),
    );
    add(
      "CanaryErrorRateHigherThanStable stays silent when the primary fails",
      due,
      [...requests(ns, t.canary, 0, steps), ...requests(ns, t.primary, bad, steps)],
      never("CanaryErrorRateHigherThanStable", due),
    );
  }

  // CanaryLatencyHigherThanStable: primary in the lowest bucket, canary in one far enough above.
  {
    const base = a.latencyP95Ms;
    const bounds = [0.5 * base, 0.9 * base, 2 * base];
    const primaryP95 = quantileIn(0.95, 0, bounds[0]);
    const lowers = [bounds[0], bounds[1]];
    const lower = lowers.find(
      (l, i) => quantileIn(0.95, l, bounds[i + 1]) / primaryP95 > a.latencyFactor * 1.05,
    );
    if (lower === undefined)
      throw new Error(`latencyFactor ${a.latencyFactor} is beyond what the generated series can show`);
    const canaryP95 = quantileIn(0.95, lower, bounds[bounds.indexOf(lower) + 1]);
    const due = 1 + forMin;
    const steps = stepsFor(due + 2);
    add(
      `CanaryLatencyHigherThanStable fires when the canary's P95 is ${(canaryP95 / primaryP95).toFixed(2)}x the primary's`,
      due,
      [...durations(ns, t.canary, bounds, lower, steps), ...durations(ns, t.primary, bounds, 0, steps)],
      firesAt("CanaryLatencyHigherThanStable", due, [
        expected(ctx, "CanaryLatencyHigherThanStable", t, canaryP95 / primaryP95),
      ]),
    );
    add(
      "CanaryLatencyHigherThanStable stays silent when both are equally fast",
      due,
      [...durations(ns, t.canary, bounds, 0, steps), ...durations(ns, t.primary, bounds, 0, steps)],
      never("CanaryLatencyHigherThanStable", due),
    );
    add(
      "CanaryLatencyHigherThanStable stays silent when the primary is the slow one",
      due,
      [...durations(ns, t.canary, bounds, 0, steps), ...durations(ns, t.primary, bounds, lower, steps)],
      never("CanaryLatencyHigherThanStable", due),
    );
  }

  // CanaryTrafficAllocationAbnormal (weighted canaries only): shares from request rates, weight 50.
  if (t.settings.strategy === "canary") {
    const weight = 50;
    const d = a.trafficDeviationPercent;
    if (d >= 50) throw new Error("trafficDeviationPercent >= 50 leaves no share to test with");
    const deviation = Math.min(2 * d, 50);
    const due = 1 + 2 * forMin;
    const steps = stepsFor(due + 2);
    const split = (sharePercent: number): InputSeries[] => [
      { series: istioSel(ns, t.canary, "200"), values: counter(sharePercent, steps) },
      { series: istioSel(ns, t.primary, "200"), values: counter(100 - sharePercent, steps) },
      { series: flaggerWeight(t, t.canary), values: gauge(weight, steps) },
      { series: flaggerWeight(t, t.primary), values: gauge(100 - weight, steps) },
    ];
    add(
      `CanaryTrafficAllocationAbnormal fires when the canary gets ${weight + deviation}% at weight ${weight}`,
      due,
      split(weight + deviation),
      firesAt("CanaryTrafficAllocationAbnormal", due, [
        expected(ctx, "CanaryTrafficAllocationAbnormal", t, deviation, weight),
      ]),
    );
    add(
      "CanaryTrafficAllocationAbnormal stays silent within the allowed deviation",
      due,
      split(weight + d / 2),
      never("CanaryTrafficAllocationAbnormal", due),
    );
  }

  // CanaryDeploymentStuck: Flagger progressing (status 0), with or without canary traffic.
  {
    const noTraffic = minutes(STUCK_NO_TRAFFIC_FOR);
    // The rollout's budgeted duration comes from the timing model (lib/flaggerTiming.ts through overdueFor).
    const overdue = Math.ceil(minutes(overdueFor(ctx.settings, t.settings)));
    const firing = (at: number, traffic: boolean) => [
      ...(!traffic && at >= noTraffic
        ? [expected(ctx, "CanaryDeploymentStuck", t, 0, undefined, { reason: "no-traffic" })]
        : []),
      ...(at >= overdue
        ? [expected(ctx, "CanaryDeploymentStuck", t, 0, undefined, { reason: "overdue" })]
        : []),
    ];
    const horizon = Math.max(noTraffic, overdue) + 2;
    // promtool's test engine loads at most 10000 samples per query, which the 3d SLO windows exceed over a
    // rollout of many hours at 15s: such horizons are sampled once a minute (a 1m rate still sees two samples).
    const stepSeconds = (horizon * 60) / STEP_SECONDS > 5000 ? 60 : STEP_SECONDS;
    const steps = (horizon + 1) * (60 / stepSeconds);
    const status = { series: flaggerStatus(t), values: gauge(0, steps) };
    const at = (m: number, traffic: boolean): AlertRuleTest => ({
      eval_time: `${m}m`,
      alertname: "CanaryDeploymentStuck",
      exp_alerts: firing(m, traffic),
    });
    add(
      `CanaryDeploymentStuck fires after ${STUCK_NO_TRAFFIC_FOR} of analysis without canary traffic`,
      noTraffic,
      [status],
      [at(noTraffic - 1, false), at(noTraffic, false)],
      stepSeconds,
    );
    add(
      `CanaryDeploymentStuck fires when progressing past ${overdue}m, twice the expected rollout`,
      overdue,
      [status, ...requests(ns, t.canary, 0, steps)],
      [at(overdue - 1, true), at(overdue, true)],
      stepSeconds,
    );
    add(
      "CanaryDeploymentStuck stays silent while a finished canary gets no traffic",
      horizon,
      [{ series: status.series, values: gauge(1, steps) }],
      never("CanaryDeploymentStuck", horizon - 2),
      stepSeconds,
    );
  }

  // CanaryRolledBack: Flagger's status turns 2 (failed) at minute 2.
  {
    const due = 2;
    const steps = stepsFor(due + 3);
    const perMinute = 60 / STEP_SECONDS;
    add(
      "CanaryRolledBack fires as soon as Flagger reports the canary failed",
      due,
      [
        {
          series: flaggerStatus(t),
          values: `1+0x${due * perMinute - 1} 2+0x${steps - due * perMinute}`,
        },
      ],
      firesAt("CanaryRolledBack", due, [expected(ctx, "CanaryRolledBack", t, 2)]),
    );
    add(
      "CanaryRolledBack stays silent for a successful canary",
      due,
      [{ series: flaggerStatus(t), values: gauge(1, steps) }],
      never("CanaryRolledBack", due),
    );
  }
  return tests;
}

/** Fast and slow burns of both SLOs of one service. */
export function sloTests(ctx: Ctx, service: string): PromtoolTest[] {
  const svc = ctx.settings.services[service];
  const t = { service, team: svc.team };
  const slo = ctx.settings.observability.slo;
  const ns = ctx.namespace;
  const w = svc.strategy === "rolling" ? service : `${service}-primary`;
  const fastDue = 1 + minutes(FAST_BURN_FOR);
  const slowDue = 1 + minutes(SLOW_BURN_FOR);
  const steps = (slowDue + 2) * (60 / STEP_SECONDS);
  const tests: PromtoolTest[] = [];
  const bucket = latencyBucket(slo.latencyThresholdMs);
  const kinds = [
    ["Availability", errorBudget(slo.availabilityPercent), (ratio: number) => requests(ns, w, ratio, steps)],
    [
      "Latency",
      errorBudget(slo.latencyPercent),
      // Stored form: Prometheus 3 writes this bucket as le="250.0" (promtool 2.42 keeps what is written).
      (ratio: number): InputSeries[] => [
        {
          series: seriesNotation(
            "istio_request_duration_milliseconds_bucket",
            istioLabels(ns, w, { le: bucket }),
          ),
          values: counter(100 * (1 - ratio), steps),
        },
        {
          series: seriesNotation(
            "istio_request_duration_milliseconds_bucket",
            istioLabels(ns, w, { le: "+Inf" }),
          ),
          values: counter(100, steps),
        },
      ],
    ],
  ] as const;
  for (const [kind, budget, series] of kinds) {
    const fast = Math.min(1, 20 * budget);
    const slow = 2 * budget;
    const withRelease = (input: readonly InputSeries[], checks: AlertRuleTest[]) =>
      checks.map((c) => versioned(c, servedVersion([...input])));
    tests.push({
      name: `${service}: SLO${kind}FastBurn pages on a ${fast * 100}% bad ratio (${(fast / budget).toFixed(1)}x the budget)`,
      interval: `${STEP_SECONDS}s`,
      input_series: series(fast),
      alert_rule_test: withRelease(
        series(fast),
        firesAt(`SLO${kind}FastBurn`, fastDue, [expected(ctx, `SLO${kind}FastBurn`, t, fast)]),
      ),
    });
    tests.push({
      name: `${service}: a slow burn (2x the budget) opens SLO${kind}SlowBurn but never pages`,
      interval: `${STEP_SECONDS}s`,
      input_series: series(slow),
      alert_rule_test: withRelease(series(slow), [
        ...firesAt(`SLO${kind}SlowBurn`, slowDue, [expected(ctx, `SLO${kind}SlowBurn`, t, slow)]),
        { eval_time: `${slowDue}m`, alertname: `SLO${kind}FastBurn`, exp_alerts: [] },
      ]),
    });
  }
  return tests;
}

/** The platform rules, looked up by alert name (and severity where one name has several). */
function platformRule(ctx: Ctx, alert: string, severity?: string): AlertingRule {
  const found = ctx.rules.find(
    (r) => r.alert === alert && r.labels.team === "platform" && (!severity || r.labels.severity === severity),
  );
  if (!found) throw new Error(`no platform rule ${alert} ${severity ?? ""}`);
  return found;
}

/**
 * The alert Prometheus raises from one output series of the rule's expression: the series' labels (its
 * `$labels`), overridden by the rule's labels (templates expanded against `$labels`); annotations likewise.
 */
function platformAlert(rule: AlertingRule, exprLabels: Record<string, string>, value: number): ExpAlert {
  const expand = (v: string) => renderAnnotation(v, value, undefined, exprLabels);
  return {
    exp_labels: {
      ...exprLabels,
      ...Object.fromEntries(Object.entries(rule.labels).map(([k, v]) => [k, expand(v)])),
    },
    exp_annotations: Object.fromEntries(Object.entries(rule.annotations).map(([k, v]) => [k, expand(v)])),
  };
}

/** A stored series' labels without its name (the labels an alert inherits from it). */
function labelsOf(series: string): Record<string, string> {
  const body = series.slice(series.indexOf("{") + 1, series.lastIndexOf("}"));
  const out: Record<string, string> = {};
  for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]] = m[2];
  return out;
}

/**
 * Every platform alert fired from stored series: each source as its scrape stores it (job, namespace, pod,
 * service, endpoint of the target; honor_labels where the monitor sets it), and a quiet case beside it.
 */
export function platformTests(ctx: Ctx): PromtoolTest[] {
  const tests: PromtoolTest[] = [];
  const perMinute = 60 / STEP_SECONDS;
  const add = (name: string, input_series: InputSeries[], alert_rule_test: AlertRuleTest[]) =>
    tests.push({ name, interval: `${STEP_SECONDS}s`, input_series, alert_rule_test });
  const stepsFor = (horizon: number) => (horizon + 2) * perMinute;

  // PrometheusRuleEvaluationFailures: one failure per scrape from t=0; increase[5m] > 0 from 1m, for 5m.
  {
    const rule = platformRule(ctx, "PrometheusRuleEvaluationFailures");
    const due = 1 + minutes(rule.for ?? "0s");
    const steps = stepsFor(due);
    const group = `/etc/prometheus/rules/prometheus-kps-prometheus-rulefiles-0/monitoring-aiwp-canary.yaml;aiwp-canary.recording`;
    const series = storedSeries("prometheus_rule_evaluation_failures_total", { rule_group: group });
    // increase over 5m of a counter rising by 1 per 15s sample: 20.
    add(
      "PrometheusRuleEvaluationFailures fires when a rule group keeps failing",
      [{ series, values: counter(1, steps) }],
      firesAt(rule.alert, due, [platformAlert(rule, { rule_group: group }, 20)]),
    );
    add(
      "PrometheusRuleEvaluationFailures stays silent without failures",
      [{ series, values: gauge(0, steps) }],
      never(rule.alert, due),
    );
  }

  // PrometheusTargetMissing: Velero's target down from t=0, for 10m.
  {
    const rule = platformRule(ctx, "PrometheusTargetMissing");
    const due = minutes(rule.for ?? "0s");
    const steps = stepsFor(due);
    const series = storedSeries("up", {}, { ...EXPORTERS.velero.target });
    add(
      "PrometheusTargetMissing fires when a scrape target stays down",
      [{ series, values: gauge(0, steps) }],
      firesAt(rule.alert, due, [platformAlert(rule, labelsOf(series), 0)]),
    );
    add(
      "PrometheusTargetMissing stays silent while targets are up",
      [{ series, values: gauge(1, steps) }],
      never(rule.alert, due),
    );
  }

  // AlertmanagerNotificationsFailing: failures from t=0; rate > 0 from 1m, for 10m.
  {
    const rule = platformRule(ctx, "AlertmanagerNotificationsFailing");
    const due = 1 + minutes(rule.for ?? "0s");
    const steps = stepsFor(due);
    const series = storedSeries("alertmanager_notifications_failed_total", {
      integration: "slack",
      reason: "clientError",
    });
    add(
      "AlertmanagerNotificationsFailing fires when an integration keeps failing",
      [{ series, values: counter(1, steps) }],
      firesAt(rule.alert, due, [platformAlert(rule, { integration: "slack" }, 1 / STEP_SECONDS)]),
    );
    add(
      "AlertmanagerNotificationsFailing stays silent while notifications succeed",
      [{ series, values: gauge(0, steps) }],
      never(rule.alert, due),
    );
  }

  // FlaggerDown: Flagger's target down (or missing) from t=0, for 5m.
  {
    const rule = platformRule(ctx, "FlaggerDown");
    const due = minutes(rule.for ?? "0s");
    const steps = stepsFor(due);
    const flagger = storedSeries("up", {}, { ...EXPORTERS.flagger.target });
    const other = storedSeries("up", {}, { ...EXPORTERS.velero.target });
    add(
      "FlaggerDown fires when Flagger's scrape target is down",
      [{ series: flagger, values: gauge(0, steps) }],
      firesAt(rule.alert, due, [platformAlert(rule, {}, 1)]),
    );
    add(
      "FlaggerDown fires when no Flagger target is scraped at all",
      [{ series: other, values: gauge(1, steps) }],
      firesAt(rule.alert, due, [platformAlert(rule, {}, 1)]),
    );
    add(
      "FlaggerDown stays silent while Flagger is up",
      [{ series: flagger, values: gauge(1, steps) }],
      never(rule.alert, due),
    );
  }

  // VeleroBackupFailed: a failed backup at minute 1; no `for`.
  {
    const rule = platformRule(ctx, "VeleroBackupFailed");
    const steps = stepsFor(3);
    const schedule = "aiwp-hourly";
    const series = storedSeries("velero_backup_failure_total", { schedule });
    add(
      "VeleroBackupFailed fires on a failed backup",
      [{ series, values: `0+0x${perMinute - 1} 1+0x${steps - perMinute}` }],
      firesAt(rule.alert, 1, [platformAlert(rule, { schedule }, 1)]),
    );
    add(
      "VeleroBackupFailed stays silent without failures",
      [{ series, values: gauge(0, steps) }],
      never(rule.alert, 1),
    );
  }

  // VeleroBackupTooOld: the last successful backup at t=0 ages past the RPO; or no Velero series at all.
  {
    const rpo = ctx.settings.backup.rpoMinutes;
    const rule = platformRule(ctx, "VeleroBackupTooOld");
    const forMin = minutes(rule.for ?? "0s");
    const due = rpo + 1 + forMin;
    const steps = stepsFor(due);
    // Velero labels its metrics with the Schedule's name as the program declares it.
    const series = storedSeries("velero_backup_last_successful_timestamp", {
      schedule: VELERO_SCHEDULES.hourly,
    });
    const daily = storedSeries("velero_backup_last_successful_timestamp", {
      schedule: VELERO_SCHEDULES.daily,
    });
    add(
      `VeleroBackupTooOld fires when only the daily backup is fresh and the hourly one is older than the RPO of ${rpo} min`,
      [
        { series, values: gauge(0, steps) },
        { series: daily, values: `${-(rpo - 5) * 60}+${STEP_SECONDS}x${steps}` },
      ],
      firesAt(rule.alert, due, [platformAlert(rule, {}, 0)]),
    );
    add(
      `VeleroBackupTooOld fires when the last backup (t=0) is older than the RPO of ${rpo} min`,
      [{ series, values: gauge(0, steps) }],
      firesAt(rule.alert, due, [platformAlert(rule, {}, 0)]),
    );
    add(
      "VeleroBackupTooOld stays silent while backups stay younger than the RPO",
      [{ series, values: `${-(rpo - 5) * 60}+${STEP_SECONDS}x${steps}` }],
      never(rule.alert, due),
    );
    add(
      "VeleroBackupTooOld fires when Velero exports no backup timestamp",
      [{ series: storedSeries("up", {}, { ...EXPORTERS.velero.target }), values: gauge(1, steps) }],
      // absent() keeps the selector's equality matchers as labels.
      firesAt(rule.alert, forMin, [
        platformAlert(rule, { job: EXPORTERS.velero.target.job, schedule: VELERO_SCHEDULES.hourly }, 1),
      ]),
    );
  }

  // NodeNotReady and NodeMemoryPressure: kube-state-metrics' node conditions, for 5m.
  for (const [alert, condition, bad, good] of [
    ["NodeNotReady", "Ready", 0, 1],
    ["NodeMemoryPressure", "MemoryPressure", 1, 0],
  ] as const) {
    const rule = platformRule(ctx, alert);
    const due = minutes(rule.for ?? "0s");
    const steps = stepsFor(due);
    const series = storedSeries("kube_node_status_condition", { node: NODE, condition, status: "true" });
    add(
      `${alert} fires when a node reports ${condition}=${bad ? "true" : "false"}`,
      [{ series, values: gauge(bad, steps) }],
      firesAt(alert, due, [platformAlert(rule, labelsOf(series), bad)]),
    );
    add(
      `${alert} stays silent on a healthy node`,
      [{ series, values: gauge(good, steps) }],
      never(alert, due),
    );
  }

  // PersistentVolumeFillingUp: 10% free opens the warning, 1% free the critical too.
  {
    const warning = platformRule(ctx, "PersistentVolumeFillingUp", "warning");
    const critical = platformRule(ctx, "PersistentVolumeFillingUp", "critical");
    const due = minutes(warning.for ?? "0s");
    const steps = stepsFor(due);
    const own = {
      namespace: "monitoring",
      persistentvolumeclaim: "prometheus-kps-prometheus-db-prometheus-kps-prometheus-0",
    };
    const available = storedSeries("kubelet_volume_stats_available_bytes", own);
    const capacity = storedSeries("kubelet_volume_stats_capacity_bytes", own);
    const volume = (free: number): InputSeries[] => [
      { series: available, values: gauge(free * 100, steps) },
      { series: capacity, values: gauge(100, steps) },
    ];
    const exprLabels = labelsOf(available);
    add("PersistentVolumeFillingUp warns at 10% free", volume(0.1), [
      { eval_time: `${due - 1}m`, alertname: "PersistentVolumeFillingUp", exp_alerts: [] },
      {
        eval_time: `${due}m`,
        alertname: "PersistentVolumeFillingUp",
        exp_alerts: [platformAlert(warning, exprLabels, 0.1)],
      },
    ]);
    add("PersistentVolumeFillingUp pages at 1% free", volume(0.01), [
      {
        eval_time: `${due}m`,
        alertname: "PersistentVolumeFillingUp",
        exp_alerts: [platformAlert(warning, exprLabels, 0.01), platformAlert(critical, exprLabels, 0.01)],
      },
    ]);
    add(
      "PersistentVolumeFillingUp stays silent at 50% free",
      volume(0.5),
      never("PersistentVolumeFillingUp", due),
    );
  }
  return tests;
}

export interface RuleTestSuite {
  /** The service under test, or "platform". */
  scope: string;
  /** The rendered rules that concern the scope (every rule labelled with the service, or the platform group). */
  groups: RuleGroup[];
  /** promtool's test file; `rule_files` names `rulesFile`. */
  tests: PromtoolTestFile;
}

const isRecording = (g: RuleGroup) => g.rules.every((r) => "record" in r);

/** Rules of `groups` labelled with `service`, groups kept in order. */
export function rulesOfService(groups: RuleGroup[], service: string): RuleGroup[] {
  return groups
    .map((g) => ({ ...g, rules: g.rules.filter((r) => r.labels?.service === service) }))
    .filter((g) => g.rules.length > 0);
}

/**
 * promtool test suites for a stack: one per service (its canary and SLO tests against the rendered rules of
 * that service) and one for the platform. `groups` are the rendered rule groups; a suite's tests only feed
 * series of its own service, so the other services' rules could not fire and are left out to keep promtool fast.
 */
export function ruleTestSuites(
  settings: Settings,
  groups: RuleGroup[],
  rulesFile: string,
  services?: string[],
): RuleTestSuite[] {
  const rules = groups.flatMap((g) => g.rules.filter((r): r is AlertingRule => "alert" in r));
  const ctx: Ctx = { settings, rules, namespace: appNamespace(settings) };
  const file = (tests: PromtoolTest[], scoped: RuleGroup[]): PromtoolTestFile => ({
    rule_files: [rulesFile],
    evaluation_interval: "1m",
    // promtool otherwise evaluates groups in random order; recording rules come first, as in the file.
    group_eval_order: [...scoped]
      .sort((a, b) => Number(isRecording(b)) - Number(isRecording(a)))
      .map((g) => g.name),
    tests,
  });
  const suites: RuleTestSuite[] = [];
  const targets = new Map(canaryTargets(settings).map((t) => [t.service, t]));
  for (const service of Object.keys(settings.services).filter(
    (s) => services === undefined || services.includes(s),
  )) {
    const scoped = rulesOfService(groups, service);
    const target = targets.get(service);
    const all = [...(target ? serviceTests(ctx, target) : []), ...sloTests(ctx, service)];
    // The rollout-duration cases span the whole rollout (hours with per-step holds): they run against the rules
    // they exercise only (CanaryDeploymentStuck and the request rate it reads), so promtool stays fast.
    const long = (tc: PromtoolTest) => tc.name.includes("CanaryDeploymentStuck");
    suites.push({
      scope: service,
      groups: scoped,
      tests: file(
        all.filter((tc) => !long(tc)),
        scoped,
      ),
    });
    const stuckRules = scoped
      .map((g) => ({
        ...g,
        rules: g.rules.filter((r) =>
          "alert" in r ? r.alert === "CanaryDeploymentStuck" : r.record === RECORDED.requestRate,
        ),
      }))
      .filter((g) => g.rules.length > 0);
    if (all.some(long))
      suites.push({
        scope: `${service}-rollout`,
        groups: stuckRules,
        tests: file(all.filter(long), stuckRules),
      });
  }
  const platform = groups.filter((g) => g.name === platformAlertRules(settings).name);
  suites.push({ scope: "platform", groups: platform, tests: file(platformTests(ctx), platform) });
  return suites;
}
