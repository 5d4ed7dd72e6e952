/**
 * The one place that reads stack configuration. It merges the environment's defaults under the stack's
 * own values, validates the result (types, unknown keys, cross-field rules) and returns typed settings.
 * Components receive pieces of these settings; none of them reads config itself.
 */
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { defaultsFor, type JsonObject } from "./defaults";
import { RULES, type RuleIssue } from "./rules";
import { ENVIRONMENTS, settingsSchema, type Environment, type Settings } from "./schema";
import { SECRETS, SECRET_KEYS } from "./secrets";

export * from "./schema";
export { effectiveAnalysis } from "./rules";
export { SECRETS, SECRET_KEYS, secretPlaceholder } from "./secrets";

export const PROJECT = "aiwp-estate";

/** Invalid configuration: every issue names the key path and the rule it breaks. */
export class SettingsError extends Error {
  constructor(
    readonly source: string,
    readonly issues: RuleIssue[],
  ) {
    super(
      `${source}: invalid stack configuration\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join("\n")}`,
    );
    this.name = "SettingsError";
  }
}

/** Secrets the stack has set, as Pulumi secret outputs (absent keys are undefined). */
export type StackSecrets = Record<(typeof SECRET_KEYS)[number], pulumi.Output<string> | undefined>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge: objects key by key, everything else (arrays included) replaced by the override. */
export function mergeDefaults(base: unknown, override: unknown): unknown {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override;
  const out: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    out[key] = mergeDefaults(base[key], value) as JsonObject[string];
  }
  return out;
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    return acc ? `${acc}.${String(part)}` : String(part);
  }, "");
}

function zodIssues(error: z.ZodError): RuleIssue[] {
  return error.issues.flatMap((issue) => {
    const base = formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({
        path: base ? `${base}.${key}` : key,
        message: "unknown key (not part of the stack configuration; check its spelling)",
      }));
    }
    return [{ path: base || "(root)", message: issue.message }];
  });
}

const STEP_KEYS = ["stepWeights", "stepWeight", "maxWeight", "iterations"];

/**
 * Flagger takes exactly one way of stepping, so a stack that sets one of them replaces the default's
 * stepping rather than adding to it: drop the default's step keys where the stack names any.
 */
function dropDefaultStepping(defaults: JsonObject, values: Record<string, unknown>): void {
  const pairs: [unknown, unknown][] = [
    [
      (defaults.delivery as JsonObject | undefined)?.canary,
      (values.delivery as JsonObject | undefined)?.canary,
    ],
  ];
  const services = values.services;
  if (isObject(services)) {
    for (const [name, svc] of Object.entries(services)) {
      const base = (defaults.services as JsonObject | undefined)?.[name];
      pairs.push([isObject(base) ? base.canary : undefined, isObject(svc) ? svc.canary : undefined]);
    }
  }
  for (const [base, override] of pairs) {
    if (isObject(base) && isObject(override) && STEP_KEYS.some((k) => k in override)) {
      for (const key of STEP_KEYS) delete base[key];
    }
  }
}

/** Metric thresholds of the canary analysis follow the stack's alert thresholds unless set. */
function fillCanaryMetrics(merged: JsonObject): void {
  const alerts = (merged.observability as JsonObject | undefined)?.alerts;
  const canary = (merged.delivery as JsonObject | undefined)?.canary;
  if (!isObject(alerts) || !isObject(canary)) return;
  if (canary.successRatePercent === undefined && typeof alerts.errorRatePercent === "number") {
    canary.successRatePercent = 100 - alerts.errorRatePercent;
  }
  if (canary.latencyP95Ms === undefined) canary.latencyP95Ms = alerts.latencyP95Ms;
  if (canary.latencyP99Ms === undefined) canary.latencyP99Ms = alerts.latencyP99Ms;
}

/**
 * Validates a stack's configuration. `config` holds the project's keys without the `aiwp-estate:` prefix;
 * secret keys are only checked for presence. Throws SettingsError naming `source`.
 */
export function parseSettings(config: Record<string, unknown>, source: string): Settings {
  const values: Record<string, unknown> = {};
  const presentSecrets = new Set<string>();
  for (const [key, value] of Object.entries(config)) {
    if (SECRET_KEYS.includes(key)) presentSecrets.add(key);
    else values[key] = value;
  }
  const env = values.environment;
  if (typeof env !== "string" || !(ENVIRONMENTS as readonly string[]).includes(env)) {
    throw new SettingsError(source, [
      { path: "environment", message: `is required and must be one of ${ENVIRONMENTS.join(", ")}` },
    ]);
  }
  const defaults = defaultsFor(env as Environment);
  dropDefaultStepping(defaults, values);
  const merged = mergeDefaults(defaults, values) as JsonObject;
  fillCanaryMetrics(merged);
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) throw new SettingsError(source, zodIssues(parsed.error));
  const settings = parsed.data;
  const issues = RULES.flatMap((rule) => rule(settings));
  for (const secret of SECRETS) {
    if (secret.requiredBy(settings) && !presentSecrets.has(secret.key)) {
      issues.push({
        path: secret.key,
        message: `secret is required by this stack's settings (${secret.description}); set it with pulumi config set --secret ${secret.key}`,
      });
    }
  }
  if (issues.length > 0) throw new SettingsError(source, issues);
  return settings;
}

/** The project's keys from a flat Pulumi config map ("aiwp-estate:key" -> value); other namespaces are ignored. */
export function projectKeys(config: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(config)) {
    const [namespace, ...rest] = fullKey.split(":");
    if (namespace !== PROJECT || rest.length === 0) continue;
    out[rest[rest.length - 1]] = value;
  }
  return out;
}

/** Settings and secrets of the running stack, from the Pulumi runtime's configuration. */
export function loadStackSettings(): { settings: Settings; secrets: StackSecrets } {
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(projectKeys(pulumi.runtime.allConfig()))) {
    raw[key] = typeof value === "string" && /^[[{]/.test(value.trim()) ? JSON.parse(value) : value;
  }
  const settings = parseSettings(raw, `stack ${pulumi.getStack()}`);
  const config = new pulumi.Config(PROJECT);
  const secrets = Object.fromEntries(SECRET_KEYS.map((key) => [key, config.getSecret(key)])) as StackSecrets;
  return { settings, secrets };
}
