import type { ResourceValidationPolicy } from "@pulumi/policy";
import { alertRules } from "../lib/alerts";
import { configOf, schema } from "../lib/config";

const configSchema = schema({
  runbookBaseUrl: {
    type: "string",
    default: "",
    description: "When set, every runbook_url must be `<runbookBaseUrl>/<AlertName>.md`.",
  },
});

/** An alert that pages someone must say what to do about it. */
export const alertsHaveRunbookUrl: ResourceValidationPolicy = {
  name: "alerts-have-runbook-url",
  description: "Every alerting rule has a runbook_url annotation pointing at its runbook.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema,
  validateResource: (args, reportViolation) => {
    const { runbookBaseUrl } = configOf<{ runbookBaseUrl: string }>(configSchema, args);
    for (const rule of alertRules(args.type, args.props)) {
      const url = rule.annotations.runbook_url;
      if (typeof url !== "string" || !/^https?:\/\/\S+$/.test(url)) {
        reportViolation(`alert ${rule.alert} has no runbook_url annotation with an http(s) URL.`);
      } else if (runbookBaseUrl && url !== `${runbookBaseUrl}/${rule.alert}.md`) {
        reportViolation(`alert ${rule.alert} runbook_url ${url} is not ${runbookBaseUrl}/${rule.alert}.md.`);
      }
    }
  },
};
