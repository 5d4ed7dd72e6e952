/**
 * A timing model of Flagger's scheduler (v1.44), in closed form: how long a release takes from `pulumi up`
 * to 100% on the new version and to Succeeded, and how long a bad canary can hurt users, measured from the
 * onset of the fault until all traffic is back on the stable version.
 *
 * Every rule below names the upstream code it models:
 * - pkg/controller/job.go: one ticker per Canary at `analysis.interval`; the tick's phase relative to a
 *   fault or an apply is arbitrary, so the worst case waits one whole interval for the next tick.
 * - pkg/controller/scheduler.go `advanceCanary`: at the start of a tick, a Progressing or WaitingPromotion
 *   canary whose `FailedChecks >= threshold` is rolled back; otherwise a failed analysis adds one failed
 *   check (SetStatusFailedChecks) and returns. Failed checks reset only on a new revision or a rollback.
 * - scheduler.go: `IsCanaryReady` runs before the analysis; while it returns a retriable error the tick
 *   returns early and counts nothing. pkg/canary/deployment_ready.go `isDeploymentReady` makes the error
 *   non-retriable (and the tick rolls back) once `Available=False` (MinimumReplicasUnavailable) has lasted
 *   longer than the Canary's `progressDeadlineSeconds`.
 * - scheduler.go `checkCanaryStatus`: the first tick that sees a new revision only scales the canary up.
 * - scheduler.go: the first tick with weight 0 and no iterations runs the pre-rollout webhooks and, in the
 *   same tick, the first step (runCanary weight, runAB/runBlueGreen iteration 1).
 * - scheduler.go `runCanary`: one weight step per passing tick; at the last weight the next passing tick
 *   runs confirm-promotion and promotes (copies the spec to the primary, phase Promoting).
 * - scheduler.go `runBlueGreen`: `iterations` passing ticks, then one tick routes all traffic to the canary,
 *   then one more analysis under full traffic promotes. `runAB`: `iterations` ticks, then promote.
 * - scheduler.go `runPromotionTrafficShift`: a Promoting canary routes all traffic to the primary at the
 *   first tick where `IsPrimaryReady` passes (the primary's rolling update is done); the next tick scales
 *   the canary to zero and sets Succeeded.
 * - scheduler_hooks.go: confirm-traffic-increase runs after the analysis of the same tick, so a gate that
 *   holds a weight leaves the metric checks (and the rollback) running every interval.
 *
 * Metrics (Prometheus): a sample is stored at each scrape; `rate()` needs two samples of a series in its
 * window, and a counter that did not exist before the fault (a canary's first 5xx response code) gets its
 * first sample at the first scrape after the fault. Alerts: a rule group evaluates every evaluation
 * interval; an alert is firing at the first evaluation at least `for` after it went pending.
 */

/** How a service's new version reaches users. */
export type Strategy = "canary" | "blueGreen" | "abTest" | "rolling";

/** Failure modes the rollout plan states a worst case for. */
export const FAILURE_MODES = ["hard5xx", "latency", "unready", "alertGate"] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];
/** The failure modes the analysis checks directly (the rollback budget applies to these). */
export const DIRECT_MODES = ["hard5xx", "latency", "unready"] as const satisfies readonly FailureMode[];

/** What each failure mode means in the model. */
export const FAILURE_MODE_TEXT: Record<FailureMode, string> = {
  hard5xx: "every canary request answers 5xx",
  latency: "every canary request is slower than the latency thresholds (up to twice the P99 threshold)",
  unready: "canary pods crash-loop or turn unready and stay so",
  alertGate: "a regression only a critical canary alert catches (a full alert window bad, then its `for`)",
};

/** A readiness probe's timing (the Deployment's `readinessProbe`). */
export interface ProbeTiming {
  periodSeconds: number;
  failureThreshold: number;
  timeoutSeconds: number;
}

/** Everything the timing of one service's rollout depends on. */
export interface TimingInputs {
  strategy: Strategy;
  /** `analysis.interval` in seconds: Flagger's tick. */
  intervalSeconds: number;
  /** `analysis.threshold`: failed checks that roll back. */
  threshold: number;
  /** Canary weights before promotion (canary strategy). */
  weights: number[];
  /** Analysis iterations (blue-green, A/B). */
  iterations: number;
  /** Query window of the success-rate and latency checks (their `interval`), seconds. */
  metricWindowSeconds: number;
  /** Minimum success rate (percent) of the success-rate check. */
  successRatePercent: number;
  /** The least sensitive latency quantile the analysis checks (0.95 for P95). */
  latencyQuantile: number;
  /** P99 latency threshold (ms): the latency failure mode's requests take up to twice this. */
  latencyP99Ms: number;
  /** Scrape interval of the mesh's request metrics (envoy stats), seconds. */
  scrapeSeconds: number;
  /** Prometheus rule evaluation interval, seconds. */
  evaluationSeconds: number;
  /** Rate window of the recorded series the canary alerts read, seconds. */
  alertWindowSeconds: number;
  /** `for` of the canary alerts the alert gate counts, seconds. */
  alertForSeconds: number;
  /** The Canary's `progressDeadlineSeconds`. */
  progressDeadlineSeconds: number;
  /** The canary pods' readiness probe. */
  readiness: ProbeTiming;
  /** Time for a new pod to become Ready (image pull, start-up, first readiness success), seconds. */
  podReadySeconds: number;
  /** Upper bound of the primary's replicas (the autoscaler's max): sets the waves of its rolling update. */
  primaryReplicas: number;
  /** The Deployment's maxSurge as a percentage (maxUnavailable 0). */
  maxSurgePercent: number;
  /** Holds per weight (seconds), applied by the confirm-traffic-increase/confirm-promotion gate. */
  holds: Record<number, number>;
  /** Seconds for a route change to reach the proxies (istiod push). */
  routePushSeconds: number;
}

/** Istio's longest wait before pushing a changed route (PILOT_DEBOUNCE_MAX default 10s) plus its delivery. */
export const ROUTE_PUSH_SECONDS = 10;

/** One hold on the timeline: the canary sits at `weight` from `fromSeconds` to `toSeconds` after apply. */
export interface HoldSpan {
  weight: number;
  holdSeconds: number;
  fromSeconds: number;
  toSeconds: number;
}

/** The model's figures for one service. */
export interface RolloutTiming {
  strategy: Strategy;
  /** Worst case from fault onset to all traffic on the stable version, per failure mode. */
  rollback: Record<FailureMode, number>;
  /** Worst case from `pulumi up` to 100% of traffic on the new version, holds included. */
  fullSeconds: number;
  /** Worst case from `pulumi up` to Succeeded, holds included. */
  succeededSeconds: number;
  /** The same two without holds. */
  fullWithoutHoldsSeconds: number;
  succeededWithoutHoldsSeconds: number;
  /** Where the holds fall (empty without holds). */
  holdTimeline: HoldSpan[];
  /** Ticks of each phase of the promotion, for the plan's reader. */
  detectionSeconds: Record<Exclude<FailureMode, "unready">, number>;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b - 1e-9);

/**
 * Worst-case delay from a fault's onset until every query of a rate-ratio check over `windowSeconds`
 * fails, when a share `severity` of requests is bad and the check tolerates a bad share `tolerated`.
 * The first post-fault sample comes within one scrape; then the bad samples must span at least one scrape
 * (a new series needs two samples) and enough of the window that the bad share exceeds `tolerated`:
 * with request rate r, the bad increase is at least severity*r*span and the rest of the window at most
 * r*window, so span > tolerated*window / (severity*(1-tolerated)) suffices.
 */
export function detectionSeconds(
  windowSeconds: number,
  scrapeSeconds: number,
  tolerated: number,
  severity = 1,
): number {
  const span = (tolerated * windowSeconds) / (severity * (1 - tolerated));
  const scrapes = Math.max(1, Math.floor(span / scrapeSeconds + 1e-9) + 1);
  return scrapeSeconds + scrapes * scrapeSeconds;
}

/** Seconds until a failing readiness probe marks the pod unready: `failureThreshold` probes, the last timing out. */
export function unreadySeconds(p: ProbeTiming): number {
  return p.periodSeconds * p.failureThreshold + p.timeoutSeconds;
}

/**
 * From the first tick at which the checks fail to the rollback: that tick counts one failed check, each
 * following tick one more, and the tick after the `threshold`-th rolls back (scheduler.go checks
 * `FailedChecks >= threshold` at the start of a tick): threshold intervals.
 */
function fromFirstFailingTick(i: TimingInputs): number {
  return i.threshold * i.intervalSeconds;
}

/** Worst case from onset to stable, per failure mode. */
export function rollbackSeconds(i: TimingInputs): {
  rollback: Record<FailureMode, number>;
  detection: Record<Exclude<FailureMode, "unready">, number>;
} {
  const I = i.intervalSeconds;
  const tolerated5xx = 1 - i.successRatePercent / 100;
  const toleratedSlow = 1 - i.latencyQuantile;
  const hard5xx = detectionSeconds(i.metricWindowSeconds, i.scrapeSeconds, tolerated5xx);
  // A slow request is observed when it completes: up to twice the P99 threshold later. The canary's bucket
  // series exist before the fault, so the second-sample rule is about one scrape conservative here.
  const latency =
    detectionSeconds(i.metricWindowSeconds, i.scrapeSeconds, toleratedSlow) +
    Math.ceil((2 * i.latencyP99Ms) / 1000);
  // Alert gate: the recorded ratio needs a full window of post-fault samples (a marginal regression), the
  // recording rule and then the alerting rule run at their next evaluations, and the alert fires at the
  // first evaluation `for` after it went pending.
  const E = i.evaluationSeconds;
  const alertGate =
    i.scrapeSeconds + i.alertWindowSeconds + i.scrapeSeconds + 2 * E + ceilDiv(i.alertForSeconds, E) * E;
  const after = (d: number) => d + I + fromFirstFailingTick(i) + i.routePushSeconds;
  // Unready: Available=False from the probe's verdict; the first tick after the deadline rolls back.
  const unready = unreadySeconds(i.readiness) + i.progressDeadlineSeconds + I + i.routePushSeconds;
  return {
    rollback: { hard5xx: after(hard5xx), latency: after(latency), unready, alertGate: after(alertGate) },
    detection: { hard5xx, latency, alertGate },
  };
}

/** Waves of a rolling update with maxUnavailable 0: ceil(replicas / surge), surge = ceil(replicas x maxSurge). */
export function rolloutWaves(replicas: number, maxSurgePercent: number): number {
  const surge = Math.max(1, Math.ceil((replicas * maxSurgePercent) / 100 - 1e-9));
  return Math.ceil(replicas / surge);
}

/** Ticks spent at one weight: one to be seen, then as many as the hold needs (the gate counts from its first sighting). */
function ticksAt(holdSeconds: number, I: number): number {
  return 1 + (holdSeconds > 0 ? ceilDiv(holdSeconds, I) : 0);
}

function promotion(i: TimingInputs, holds: Record<number, number>) {
  const I = i.intervalSeconds;
  // Apply lands just after a tick; the next one only scales the canary up (checkCanaryStatus).
  const detect = I;
  // The first tick at least podReadySeconds later finds the canary ready, runs pre-rollout and the first step.
  const start = detect + Math.max(1, ceilDiv(i.podReadySeconds, I)) * I;
  const primaryRollout = rolloutWaves(i.primaryReplicas, i.maxSurgePercent) * i.podReadySeconds;
  const afterPromote = (promote: number) => ({
    full: promote + primaryRollout,
    // First tick after the primary is ready routes to it (Finalising); the next sets Succeeded.
    succeeded: promote + Math.max(1, ceilDiv(primaryRollout, I)) * I + I,
  });
  const timeline: HoldSpan[] = [];
  if (i.strategy === "canary") {
    let t = start;
    for (const w of i.weights) {
      const hold = holds[w] ?? 0;
      const ticks = ticksAt(hold, I);
      if (hold > 0) timeline.push({ weight: w, holdSeconds: hold, fromSeconds: t, toSeconds: t + ticks * I });
      t += ticks * I;
    }
    return { ...afterPromote(t), timeline };
  }
  // Iteration 1 at the start tick, iterations 2..n on the next ticks.
  const lastIteration = start + (i.iterations - 1) * I;
  if (i.strategy === "blueGreen") {
    // The next tick switches all traffic to the canary; one more analysis, then promotion.
    const switchTick = lastIteration + I;
    const { succeeded } = afterPromote(switchTick + I);
    return { full: switchTick + i.routePushSeconds, succeeded, timeline };
  }
  // A/B: the tick after the last iteration promotes.
  return { ...afterPromote(lastIteration + I), timeline };
}

/** The model's figures for one service's rollout. */
export function rolloutTiming(i: TimingInputs): RolloutTiming {
  if (i.strategy === "rolling") {
    const zero = { hard5xx: 0, latency: 0, unready: 0, alertGate: 0 };
    return {
      strategy: i.strategy,
      rollback: zero,
      fullSeconds: 0,
      succeededSeconds: 0,
      fullWithoutHoldsSeconds: 0,
      succeededWithoutHoldsSeconds: 0,
      holdTimeline: [],
      detectionSeconds: { hard5xx: 0, latency: 0, alertGate: 0 },
    };
  }
  const { rollback, detection } = rollbackSeconds(i);
  const held = promotion(i, i.holds);
  const free = promotion(i, {});
  return {
    strategy: i.strategy,
    rollback,
    fullSeconds: held.full,
    succeededSeconds: held.succeeded,
    fullWithoutHoldsSeconds: free.full,
    succeededWithoutHoldsSeconds: free.succeeded,
    holdTimeline: held.timeline,
    detectionSeconds: detection,
  };
}

/** The worst directly checked failure mode: what the rollback budget is held against. */
export function worstDirect(t: Pick<RolloutTiming, "rollback">): { mode: FailureMode; seconds: number } {
  return DIRECT_MODES.map((mode) => ({ mode, seconds: t.rollback[mode] })).reduce((a, b) =>
    b.seconds > a.seconds ? b : a,
  );
}

/** The weights a linear `stepWeight`/`maxWeight` analysis walks through (Flagger stops at maxWeight). */
export function linearWeights(stepWeight: number, maxWeight: number): number[] {
  const weights: number[] = [];
  for (let w = stepWeight; w < maxWeight; w += stepWeight) weights.push(w);
  weights.push(maxWeight);
  return weights;
}
