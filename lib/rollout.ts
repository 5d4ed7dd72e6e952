import { durationSeconds } from "./duration";

/** How a service's new version reaches users. */
export type Strategy = "canary" | "blueGreen" | "abTest" | "rolling";

/** The part of a Flagger analysis that decides its timing. */
export interface AnalysisTiming {
  stepWeights?: number[];
  stepWeight?: number;
  maxWeight?: number;
  iterations?: number;
  interval: string;
  threshold: number;
}

/** A service's rollout, as the render summary and the settings rules read it. */
export interface RolloutPlan {
  strategy: Strategy;
  /** The traffic weights (canary) or the number of analysis iterations (blue-green, A/B). */
  steps: string;
  intervalSeconds: number;
  /** Number of analysis runs before promotion begins. */
  analysisRuns: number;
  /** Expected time from the start of a rollout to 100% on the new version. */
  promotionSeconds: number;
  /** Worst-case time from checks starting to fail to traffic back on the stable version. */
  rollbackSeconds: number;
}

/** The weights a linear `stepWeight`/`maxWeight` analysis walks through. */
export function linearWeights(stepWeight: number, maxWeight: number): number[] {
  const weights: number[] = [];
  for (let w = stepWeight; w < maxWeight; w += stepWeight) weights.push(w);
  weights.push(maxWeight);
  return weights;
}

/**
 * The rollout plan of one service from Flagger's semantics.
 *
 * Flagger runs one check per `interval`. A weighted canary advances one weight per passing check;
 * blue-green and A/B run `iterations` checks at a fixed routing. After the last analysis step one
 * more interval promotes the primary and one more finalises, so full promotion takes about
 * `(runs + 2) x interval`. Failed checks accumulate within a run, and Flagger rolls back when they
 * reach `threshold`: the worst case is `threshold x interval` after checks start failing.
 */
export function rolloutPlan(strategy: Strategy, analysis: AnalysisTiming): RolloutPlan {
  const intervalSeconds = durationSeconds(analysis.interval);
  if (strategy === "rolling") {
    return {
      strategy,
      steps: "rolling update",
      intervalSeconds: 0,
      analysisRuns: 0,
      promotionSeconds: 0,
      rollbackSeconds: 0,
    };
  }
  let analysisRuns: number;
  let steps: string;
  if (analysis.iterations !== undefined) {
    analysisRuns = analysis.iterations;
    steps = `${analysis.iterations} iterations`;
  } else {
    const weights =
      analysis.stepWeights ?? linearWeights(analysis.stepWeight ?? 10, analysis.maxWeight ?? 50);
    analysisRuns = weights.length;
    steps = [...weights, 100].map((w) => `${w}%`).join(" -> ");
  }
  return {
    strategy,
    steps,
    intervalSeconds,
    analysisRuns,
    promotionSeconds: (analysisRuns + 2) * intervalSeconds,
    rollbackSeconds: analysis.threshold * intervalSeconds,
  };
}
