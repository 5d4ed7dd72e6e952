import type { ResourceValidationPolicy } from "@pulumi/policy";
import { DURATION_PATTERN } from "../../lib/duration";
import { isKind } from "../lib/kubernetes";

const isWholePercent = (w: unknown) => Number.isInteger(w) && (w as number) > 0 && (w as number) <= 100;

/** Flagger accepts contradictory analyses and then does something other than what was meant; reject them here. */
export const flaggerAnalysisValid: ResourceValidationPolicy = {
  name: "flagger-analysis-valid",
  description:
    "A Flagger Canary's analysis sets exactly one of stepWeights, stepWeight or iterations; stepWeights strictly ascend within (0, 100]; interval and threshold are set.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (!isKind(args.type, "flagger.app", "Canary")) return;
    const analysis = args.props.spec?.analysis;
    if (!analysis) return reportViolation("spec.analysis is missing.");
    const modes = ["stepWeights", "stepWeight", "iterations"].filter((k) => analysis[k] !== undefined);
    if (modes.length !== 1) {
      reportViolation(
        `analysis must set exactly one of stepWeights, stepWeight, iterations (got ${modes.join(", ") || "none"}).`,
      );
    }
    if (analysis.stepWeights !== undefined) {
      const weights = analysis.stepWeights as unknown[];
      if (!Array.isArray(weights) || weights.length === 0) reportViolation("analysis.stepWeights is empty.");
      else if (!weights.every(isWholePercent))
        reportViolation(
          `analysis.stepWeights ${JSON.stringify(weights)} must be whole percentages in (0, 100].`,
        );
      else if (!weights.every((w, i) => i === 0 || (w as number) > (weights[i - 1] as number))) {
        reportViolation(`analysis.stepWeights ${JSON.stringify(weights)} must be strictly ascending.`);
      }
    }
    if (analysis.stepWeight !== undefined) {
      const maxWeight = analysis.maxWeight ?? 50;
      if (!isWholePercent(analysis.stepWeight))
        reportViolation("analysis.stepWeight must be a whole percentage in (0, 100].");
      if (!isWholePercent(maxWeight) || maxWeight < analysis.stepWeight) {
        reportViolation(`analysis.maxWeight ${maxWeight} must be within [stepWeight, 100].`);
      }
    }
    if (
      analysis.iterations !== undefined &&
      !(Number.isInteger(analysis.iterations) && analysis.iterations >= 1)
    ) {
      reportViolation("analysis.iterations must be a whole number of at least 1.");
    }
    if ((analysis.match ?? []).length > 0 && analysis.iterations === undefined) {
      reportViolation("analysis.match (A/B testing) needs analysis.iterations.");
    }
    if (typeof analysis.interval !== "string" || !DURATION_PATTERN.test(analysis.interval)) {
      reportViolation(
        `analysis.interval ${analysis.interval ?? "(unset)"} must be a duration such as 30s or 1m.`,
      );
    }
    if (!(Number.isInteger(analysis.threshold) && analysis.threshold >= 1)) {
      reportViolation("analysis.threshold must be a whole number of at least 1.");
    }
  },
};
