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
 */
import { durationSeconds } from "../../lib/duration";
import { appNamespace } from "../../lib/names";
import { rolloutPlan, type AnalysisTiming } from "../../lib/rollout";
import {
  canaryTargets,
  CPU_WINDOW,
  errorBudget,
  FAST_BURN_FOR,
  latencyBucket,
  platformAlertRules,
  SLOW_BURN_FOR,
  STUCK_NO_TRAFFIC_FOR,
  type AlertingRule,
  type RuleGroup,
  type ServiceTarget,
} from "../../components/observability/rules";
import { effectiveAnalysis, type Settings } from "../../settings";

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

/** Renders the template forms the estate's annotations use, for a known value and canary weight. */
export function renderAnnotation(template: string, value: number, weight: number | undefined): string {
  const out = template
    // Generated request series carry no destination_version, so the release reads as the image with an
    // empty tag (`withoutRequests` below turns it into "unknown" where a case has no request series).
    .replace(
      /\{\{ with query "(?:[^"\\]|\\.)*" \}\}\{\{ \. \| first \| label "destination_version" \}\}\{\{ else \}\}unknown\{\{ end \}\}/g,
      "",
    )
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
      ...extra,
    },
    exp_annotations: Object.fromEntries(
      Object.entries(rule.annotations).map(([k, v]) => [k, renderAnnotation(v, value, weight)]),
    ),
  };
}

/** Whether a case has no Istio request series: the release annotation's query then finds nothing. */
function withoutRequests(input: InputSeries[]): boolean {
  return !input.some((s) => s.series.startsWith("istio_requests_total"));
}

function releaseUnknown(test: AlertRuleTest): AlertRuleTest {
  return {
    ...test,
    exp_alerts: test.exp_alerts.map((e) => ({
      ...e,
      exp_annotations:
        e.exp_annotations.release === undefined
          ? e.exp_annotations
          : { ...e.exp_annotations, release: `${e.exp_annotations.release}unknown` },
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

const istioSel = (ns: string, w: string, code: string) =>
  `istio_requests_total{reporter="destination", destination_workload_namespace="${ns}", destination_workload="${w}", response_code="${code}"}`;

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
    series: `istio_request_duration_milliseconds_bucket{reporter="destination", destination_workload_namespace="${ns}", destination_workload="${w}", le="${le}"}`,
    values: le !== "+Inf" && le <= lower ? gauge(0, steps) : counter(100, steps),
  }));
}

/** histogram_quantile when every observation lies in the bucket (lower, upper]. */
const quantileIn = (q: number, lower: number, upper: number) => lower + (upper - lower) * q;

const pod = (w: string) => `${w}-5d8f7c9b6-x7k2p`;

function cpuSeries(ns: string, w: string, ratio: number, steps: number): InputSeries[] {
  return [
    {
      series: `container_cpu_usage_seconds_total{namespace="${ns}", pod="${pod(w)}", container="app"}`,
      values: counter(ratio * STEP_SECONDS, steps),
    },
    {
      series: `kube_pod_container_resource_limits{namespace="${ns}", pod="${pod(w)}", container="app", resource="cpu", unit="core"}`,
      values: gauge(1, steps),
    },
  ];
}

function memorySeries(ns: string, w: string, ratio: number, steps: number): InputSeries[] {
  const limit = 2 ** 30;
  return [
    {
      series: `container_memory_working_set_bytes{namespace="${ns}", pod="${pod(w)}", container="app"}`,
      values: gauge(ratio * limit, steps),
    },
    {
      series: `kube_pod_container_resource_limits{namespace="${ns}", pod="${pod(w)}", container="app", resource="memory", unit="byte"}`,
      values: gauge(limit, steps),
    },
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
      series: `kube_deployment_status_replicas_available{namespace="${ns}", deployment="${w}"}`,
      values: gauge(available, steps),
    },
    {
      series: `kube_deployment_spec_replicas{namespace="${ns}", deployment="${w}"}`,
      values: gauge(desired, steps),
    },
  ];
}

/** Restart counter flat at 0, jumping by `restarts` at minute 1. */
function restartSeries(ns: string, w: string, restarts: number, steps: number): InputSeries[] {
  return [
    {
      series: `kube_pod_container_status_restarts_total{namespace="${ns}", pod="${pod(w)}", container="app"}`,
      values: `0+0x${60 / STEP_SECONDS - 1} ${restarts}+0x${steps - 60 / STEP_SECONDS}`,
    },
  ];
}

const flaggerSel = (metric: string, t: ServiceTarget) =>
  `${metric}{name="${t.service}", namespace="${t.namespace}"}`;

/** The tests of one Flagger-managed service. */
export function serviceTests(ctx: Ctx, t: ServiceTarget): PromtoolTest[] {
  const a = ctx.settings.observability.alerts;
  const ns = t.namespace;
  const tests: PromtoolTest[] = [];
  const add = (name: string, _due: number, input_series: InputSeries[], alert_rule_test: AlertRuleTest[]) =>
    tests.push({
      name: `${t.service}: ${name}`,
      interval: `${STEP_SECONDS}s`,
      input_series,
      alert_rule_test: withoutRequests(input_series) ? alert_rule_test.map(releaseUnknown) : alert_rule_test,
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
      { series: flaggerSel("flagger_canary_weight", t), values: gauge(weight, steps) },
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
    const plan = rolloutPlan(
      t.settings.strategy,
      effectiveAnalysis(ctx.settings.delivery.canary, t.settings.canary) as AnalysisTiming,
    );
    const overdue = Math.ceil((2 * plan.promotionSeconds) / 60);
    const firing = (at: number, traffic: boolean) => [
      ...(!traffic && at >= noTraffic
        ? [expected(ctx, "CanaryDeploymentStuck", t, 0, undefined, { reason: "no-traffic" })]
        : []),
      ...(at >= overdue
        ? [expected(ctx, "CanaryDeploymentStuck", t, 0, undefined, { reason: "overdue" })]
        : []),
    ];
    const horizon = Math.max(noTraffic, overdue) + 2;
    const steps = stepsFor(horizon);
    const status = { series: flaggerSel("flagger_canary_status", t), values: gauge(0, steps) };
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
    );
    add(
      `CanaryDeploymentStuck fires when progressing past ${overdue}m, twice the expected rollout`,
      overdue,
      [status, ...requests(ns, t.canary, 0, steps)],
      [at(overdue - 1, true), at(overdue, true)],
    );
    add(
      "CanaryDeploymentStuck stays silent while a finished canary gets no traffic",
      horizon,
      [{ series: status.series, values: gauge(1, steps) }],
      never("CanaryDeploymentStuck", horizon - 2),
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
          series: flaggerSel("flagger_canary_status", t),
          values: `1+0x${due * perMinute - 1} 2+0x${steps - due * perMinute}`,
        },
      ],
      firesAt("CanaryRolledBack", due, [expected(ctx, "CanaryRolledBack", t, 2)]),
    );
    add(
      "CanaryRolledBack stays silent for a successful canary",
      due,
      [{ series: flaggerSel("flagger_canary_status", t), values: gauge(1, steps) }],
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
      (ratio: number): InputSeries[] => [
        {
          series: `istio_request_duration_milliseconds_bucket{reporter="destination", destination_workload_namespace="${ns}", destination_workload="${w}", le="${bucket}"}`,
          values: counter(100 * (1 - ratio), steps),
        },
        {
          series: `istio_request_duration_milliseconds_bucket{reporter="destination", destination_workload_namespace="${ns}", destination_workload="${w}", le="+Inf"}`,
          values: counter(100, steps),
        },
      ],
    ],
  ] as const;
  for (const [kind, budget, series] of kinds) {
    const fast = Math.min(1, 20 * budget);
    const slow = 2 * budget;
    const withRelease = (input: readonly InputSeries[], checks: AlertRuleTest[]) =>
      withoutRequests([...input]) ? checks.map(releaseUnknown) : checks;
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

/** VeleroBackupTooOld fires once the newest backup is older than the RPO, for its `for`. */
export function platformTests(ctx: Ctx): PromtoolTest[] {
  const rpo = ctx.settings.backup.rpoMinutes;
  const rule = ctx.rules.find((r) => r.alert === "VeleroBackupTooOld")!;
  const due = rpo + 1 + minutes(rule.for ?? "0s");
  const steps = (due + 2) * (60 / STEP_SECONDS);
  const exp: ExpAlert = {
    exp_labels: { severity: "critical", service: "velero", namespace: "velero", team: "platform" },
    exp_annotations: Object.fromEntries(
      Object.entries(rule.annotations).map(([k, v]) => [k, renderAnnotation(v, 0, undefined)]),
    ),
  };
  return [
    {
      name: `VeleroBackupTooOld fires when the last backup (t=0) is older than the RPO of ${rpo} min`,
      interval: `${STEP_SECONDS}s`,
      input_series: [
        { series: 'velero_backup_last_successful_timestamp{schedule="hourly"}', values: gauge(0, steps) },
      ],
      alert_rule_test: firesAt("VeleroBackupTooOld", due, [exp]),
    },
    {
      name: "VeleroBackupTooOld stays silent while backups stay younger than the RPO",
      interval: `${STEP_SECONDS}s`,
      input_series: [
        {
          series: 'velero_backup_last_successful_timestamp{schedule="hourly"}',
          values: `${-(rpo - 5) * 60}+${STEP_SECONDS}x${steps}`,
        },
      ],
      alert_rule_test: never("VeleroBackupTooOld", due),
    },
  ];
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
    suites.push({
      scope: service,
      groups: scoped,
      tests: file([...(target ? serviceTests(ctx, target) : []), ...sloTests(ctx, service)], scoped),
    });
  }
  const platform = groups.filter((g) => g.name === platformAlertRules(settings).name);
  suites.push({ scope: "platform", groups: platform, tests: file(platformTests(ctx), platform) });
  return suites;
}
