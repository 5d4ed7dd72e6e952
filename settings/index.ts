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
import { closest } from "../lib/suggest";
import { AZURE_REGIONS, regionFromDisplayName } from "./regions";
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

/** The value at `path` in `root`, if any. */
function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current = root;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** How a value was written in the stack file, when known (see ParseOptions.written). */
type Written = (path: readonly PropertyKey[]) => string | undefined;

function zodIssues(error: z.ZodError, merged: unknown, written?: Written): RuleIssue[] {
  return error.issues.flatMap((issue) => {
    const base = formatPath(issue.path);
    if (issue.code === "unrecognized_keys") {
      const siblings = Object.keys((valueAt(merged, issue.path) ?? {}) as object).filter(
        (k) => !issue.keys.includes(k),
      );
      return issue.keys.map((key) => {
        const near = closest(key, siblings);
        return {
          path: base ? `${base}.${key}` : key,
          message: `unknown key (not part of the stack configuration; ${near ? `did you mean ${near}?` : "check its spelling"})`,
        };
      });
    }
    const value = valueAt(merged, issue.path);
    const wantsString =
      (issue.code === "invalid_type" && issue.expected === "string") ||
      (issue.code === "invalid_value" && issue.values.every((v) => typeof v === "string"));
    if (wantsString && typeof value === "number") {
      // YAML reads 2.10 as the number 2.1 and 1.30 as 1.3: the text is lost unless it is quoted.
      const text = written?.(issue.path);
      const read = text !== undefined && text !== String(value) ? ` (${text} was read as ${value})` : "";
      return [
        {
          path: base || "(root)",
          message: `must be a string but YAML read a number${read}: quote it, e.g. "${text ?? value}"${issue.code === "invalid_value" ? ` (one of ${issue.values.map((v) => `"${String(v)}"`).join(", ")})` : ""}`,
        },
      ];
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

export interface ParseOptions {
  /** "error" (a deployment: `pulumi up` needs them) or "ignore" (render supplies placeholders). */
  missingSecrets?: "error" | "ignore";
  /** Stack name, for the exact `pulumi config set --stack` command in messages. */
  stack?: string;
  /** How the value at a settings path was written in the stack file (for YAML number hints). */
  written?: Written;
}

/** The secrets this stack's settings need and why, by key. */
export function requiredSecrets(settings: Settings): { key: string; reason: string; description: string }[] {
  return SECRETS.flatMap((s) => {
    const reason = s.requiredBy(settings);
    return reason ? [{ key: s.key, reason, description: s.description }] : [];
  });
}

/** The command that sets a secret, as the messages and the README give it. */
export function setSecretCommand(key: string, stack = "<stack>"): string {
  return `pulumi config set --secret --stack ${stack} ${key} <value>`;
}

const STRICT_STEPPING = ["blueGreen", "abTest"];

/** Mistakes the schema would report poorly: unknown services, regions, stepping a strategy forbids. */
function preIssues(
  values: Record<string, unknown>,
  defaults: JsonObject,
): { issues: RuleIssue[]; covered: string[] } {
  const issues: RuleIssue[] = [];
  const covered: string[] = [];
  for (const key of ["location", "drLocation"]) {
    const value = values[key];
    if (typeof value !== "string" || AZURE_REGIONS.includes(value)) continue;
    const display = regionFromDisplayName(value);
    const near = display ?? closest(value, AZURE_REGIONS);
    issues.push({
      path: key,
      message: `"${value}" is not an Azure region name (the names \`az account list-locations\` prints, such as "eastus" or "westeurope"; listed in settings/regions.ts)${near ? `; did you mean "${near}"?` : ""}`,
    });
    covered.push(key);
  }
  const known = Object.keys((defaults.services ?? {}) as JsonObject);
  const services = values.services;
  if (!isObject(services)) return { issues, covered };
  for (const [name, svc] of Object.entries(services)) {
    const path = `services.${name}`;
    if (!known.includes(name) && !(isObject(svc) && "image" in svc)) {
      const near = closest(name, known);
      issues.push({
        path,
        message: `unknown service${near ? ` (did you mean ${near}?)` : ""}; known services: ${known.join(", ")}. A new service must set image, tag, strategy, replicas, resources, route, exposed, port, pool, autoscaler, team, callers, allowedPaths and canary`,
      });
      covered.push(path);
      continue;
    }
    if (!isObject(svc)) continue;
    const base = (defaults.services as JsonObject | undefined)?.[name];
    const strategy = svc.strategy ?? (isObject(base) ? base.strategy : undefined);
    const canary = svc.canary;
    if (typeof strategy !== "string" || !isObject(canary)) continue;
    const forbidden = STRICT_STEPPING.includes(strategy)
      ? ["stepWeights", "stepWeight", "maxWeight"]
      : strategy === "canary"
        ? ["iterations"]
        : [];
    for (const key of forbidden.filter((k) => k in canary)) {
      issues.push({
        path: `${path}.canary.${key}`,
        message:
          strategy === "canary"
            ? "not allowed with strategy canary (it shifts traffic in steps: use stepWeights or stepWeight)"
            : `not allowed with strategy ${strategy} (it switches traffic after a fixed number of checks: set iterations instead)`,
      });
      covered.push(`${path}.canary`);
    }
  }
  return { issues, covered };
}

/**
 * Validates a stack's configuration. `config` holds the project's keys without the `aiwp-estate:` prefix;
 * secret keys are only checked for presence. Throws SettingsError naming `source`.
 */
export function parseSettings(
  config: Record<string, unknown>,
  source: string,
  options: ParseOptions = {},
): Settings {
  const values: Record<string, unknown> = {};
  const presentSecrets = new Set<string>();
  for (const [key, value] of Object.entries(config)) {
    if (SECRET_KEYS.includes(key)) presentSecrets.add(key);
    else values[key] = value;
  }
  const env = values.environment;
  if (typeof env !== "string" || !(ENVIRONMENTS as readonly string[]).includes(env)) {
    throw new SettingsError(source, [
      {
        path: "environment",
        message: `is required and must be one of ${ENVIRONMENTS.join(", ")}${env === undefined ? "" : ` (found ${JSON.stringify(env)})`}`,
      },
    ]);
  }
  const defaults = defaultsFor(env as Environment);
  const pre = preIssues(values, defaults);
  const isCovered = (path: string) =>
    pre.covered.some((c) => path === c || path.startsWith(`${c}.`) || path.startsWith(`${c}[`));
  dropDefaultStepping(defaults, values);
  const merged = mergeDefaults(defaults, values) as JsonObject;
  fillCanaryMetrics(merged);
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const issues = [
      ...pre.issues,
      ...zodIssues(parsed.error, merged, options.written).filter((i) => !isCovered(i.path)),
    ];
    throw new SettingsError(source, issues);
  }
  const settings = parsed.data;
  const issues = [
    ...pre.issues,
    ...RULES.flatMap((rule) => rule(settings)).filter((i) => !isCovered(i.path)),
  ];
  if (options.missingSecrets !== "ignore") {
    for (const secret of requiredSecrets(settings)) {
      if (presentSecrets.has(secret.key)) continue;
      issues.push({
        path: secret.key,
        message: `secret is not set; ${secret.reason === "every stack" ? "every stack needs it" : `it is required because ${secret.reason}`} (${secret.description}). Set it with: ${setSecretCommand(secret.key, options.stack)}`,
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
  const stack = pulumi.getStack();
  // The Node.js language host lists the stack's secret keys in PULUMI_CONFIG_SECRET_KEYS; a secret key
  // missing from that list was set without --secret and sits in plain text in the stack file.
  const listed = process.env.PULUMI_CONFIG_SECRET_KEYS;
  if (listed !== undefined) {
    const secretKeys = JSON.parse(listed) as string[];
    const plain = SECRET_KEYS.filter((k) => k in raw && !secretKeys.includes(`${PROJECT}:${k}`));
    if (plain.length > 0) {
      throw new SettingsError(
        `stack ${stack}`,
        plain.map((k) => ({
          path: k,
          message: `is set in plain text; set it as a secret: ${setSecretCommand(k, stack)}`,
        })),
      );
    }
  }
  const settings = parseSettings(raw, `stack ${stack}`, { stack });
  const config = new pulumi.Config(PROJECT);
  const secrets = Object.fromEntries(SECRET_KEYS.map((key) => [key, config.getSecret(key)])) as StackSecrets;
  return { settings, secrets };
}
