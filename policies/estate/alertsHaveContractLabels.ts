import type { ResourceValidationPolicy } from "@pulumi/policy";
import { alertRules } from "../lib/alerts";
import { configOf, schema } from "../lib/config";

const SEVERITIES = ["critical", "warning", "info"];

const configSchema = schema({
  requiredLabels: {
    type: "array",
    items: { type: "string" },
    default: ["severity", "service", "namespace", "team"],
    description: "Labels every alert carries (routing and the Flagger alert gate select on them).",
  },
  requiredAnnotations: {
    type: "array",
    items: { type: "string" },
    default: ["summary", "description"],
    description: "Annotations every alert carries.",
  },
});

/** Alertmanager routes by severity and team, and the canary gate selects by service: unlabelled alerts go astray. */
export const alertsHaveContractLabels: ResourceValidationPolicy = {
  name: "alerts-have-contract-labels",
  description:
    "Every alerting rule has the contract's labels (severity critical|warning|info, service, namespace, team) and annotations.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema,
  validateResource: (args, reportViolation) => {
    const config = configOf<{ requiredLabels: string[]; requiredAnnotations: string[] }>(configSchema, args);
    for (const rule of alertRules(args.type, args.props)) {
      const missing = [
        ...config.requiredLabels.filter((l) => !rule.labels[l]).map((l) => `label ${l}`),
        ...config.requiredAnnotations.filter((a) => !rule.annotations[a]).map((a) => `annotation ${a}`),
      ];
      if (missing.length > 0) reportViolation(`alert ${rule.alert} lacks ${missing.join(", ")}.`);
      if (rule.labels.severity !== undefined && !SEVERITIES.includes(rule.labels.severity)) {
        reportViolation(
          `alert ${rule.alert} severity "${rule.labels.severity}" is not one of ${SEVERITIES.join(", ")}.`,
        );
      }
    }
  },
};
