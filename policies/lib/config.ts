/**
 * Policy configuration: every configurable policy declares its schema (with defaults) so that
 * `pulumi preview --policy-pack-config` validates it, and reads it back merged over the same defaults,
 * so a policy behaves identically whether or not the engine filled the defaults in.
 */
import type { PolicyConfigSchema, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

export const ENVIRONMENTS = ["dev", "staging", "prod", "dr"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The `environment` property shared by policies whose rule depends on the stack. */
export const ENVIRONMENT_PROPERTY: PolicyConfigJSONSchema = {
  type: "string",
  enum: [...ENVIRONMENTS],
  description: "The stack's environment; when absent, the resource's `environment` tag is used.",
};

/** `appliesTo`: the environments in which an environment-dependent rule holds. */
export function appliesToProperty(defaults: Environment[]): PolicyConfigJSONSchema {
  return {
    type: "array",
    items: { type: "string", enum: [...ENVIRONMENTS] },
    default: defaults,
    description: "Environments in which this rule holds.",
  };
}

/** A config schema whose every property carries its default. */
export function schema(properties: Record<string, PolicyConfigJSONSchema>): PolicyConfigSchema {
  return { properties };
}

/** A list of workloads ("<namespace>/<name>") a policy exempts; empty by default. */
export function exemptWorkloadsProperty(description: string): PolicyConfigJSONSchema {
  return { type: "array", items: { type: "string" }, default: [], description };
}

/** The policy's config merged over the defaults its schema declares. */
export function configOf<T extends object>(
  policySchema: PolicyConfigSchema,
  args: Pick<ResourceValidationArgs | StackValidationArgs, "getConfig">,
): T {
  const defaults: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(policySchema.properties)) {
    if (property.default !== undefined) defaults[key] = property.default;
  }
  return { ...defaults, ...args.getConfig<Record<string, unknown>>() } as T;
}

/** The stack environment: from config, else from the resource's `environment` tag. */
export function environmentOf(
  config: { environment?: string },
  props?: Record<string, unknown>,
): string | undefined {
  if (config.environment) return config.environment;
  const tags = props?.tags as Record<string, unknown> | undefined;
  return typeof tags?.environment === "string" ? tags.environment : undefined;
}

/**
 * Ends the check as not applicable unless the stack's environment is one the rule holds in.
 * An unknown environment is also not applicable: the rule cannot tell prod from dev.
 */
export function requireEnvironment(
  args: Pick<ResourceValidationArgs | StackValidationArgs, "notApplicable">,
  config: { environment?: string; appliesTo?: string[] },
  props?: Record<string, unknown>,
): string {
  const environment = environmentOf(config, props);
  if (!environment)
    return args.notApplicable("stack environment unknown: set the policy's `environment` config");
  if (!(config.appliesTo ?? []).includes(environment)) {
    return args.notApplicable(`applies to ${(config.appliesTo ?? []).join(", ")}, not ${environment}`);
  }
  return environment;
}
