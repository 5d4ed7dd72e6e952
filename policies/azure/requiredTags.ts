import type { ResourceValidationPolicy } from "@pulumi/policy";
import { ENVIRONMENT_PROPERTY, configOf, schema } from "../lib/config";
import { TAGGABLE_TYPES } from "../lib/taggable";

const configSchema = schema({
  environment: ENVIRONMENT_PROPERTY,
  requiredTags: {
    type: "array",
    items: { type: "string" },
    default: ["environment", "owner", "cost-center", "managed-by"],
    description: "Tags every taggable Azure resource carries.",
  },
});

interface Config {
  environment?: string;
  requiredTags: string[];
}

/** Cost reports, ownership and clean-up all key on these tags. */
export const requiredTags: ResourceValidationPolicy = {
  name: "azure-required-tags",
  description: "Taggable Azure resources carry the environment, owner, cost-center and managed-by tags.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (!args.type.startsWith("azure-native:")) return;
    if (!TAGGABLE_TYPES.has(args.type) && args.props.tags === undefined) return;
    const config = configOf<Config>(configSchema, args);
    const tags = (args.props.tags ?? {}) as Record<string, unknown>;
    const missing = config.requiredTags.filter((t) => typeof tags[t] !== "string" || tags[t] === "");
    if (missing.length > 0) reportViolation(`missing tag(s): ${missing.join(", ")}.`);
    if (config.environment && tags.environment !== undefined && tags.environment !== config.environment) {
      reportViolation(`tag environment is "${tags.environment}" in the ${config.environment} stack.`);
    }
  },
};
