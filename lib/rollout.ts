/**
 * A service's rollout plan: the analysis as settings or a Canary spec state it, timed by the scheduler
 * model of lib/flaggerTiming.ts (the only timing model of the estate).
 */
import { durationSeconds, humanDuration } from "./duration";
import {
  linearWeights,
  rolloutTiming,
  ROUTE_PUSH_SECONDS,
  worstDirect,
  type FailureMode,
  type HoldSpan,
  type ProbeTiming,
  type RolloutTiming,
  type Strategy,
} from "./flaggerTiming";

export type { Strategy } from "./flaggerTiming";
export { linearWeights } from "./flaggerTiming";

/** The part of a Flagger analysis (and of the Canary around it) that decides its timing. */
export interface AnalysisTiming {
  stepWeights?: number[];
  stepWeight?: number;
  maxWeight?: number;
  iterations?: number;
  interval: string;
  threshold: number;
  /** Query window of the success-rate and latency checks. Default: the larger of 1m and the interval. */
  metricWindow?: string;
  /** Default 99 (the model's least tolerant reading when a Canary states none). */
  successRatePercent?: number;
  /** Default 1000. */
  latencyP99Ms?: number;
  /** Default 600 (Flagger's). */
  progressDeadlineSeconds?: number;
  /** Default 30. */
  podReadySeconds?: number;
  /** Hold per weight, e.g. { "5": "12h" }. */
  holds?: Record<string, string>;
}

/** What the timing depends on outside the analysis: Prometheus, the alerts, the pods. */
export interface TimingEnvironment {
  /** Scrape interval of the mesh's request metrics. */
  scrapeSeconds: number;
  /** Rule evaluation interval. */
  evaluationSeconds: number;
  /** Rate window of the recorded series the canary alerts read. */
  alertWindowSeconds: number;
  /** `for` of the canary alerts. */
  alertForSeconds: number;
  /** The pods' readiness probe. */
  readiness: ProbeTiming;
  /** The Deployments' maxSurge (percent, with maxUnavailable 0). */
  maxSurgePercent: number;
  /** Route push to the proxies. */
  routePushSeconds: number;
}

/** The readiness probe and rolling update of every service's Deployment (components/service.ts). */
export const SERVICE_READINESS: ProbeTiming = { periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 2 };
export const SERVICE_MAX_SURGE_PERCENT = 25;

/**
 * The environment when nothing else is known: Prometheus Operator's defaults (30s scrape and evaluation),
 * 1m alert windows with `for: 2m`, the services' probe and surge.
 */
export const DEFAULT_ENVIRONMENT: TimingEnvironment = {
  scrapeSeconds: 30,
  evaluationSeconds: 30,
  alertWindowSeconds: 60,
  alertForSeconds: 120,
  readiness: SERVICE_READINESS,
  maxSurgePercent: SERVICE_MAX_SURGE_PERCENT,
  routePushSeconds: ROUTE_PUSH_SECONDS,
};

/** A service's rollout, as the render summary, the settings rules and the policies read it. */
export interface RolloutPlan {
  strategy: Strategy;
  /** The traffic weights (canary) or the number of analysis iterations (blue-green, A/B). */
  steps: string;
  intervalSeconds: number;
  /** Number of analysis runs before promotion begins. */
  analysisRuns: number;
  /** Worst case from `pulumi up` to Succeeded, holds included (what CanaryDeploymentStuck expects). */
  promotionSeconds: number;
  /** Worst case from `pulumi up` to 100% on the new version, holds included. */
  fullSeconds: number;
  /** The same without holds. */
  fullWithoutHoldsSeconds: number;
  succeededWithoutHoldsSeconds: number;
  /** Worst case from fault onset to traffic on stable, over the directly checked failure modes. */
  rollbackSeconds: number;
  /** The directly checked failure mode that sets rollbackSeconds. */
  rollbackMode: FailureMode;
  /** Worst case from fault onset per failure mode. */
  rollback: Record<FailureMode, number>;
  holdTimeline: HoldSpan[];
  timing: RolloutTiming;
}

/** The weights of a weighted analysis (stepWeights, or stepWeight up to maxWeight). */
export function weightsOf(a: Pick<AnalysisTiming, "stepWeights" | "stepWeight" | "maxWeight">): number[] {
  return a.stepWeights ?? linearWeights(a.stepWeight ?? 10, a.maxWeight ?? 50);
}

/** Holds in seconds by weight. */
export function holdSeconds(holds: Record<string, string> | undefined): Record<number, number> {
  return Object.fromEntries(Object.entries(holds ?? {}).map(([w, d]) => [Number(w), durationSeconds(d)]));
}

/** The rollout plan of one service; `replicas` is the primary's autoscaler maximum (default: the worst case). */
export function rolloutPlan(
  strategy: Strategy,
  analysis: AnalysisTiming,
  env: TimingEnvironment = DEFAULT_ENVIRONMENT,
  replicas?: number,
): RolloutPlan {
  const intervalSeconds = durationSeconds(analysis.interval);
  const weighted = analysis.iterations === undefined;
  const weights = weighted ? weightsOf(analysis) : [];
  const iterations = analysis.iterations ?? 0;
  // Without a replica count, the rolling update's worst case: 100 / maxSurge waves.
  const primaryReplicas = replicas ?? Math.ceil(100 / env.maxSurgePercent) ** 2;
  const timing = rolloutTiming({
    strategy,
    intervalSeconds,
    threshold: analysis.threshold,
    weights,
    iterations,
    metricWindowSeconds: durationSeconds(analysis.metricWindow ?? "1m"),
    successRatePercent: analysis.successRatePercent ?? 99,
    latencyQuantile: 0.95,
    latencyP99Ms: analysis.latencyP99Ms ?? 1000,
    scrapeSeconds: env.scrapeSeconds,
    evaluationSeconds: env.evaluationSeconds,
    alertWindowSeconds: env.alertWindowSeconds,
    alertForSeconds: env.alertForSeconds,
    progressDeadlineSeconds: analysis.progressDeadlineSeconds ?? 600,
    readiness: env.readiness,
    podReadySeconds: analysis.podReadySeconds ?? 30,
    primaryReplicas,
    maxSurgePercent: env.maxSurgePercent,
    holds: holdSeconds(analysis.holds),
    routePushSeconds: env.routePushSeconds,
  });
  const worst = worstDirect(timing);
  return {
    strategy,
    steps:
      strategy === "rolling"
        ? "rolling update"
        : weighted
          ? [...weights, 100].map((w) => `${w}%`).join(" -> ")
          : `${iterations} iterations`,
    intervalSeconds: strategy === "rolling" ? 0 : intervalSeconds,
    analysisRuns: strategy === "rolling" ? 0 : weighted ? weights.length : iterations,
    promotionSeconds: timing.succeededSeconds,
    fullSeconds: timing.fullSeconds,
    fullWithoutHoldsSeconds: timing.fullWithoutHoldsSeconds,
    succeededWithoutHoldsSeconds: timing.succeededWithoutHoldsSeconds,
    rollbackSeconds: worst.seconds,
    rollbackMode: worst.mode,
    rollback: timing.rollback,
    holdTimeline: timing.holdTimeline,
    timing,
  };
}

/** Rate window of the recorded series the canary alerts read (components/observability/rules.ts REQUEST_WINDOW). */
export const ALERT_WINDOW_SECONDS = 60;

/** The timing environment a stack's settings give: Prometheus' intervals and the canary alerts' `for`. */
export function timingEnvironment(o: {
  prometheus: { meshScrapeInterval: string; evaluationInterval: string };
  alerts: { for: string };
}): TimingEnvironment {
  return {
    ...DEFAULT_ENVIRONMENT,
    scrapeSeconds: durationSeconds(o.prometheus.meshScrapeInterval),
    evaluationSeconds: durationSeconds(o.prometheus.evaluationInterval),
    alertWindowSeconds: ALERT_WINDOW_SECONDS,
    alertForSeconds: durationSeconds(o.alerts.for),
  };
}

/** A service's plan from the stack's settings and its effective analysis (settings' `effectiveAnalysis`). */
export function servicePlan(
  observability: Parameters<typeof timingEnvironment>[0],
  svc: { strategy: Strategy; replicas: { max: number } },
  analysis: AnalysisTiming,
): RolloutPlan {
  return rolloutPlan(svc.strategy, analysis, timingEnvironment(observability), svc.replicas.max);
}

/** A duration for the rollout plan: "45 s", "3 min 30 s", "24 h 3 min". */
export function planDuration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const rest = s % 3600;
  if (h === 0) return humanDuration(rest);
  return rest === 0 ? `${h} h` : `${h} h ${humanDuration(rest)}`;
}

/**
 * When a still-progressing canary is overdue (CanaryDeploymentStuck): its worst case to Succeeded, holds
 * included, plus one more rollout without holds as slack (a restart after a new revision), in whole minutes.
 * A 24 h hold is expected, not stuck; without holds this is twice the expected duration.
 */
export function overdueSeconds(
  plan: Pick<RolloutPlan, "promotionSeconds" | "succeededWithoutHoldsSeconds">,
): number {
  return Math.ceil((plan.promotionSeconds + plan.succeededWithoutHoldsSeconds) / 60) * 60;
}
