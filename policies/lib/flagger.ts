/** Reading a Flagger Canary (and the objects around it) with the estate's timing model (lib/flaggerTiming.ts). */
import { durationSeconds } from "../../lib/duration";
import {
  DEFAULT_ENVIRONMENT,
  rolloutPlan,
  type AnalysisTiming,
  type RolloutPlan,
  type Strategy,
  type TimingEnvironment,
} from "../../lib/rollout";
import type { Props } from "./props";

/** The strategy a Canary's analysis implies: iterations with `match` is A/B, without it blue-green. */
export function strategyOf(analysis: Props): Strategy {
  if (analysis.iterations !== undefined) return (analysis.match ?? []).length > 0 ? "abTest" : "blueGreen";
  return "canary";
}

/**
 * The timing inputs a Canary states: its analysis, the metrics' windows and thresholds (the largest window,
 * the least tolerant success rate, the largest latency threshold) and its progressDeadlineSeconds
 * (Flagger's default 600 when absent).
 */
export function analysisTimingOf(spec: Props): AnalysisTiming {
  const analysis: Props = spec.analysis ?? {};
  const metrics: Props[] = analysis.metrics ?? [];
  const windows = metrics.flatMap((m) =>
    typeof m.interval === "string" ? [durationSeconds(m.interval)] : [],
  );
  const mins = metrics.flatMap((m) =>
    typeof m.thresholdRange?.min === "number" ? [m.thresholdRange.min] : [],
  );
  const latency = metrics
    .filter((m) => /latency/.test(String(m.name ?? m.templateRef?.name ?? "")))
    .flatMap((m) => (typeof m.thresholdRange?.max === "number" ? [m.thresholdRange.max] : []));
  return {
    ...(analysis as AnalysisTiming),
    ...(windows.length ? { metricWindow: `${Math.max(...windows)}s` } : {}),
    ...(mins.length ? { successRatePercent: Math.max(...mins) } : {}),
    ...(latency.length ? { latencyP99Ms: Math.max(...latency) } : {}),
    progressDeadlineSeconds: spec.progressDeadlineSeconds ?? 600,
  };
}

/** The rollout plan of a Canary; throws when the analysis cannot be timed (bad interval). */
export function planOf(spec: Props, env: TimingEnvironment = DEFAULT_ENVIRONMENT): RolloutPlan {
  return rolloutPlan(strategyOf(spec.analysis ?? {}), analysisTimingOf(spec), env);
}
