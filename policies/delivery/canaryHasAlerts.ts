import type { StackValidationPolicy } from "@pulumi/policy";
import { alertRules, type AlertRule } from "../lib/alerts";
import { configOf, schema } from "../lib/config";
import { canaries } from "../lib/kubernetes";

const configSchema = schema({
  requiredAlerts: {
    type: "array",
    items: { type: "string" },
    default: ["CanaryHighErrorRate", "CanaryHighLatency", "CanaryUnhealthyInstances"],
    description: "Alerts every canaried service must have: the critical ones that gate its rollback.",
  },
});

/** An alert covers a service when it is labelled with it or its expression selects the service's workload. */
function covers(rule: AlertRule, service: string, namespace: string): boolean {
  if (rule.labels.service === service)
    return rule.labels.namespace === undefined || rule.labels.namespace === namespace;
  return new RegExp(`(destination_workload|deployment|service|workload)\\s*=~?\\s*"${service}"`).test(
    rule.expr,
  );
}

/** The Flagger alert gate fails an analysis only while one of the service's critical alerts fires: it needs them. */
export const canaryHasAlerts: StackValidationPolicy = {
  name: "canary-has-alerts",
  description:
    "Every canaried service has the alerts that gate its rollback (error rate, latency, unhealthy instances).",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateStack: (args, reportViolation) => {
    const { requiredAlerts } = configOf<{ requiredAlerts: string[] }>(configSchema, args);
    const rules = args.resources.flatMap((r) => alertRules(r.type, r.props));
    for (const { canary } of canaries(args.resources)) {
      const service = canary.props.spec?.targetRef?.name;
      const missing = requiredAlerts.filter(
        (alert) => !rules.some((r) => r.alert === alert && covers(r, service, canary.namespace)),
      );
      if (missing.length > 0) {
        reportViolation(
          `canaried service ${canary.namespace}/${service} has no ${missing.join(", ")} alert.`,
          canary.urn,
        );
      }
    }
  },
};
