/** Reading a Flagger Canary's analysis with the estate's own rollout arithmetic (lib/rollout.ts). */
import { rolloutPlan, type AnalysisTiming, type RolloutPlan, type Strategy } from "../../lib/rollout";
import type { Props } from "./props";

/** The strategy a Canary's analysis implies: iterations with `match` is A/B, without it blue-green. */
export function strategyOf(analysis: Props): Strategy {
  if (analysis.iterations !== undefined) return (analysis.match ?? []).length > 0 ? "abTest" : "blueGreen";
  return "canary";
}

/** The rollout plan of a Canary's analysis; throws when the analysis cannot be timed (bad interval). */
export function planOf(analysis: Props): RolloutPlan {
  return rolloutPlan(strategyOf(analysis), analysis as AnalysisTiming);
}
