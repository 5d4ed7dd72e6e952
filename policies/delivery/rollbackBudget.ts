import type { StackValidationPolicy } from "@pulumi/policy";
import { durationSeconds } from "../../lib/duration";
import { DIRECT_MODES } from "../../lib/flaggerTiming";
import { DEFAULT_ENVIRONMENT, type TimingEnvironment } from "../../lib/rollout";
import { configOf, schema } from "../lib/config";
import { planOf } from "../lib/flagger";
import { objectsOf, podSpecOf } from "../lib/kubernetes";
import type { Props } from "../lib/props";

const configSchema = schema({
  maxRollbackSeconds: {
    type: "integer",
    minimum: 1,
    default: 120,
    description:
      "The stack's rollback budget: worst-case time from a fault's onset to all traffic back on stable (hard 5xx, latency, unready canary).",
  },
});

/**
 * The scrape interval of the mesh's request metrics: the PodMonitor that scrapes the sidecars' merged
 * endpoint (/stats/prometheus). Absent: the Prometheus Operator's default 30s.
 */
function meshScrapeSeconds(resources: { type: string; urn: string; props: Props }[]): number {
  for (const monitor of objectsOf(resources, "monitoring.coreos.com", "PodMonitor")) {
    const endpoint = (monitor.props.spec?.podMetricsEndpoints ?? []).find(
      (e: Props) => e.path === "/stats/prometheus" && typeof e.interval === "string",
    );
    if (endpoint) return durationSeconds(endpoint.interval);
  }
  return DEFAULT_ENVIRONMENT.scrapeSeconds;
}

/** The readiness probe of the Canary's target Deployment (its first container), if declared. */
function readinessOf(
  resources: { type: string; urn: string; props: Props }[],
  namespace: string,
  name: string,
): TimingEnvironment["readiness"] | undefined {
  const deployment = objectsOf(resources, "apps", "Deployment").find(
    (d) => d.namespace === namespace && d.name === name,
  );
  const probe = podSpecOf("kubernetes:apps/v1:Deployment", deployment?.props ?? {})?.containers?.[0]
    ?.readinessProbe;
  if (!probe) return undefined;
  // Kubernetes' probe defaults: period 10s, failureThreshold 3, timeout 1s.
  return {
    periodSeconds: probe.periodSeconds ?? 10,
    failureThreshold: probe.failureThreshold ?? 3,
    timeoutSeconds: probe.timeoutSeconds ?? 1,
  };
}

/**
 * The budget is held against the timing model's worst case from fault onset (lib/flaggerTiming.ts), with
 * the mesh scrape interval and the target's readiness probe the stack itself declares, not `threshold x
 * interval` (which counts only the ticks after the first failed check).
 */
export const rollbackBudget: StackValidationPolicy = {
  name: "flagger-rollback-budget",
  description:
    "Each Canary's worst case from fault onset (hard 5xx, latency, unready canary; lib/flaggerTiming.ts) fits the stack's rollback budget.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateStack: (args, reportViolation) => {
    const { maxRollbackSeconds } = configOf<{ maxRollbackSeconds: number }>(configSchema, args);
    const scrapeSeconds = meshScrapeSeconds(args.resources);
    for (const canary of objectsOf(args.resources, "flagger.app", "Canary")) {
      const spec: Props = canary.props.spec ?? {};
      const target = spec.targetRef?.name ?? canary.name;
      const env: TimingEnvironment = {
        ...DEFAULT_ENVIRONMENT,
        scrapeSeconds,
        readiness: readinessOf(args.resources, canary.namespace, target) ?? DEFAULT_ENVIRONMENT.readiness,
      };
      let plan;
      try {
        plan = planOf(spec, env);
      } catch {
        // An analysis that cannot be timed is flagger-analysis-valid's violation, not this one's.
        continue;
      }
      const over = DIRECT_MODES.filter((m) => plan.rollback[m] > maxRollbackSeconds);
      if (over.length > 0) {
        reportViolation(
          `${canary.ref}: worst case from fault onset ${over.map((m) => `${m} ${plan.rollback[m]} s`).join(", ")} exceeds the budget of ${maxRollbackSeconds} s (interval ${spec.analysis?.interval}, threshold ${spec.analysis?.threshold}, progressDeadlineSeconds ${spec.progressDeadlineSeconds ?? 600}, mesh scrape ${scrapeSeconds} s).`,
          canary.urn,
        );
      }
    }
  },
};
