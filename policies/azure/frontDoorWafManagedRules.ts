import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configOf, schema } from "../lib/config";

const configSchema = schema({
  requiredRuleSets: {
    type: "array",
    items: { type: "string" },
    default: ["Microsoft_DefaultRuleSet", "Microsoft_BotManagerRuleSet"],
    description: "Managed rule set types every WAF policy must include.",
  },
  minimumDefaultRuleSetVersion: {
    type: "number",
    default: 2,
    description:
      "Lowest accepted major version of Microsoft_DefaultRuleSet (2.x is the one with anomaly scoring).",
  },
});

interface Config {
  requiredRuleSets: string[];
  minimumDefaultRuleSetVersion: number;
}

/** Custom rules alone do not cover OWASP attacks or bots; the managed rule sets do. */
export const frontDoorWafManagedRules: ResourceValidationPolicy = {
  name: "frontdoor-waf-managed-rules",
  description: "Front Door WAF policies include the Default (2.x) and Bot Manager managed rule sets.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:frontdoor:Policy") return;
    const config = configOf<Config>(configSchema, args);
    const sets = (args.props.managedRules?.managedRuleSets ?? []) as {
      ruleSetType: string;
      ruleSetVersion: string;
    }[];
    for (const required of config.requiredRuleSets) {
      if (!sets.some((s) => s.ruleSetType === required))
        reportViolation(`managed rule set ${required} is missing.`);
    }
    for (const s of sets.filter((s) => s.ruleSetType === "Microsoft_DefaultRuleSet")) {
      if (!(parseFloat(s.ruleSetVersion) >= config.minimumDefaultRuleSetVersion)) {
        reportViolation(
          `Microsoft_DefaultRuleSet ${s.ruleSetVersion} is older than ${config.minimumDefaultRuleSetVersion}.x.`,
        );
      }
    }
  },
};
