import type { StackValidationPolicy } from "@pulumi/policy";
import { objectsOf } from "../lib/kubernetes";

/** Flagger's built-in Istio metrics, which need no MetricTemplate. */
const BUILTIN = ["request-success-rate", "request-duration"];

/** A canary analysis without metrics promotes whatever it is given: it only waits. */
export const canaryHasMetrics: StackValidationPolicy = {
  name: "canary-has-metrics",
  description:
    "Every Canary's analysis checks metrics with thresholds, and each templated metric's MetricTemplate is declared.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, reportViolation) => {
    const templates = new Set(objectsOf(args.resources, "flagger.app", "MetricTemplate").map((t) => t.ref));
    for (const canary of objectsOf(args.resources, "flagger.app", "Canary")) {
      const metrics = (canary.props.spec?.analysis?.metrics ?? []) as {
        name: string;
        templateRef?: { name: string; namespace?: string };
        thresholdRange?: { min?: number; max?: number };
      }[];
      if (metrics.length === 0) reportViolation(`Canary ${canary.ref} checks no metrics.`, canary.urn);
      for (const metric of metrics) {
        if (
          !metric.thresholdRange ||
          (metric.thresholdRange.min === undefined && metric.thresholdRange.max === undefined)
        ) {
          reportViolation(`Canary ${canary.ref} metric "${metric.name}" has no thresholdRange.`, canary.urn);
        }
        if (metric.templateRef) {
          const ref = `${metric.templateRef.namespace ?? canary.namespace}/${metric.templateRef.name}`;
          if (!templates.has(ref))
            reportViolation(
              `Canary ${canary.ref} metric "${metric.name}" refers to MetricTemplate ${ref}, which is not declared.`,
              canary.urn,
            );
        } else if (!BUILTIN.includes(metric.name)) {
          reportViolation(
            `Canary ${canary.ref} metric "${metric.name}" is neither built in nor templated.`,
            canary.urn,
          );
        }
      }
    }
  },
};
