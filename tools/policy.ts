/**
 * npm run policy -- --stack <name> | --resources <resources.json> [--stack <name> | --config <policy config>]
 *
 * Runs every policy of `policies/` over a stack's resources without the Pulumi CLI: each
 * ResourceValidationPolicy on each resource, each StackValidationPolicy on the whole list, with the args
 * the policy SDK builds and the enforcement levels and config of `policies/config/<stack>.json` (the file
 * `pulumi preview --policy-pack-config` reads). Prints the violations; exits 1 on a mandatory one.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import Ajv from "ajv";
import type {
  EnforcementLevel,
  Policies,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { PACK_ENFORCEMENT_LEVEL, POLICIES } from "../policies/all";
import { SettingsError } from "../settings";
import { ROOT, UsageError, renderStack } from "./harness";

/** One resource as resources.json lists it (and as the harness records it). */
export interface ResourceEntry {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  inputs: Record<string, unknown>;
}

export interface Violation {
  enforcementLevel: "mandatory" | "advisory";
  policy: string;
  /** The resource's URN, or the stack's when a stack policy names no resource. */
  urn: string;
  message: string;
}

/** The pack configuration format: policy name (or "all") -> level, or { enforcementLevel?, ...config }. */
export type PolicyPackConfig = Record<
  string,
  EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)
>;

export const POLICY_CONFIG_DIR = path.join(ROOT, "policies", "config");

const LEVELS: EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

class NotApplicable extends Error {}

function isStackPolicy(p: ResourceValidationPolicy | StackValidationPolicy): p is StackValidationPolicy {
  return typeof (p as StackValidationPolicy).validateStack === "function";
}

/** Per policy: its effective enforcement level and its config (schema defaults applied, as the CLI does). */
export function resolveConfig(
  policyConfig: PolicyPackConfig,
  policies: Policies = POLICIES,
): Map<string, { level: EnforcementLevel; config: Record<string, unknown> }> {
  const names = new Set(policies.map((p) => p.name));
  for (const key of Object.keys(policyConfig)) {
    if (key !== "all" && !names.has(key))
      throw new UsageError(`policy config: "${key}" is not a policy of the pack`);
  }
  const levelOf = (
    entry: PolicyPackConfig[string] | undefined,
    key: string,
  ): EnforcementLevel | undefined => {
    const level = typeof entry === "string" ? entry : entry?.enforcementLevel;
    if (level !== undefined && !LEVELS.includes(level)) {
      throw new UsageError(
        `policy config: ${key}.enforcementLevel "${level}" is not one of ${LEVELS.join(", ")}`,
      );
    }
    return level;
  };
  const all = levelOf(policyConfig.all, "all");
  const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false });
  const resolved = new Map<string, { level: EnforcementLevel; config: Record<string, unknown> }>();
  for (const policy of policies) {
    const entry = policyConfig[policy.name];
    const level = levelOf(entry, policy.name) ?? all ?? policy.enforcementLevel ?? PACK_ENFORCEMENT_LEVEL;
    const properties = typeof entry === "object" && entry !== null ? { ...entry } : {};
    delete properties.enforcementLevel;
    const config = structuredClone(properties) as Record<string, unknown>;
    if (policy.configSchema) {
      const validate = ajv.compile({ type: "object", ...policy.configSchema });
      if (!validate(config)) {
        const why = (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`).join("; ");
        throw new UsageError(`policy config: ${policy.name}: ${why}`);
      }
    } else if (Object.keys(config).length > 0) {
      throw new UsageError(
        `policy config: ${policy.name} takes no configuration (got ${Object.keys(config).join(", ")})`,
      );
    }
    resolved.set(policy.name, { level, config });
  }
  return resolved;
}

/** Policy resources as the SDK hands them to stack policies, parents linked by URN. */
function policyResources(resources: ResourceEntry[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const list = resources.map((r) => {
    const resource: PolicyResource = {
      type: r.type,
      props: r.inputs,
      urn: r.urn,
      name: r.name,
      opts: {
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(r.parent ? { parent: r.parent } : {}),
      },
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => (cls as unknown as { __pulumiType?: string }).__pulumiType === r.type,
      asType: (cls) =>
        (cls as unknown as { __pulumiType?: string }).__pulumiType === r.type
          ? (r.inputs as never)
          : undefined,
    };
    byUrn.set(r.urn, resource);
    return resource;
  });
  for (const [i, r] of resources.entries()) if (r.parent) list[i].parent = byUrn.get(r.parent);
  return list;
}

const notApplicable = (reason?: string): never => {
  throw new NotApplicable(reason);
};

/**
 * Runs the pack over a stack's resources with a pack configuration; returns every violation with its
 * effective enforcement level (disabled policies do not run; "remediate" counts as mandatory, as in the CLI).
 */
export async function runPolicies(
  resources: ResourceEntry[],
  policyConfig: PolicyPackConfig,
  policies: Policies = POLICIES,
): Promise<Violation[]> {
  const resolved = resolveConfig(policyConfig, policies);
  const stackUrn = resources.find((r) => r.type === "pulumi:pulumi:Stack")?.urn ?? "(stack)";
  const stackTags: ReadonlyMap<string, string> = new Map();
  const list = policyResources(resources);
  const violations: Violation[] = [];
  for (const policy of policies) {
    const { level, config } = resolved.get(policy.name)!;
    if (level === "disabled") continue;
    const enforcementLevel = level === "advisory" ? "advisory" : "mandatory";
    const getConfig = <T extends object>() => structuredClone(config) as T;
    const run = async (urn: string, check: (report: (message: string, urn?: string) => void) => unknown) => {
      try {
        await check((message, reported) =>
          violations.push({ enforcementLevel, policy: policy.name, urn: reported ?? urn, message }),
        );
      } catch (e) {
        if (e instanceof NotApplicable) return;
        // A policy that crashes has not checked anything: that must not pass silently.
        violations.push({
          enforcementLevel: "mandatory",
          policy: policy.name,
          urn,
          message: `policy failed: ${(e as Error).message}`,
        });
      }
    };
    if (isStackPolicy(policy)) {
      await run(stackUrn, (report) =>
        policy.validateStack({ resources: list, stackTags, getConfig, notApplicable }, report),
      );
      continue;
    }
    const validations = [policy.validateResource ?? []].flat();
    for (const resource of list) {
      const args: ResourceValidationArgs = {
        type: resource.type,
        props: resource.props,
        urn: resource.urn,
        name: resource.name,
        opts: resource.opts,
        stackTags,
        isType: resource.isType,
        asType: (cls) => resource.asType(cls as never) as never,
        getConfig,
        notApplicable,
      };
      for (const validate of validations) await run(resource.urn, (report) => validate(args, report));
    }
  }
  return violations;
}

/** Reads a pack configuration file. */
export function readPolicyConfig(file: string): PolicyPackConfig {
  if (!fs.existsSync(file)) throw new UsageError(`${file}: no such policy config file`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as PolicyPackConfig;
  } catch (e) {
    throw new UsageError(`${file}: malformed JSON: ${(e as Error).message}`);
  }
}

/** The stack's environment as its Azure resources' `environment` tag says. */
function environmentTag(resources: ResourceEntry[]): string | undefined {
  for (const r of resources) {
    const env = (r.inputs?.tags as Record<string, unknown> | undefined)?.environment;
    if (r.type.startsWith("azure-native:") && typeof env === "string") return env;
  }
  return undefined;
}

/** The violations as a table, mandatory first. */
export function formatViolations(violations: Violation[]): string {
  const sorted = [...violations].sort(
    (a, b) =>
      a.enforcementLevel.localeCompare(b.enforcementLevel) * -1 ||
      a.policy.localeCompare(b.policy) ||
      a.urn.localeCompare(b.urn),
  );
  const rows = [
    ["LEVEL", "POLICY", "RESOURCE", "MESSAGE"],
    ...sorted.map((v) => [v.enforcementLevel, v.policy, v.urn, v.message]),
  ];
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join("  ")).join("\n");
}

/**
 * The enforcement level of every policy in every stack, as a Markdown table generated from the config
 * files ("n/a" where the policy's environment scope excludes the stack).
 */
export function levelsTable(stacks: string[]): string {
  const resolved = stacks.map((s) =>
    resolveConfig(readPolicyConfig(path.join(POLICY_CONFIG_DIR, `${s}.json`))),
  );
  const rows = POLICIES.map((p) => {
    const cells = resolved.map((r) => {
      const { level, config } = r.get(p.name)!;
      const scope = config.appliesTo as string[] | undefined;
      return scope && config.environment && !scope.includes(config.environment as string)
        ? `${level} (n/a)`
        : level;
    });
    return `| \`${p.name}\` | ${cells.join(" | ")} | ${p.description.replace(/\|/g, "\\|")} |`;
  });
  return [
    `| policy | ${stacks.join(" | ")} | rule |`,
    `|---|${stacks.map(() => "---").join("|")}|---|`,
    ...rows,
  ].join("\n");
}

export const USAGE = `usage: npm run policy -- --stack <name>
       npm run policy -- --resources <resources.json> [--stack <name> | --config <policy config.json>]
       npm run policy -- --levels

Runs every policy of policies/ over a stack's resources without the Pulumi CLI, with the enforcement
levels and config of policies/config/<stack>.json (what \`pulumi preview --policy-pack-config\` reads).
Prints each violation (level, policy, resource URN, message); exits 1 if any is mandatory.

options:
  --stack <name>        render the stack under mocks and check it (its policy config by default)
  --resources <file>    check a rendered resources.json instead (npm run render writes one)
  --config <file>       policy pack config to use instead of policies/config/<stack>.json
  --levels              print the Markdown table of enforcement levels per stack
  -h, --help            print this help

Relative paths resolve from the directory the command was typed in.
`;

export async function main(argv: string[]): Promise<number> {
  let options: { stack?: string; resources?: string; config?: string; levels?: boolean; help?: boolean };
  try {
    options = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        resources: { type: "string" },
        config: { type: "string" },
        levels: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`policy: ${(e as Error).message}\n${USAGE}`);
    return 1;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  // npm runs scripts from the package root; INIT_CWD is where the command was typed.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  if (options.resources) options.resources = path.resolve(cwd, options.resources);
  if (options.config) options.config = path.resolve(cwd, options.config);
  if (options.levels) {
    try {
      const stacks = fs
        .readdirSync(POLICY_CONFIG_DIR)
        .filter((f) => f.endsWith(".json"))
        .map((f) => f.slice(0, -".json".length));
      const order = ["dev", "staging", "prod", "dr"];
      stacks.sort(
        (a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b),
      );
      console.log(levelsTable(stacks));
      return 0;
    } catch (e) {
      console.error(`policy: ${(e as Error).message}`);
      return 1;
    }
  }
  if (!options.stack && !options.resources) {
    console.error(`policy: --stack or --resources is required\n${USAGE}`);
    return 1;
  }
  try {
    let resources: ResourceEntry[];
    if (options.resources) {
      if (!fs.existsSync(options.resources)) throw new UsageError(`${options.resources}: no such file`);
      const parsed = JSON.parse(fs.readFileSync(options.resources, "utf8")) as unknown;
      if (!Array.isArray(parsed)) throw new UsageError(`${options.resources}: not a resources.json array`);
      resources = parsed as ResourceEntry[];
    } else {
      resources = (await renderStack(options.stack!)).registrations;
    }
    let configFile = options.config;
    if (!configFile) {
      const stack = options.stack ?? environmentTag(resources);
      if (!stack)
        throw new UsageError("cannot tell the stack: pass --stack or --config (no environment tag found)");
      configFile = path.join(POLICY_CONFIG_DIR, `${stack}.json`);
    }
    const violations = await runPolicies(resources, readPolicyConfig(configFile));
    const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory").length;
    if (violations.length > 0) console.log(formatViolations(violations));
    console.log(
      `\n${POLICIES.length} policies, ${resources.length} resources, config ${path.relative(process.cwd(), configFile)}: ` +
        `${mandatory} mandatory, ${violations.length - mandatory} advisory violation(s).`,
    );
    return mandatory > 0 ? 1 : 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof SettingsError) console.error(`policy: ${e.message}`);
    else {
      console.error(`policy: failed: ${(e as Error).message ?? e}`);
      if (process.env.AIWP_DEBUG) console.error((e as Error).stack);
    }
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
