import type { ResourceValidationPolicy } from "@pulumi/policy";
import { humanDuration } from "../../lib/duration";
import { configOf, schema } from "../lib/config";
import { planOf } from "../lib/flagger";
import { isKind } from "../lib/kubernetes";

const configSchema = schema({
  maxRollbackSeconds: {
    type: "integer",
    minimum: 1,
    default: 120,
    description:
      "The stack's rollback budget: worst-case time from failing checks to traffic back on stable.",
  },
});

/** Flagger rolls back after `threshold` failed checks, one per interval: that product is the exposure to a bad release. */
export const rollbackBudget: ResourceValidationPolicy = {
  name: "flagger-rollback-budget",
  description: "Each Canary's worst-case rollback (threshold x interval) fits the stack's rollback budget.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (!isKind(args.type, "flagger.app", "Canary")) return;
    const analysis = args.props.spec?.analysis;
    let rollbackSeconds: number;
    try {
      rollbackSeconds = planOf(analysis ?? {}).rollbackSeconds;
    } catch {
      // An analysis that cannot be timed is flagger-analysis-valid's violation, not this one's.
      return args.notApplicable("analysis has no valid interval");
    }
    const { maxRollbackSeconds } = configOf<{ maxRollbackSeconds: number }>(configSchema, args);
    if (rollbackSeconds > maxRollbackSeconds) {
      reportViolation(
        `worst-case rollback ${humanDuration(rollbackSeconds)} (threshold ${analysis.threshold} x interval ${analysis.interval}) exceeds the budget of ${humanDuration(maxRollbackSeconds)}.`,
      );
    }
  },
};
