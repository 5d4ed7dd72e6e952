/**
 * Runs the estate program for one stack through Pulumi's mock runtime and records every registration in
 * order. Shared by `render`, `policy`, `bench` and the tests.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties, serializeProperties } from "@pulumi/pulumi/runtime/rpc";
import * as runtimeSettings from "@pulumi/pulumi/runtime/settings";
import { closest, resembles } from "../lib/suggest";
import {
  ENVIRONMENTS,
  PROJECT,
  SECRETS,
  SECRET_KEYS,
  SettingsError,
  parseSettings,
  projectKeys,
  requiredSecrets,
  secretPlaceholder,
  setSecretCommand,
  type Settings,
} from "../settings";
import { mocks } from "./mocks";
import { hasSpecial, offlineRuntime } from "./offline";

/** The project directory (holding Pulumi.yaml), whether this runs from tools/ or compiled under bin/tools/. */
export const ROOT = (() => {
  for (let dir = path.resolve(__dirname, ".."); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(__dirname, "..");
  }
})();

/** One registered resource, as `resources.json` lists it. */
export interface Registration {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  inputs: Record<string, unknown>;
  /** URNs of the resources it waits for (dependsOn and the resources its inputs came from). */
  dependencies: string[];
}

/** A stack's configuration as read from its file. */
export interface StackConfig {
  stack: string;
  file: string;
  /** Flat Pulumi config ("aiwp-estate:key" -> string, objects as JSON), secrets as placeholders. */
  flat: Record<string, string>;
  secretKeys: string[];
  /** The placeholder strings standing in for secrets. */
  placeholders: string[];
  /** Secrets the settings need that the file does not set (render used placeholders for them). */
  absentSecrets: string[];
  settings: Settings;
}

/** A user-facing failure: the message is printed as it is and the command exits 1. */
export class UsageError extends Error {}

/** Top-level keys of a Pulumi stack file (Pulumi's `workspace.ProjectStack`). */
const STACK_FILE_KEYS = ["config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment"];

/** The YAML parser's message, naming the duplicated key rather than only its position. */
function yamlProblem(e: yaml.YAMLException, text: string): string {
  const line = e.mark?.line;
  if (e.reason === "duplicated mapping key" && line !== undefined) {
    const lines = text.split("\n");
    const m = /^(\s*)(.+?):(?:\s|$)/.exec(lines[line] ?? "");
    if (m) {
      const first = lines.findIndex((l, i) => i < line && l.startsWith(`${m[1]}${m[2]}:`));
      const key = m[2].replace(/^["']|["']$/g, "");
      return `key ${key} appears twice (lines ${first >= 0 ? `${first + 1} and ` : ""}${line + 1}); keep one and merge their settings`;
    }
  }
  return `malformed YAML: ${e.reason ?? e.message.split("\n")[0]}${line !== undefined ? ` (line ${line + 1}, column ${(e.mark.column ?? 0) + 1})` : ""}`;
}

/**
 * Whether a `secure:` value is a ciphertext Pulumi can decrypt: with a passphrase provider (the file has
 * `encryptionsalt`) `v1:<base64 12-byte nonce>:<base64>` (Pulumi sdk/go/common/resource/config/crypt.go);
 * with Pulumi Cloud one standard-base64 string (pkg/secrets/service/manager.go).
 */
function isCiphertext(value: string, passphrase: boolean): boolean {
  const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  if (!passphrase) return value.length > 0 && base64.test(value);
  const [version, nonce, body] = value.split(":");
  return (
    version === "v1" &&
    base64.test(nonce ?? "") &&
    Buffer.from(nonce, "base64").length === 12 &&
    base64.test(body ?? "") &&
    (body ?? "") !== ""
  );
}

export interface ReadOptions {
  /** Fail, as a deployment would, when a secret the settings need is absent (default: use a placeholder). */
  requireSecrets?: boolean;
}

/** Reads and validates `Pulumi.<stack>.yaml` (or `file`); throws UsageError or SettingsError. */
export function readStackConfig(stack: string, file?: string, options: ReadOptions = {}): StackConfig {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`invalid stack name "${stack}"`);
  const configFile = file ?? path.join(ROOT, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(configFile) || !fs.statSync(configFile).isFile()) {
    const known = fs
      .readdirSync(ROOT)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter(Boolean);
    throw new UsageError(`${configFile}: no such stack file (known stacks: ${known.join(", ")})`);
  }
  const text = fs.readFileSync(configFile, "utf8");
  let document: unknown;
  let written: unknown;
  try {
    document = yaml.load(text);
    // Every scalar as the text written, for messages about what YAML made of it.
    written = yaml.load(text, { schema: yaml.FAILSAFE_SCHEMA });
  } catch (e) {
    throw new UsageError(`${configFile}: ${yamlProblem(e as yaml.YAMLException, text)}`);
  }
  const fail = (issues: { path: string; message: string }[]) => {
    throw new SettingsError(configFile, issues);
  };
  if (document === undefined || document === null) {
    fail([
      {
        path: "(file)",
        message: "the file is empty: a stack file holds a config: mapping of aiwp-estate:<key> settings",
      },
    ]);
  }
  if (typeof document !== "object" || Array.isArray(document)) {
    fail([{ path: "(file)", message: "must be a YAML mapping with a config: key" }]);
  }
  const top = document as Record<string, unknown>;
  const unknownTop = Object.keys(top).filter((k) => !STACK_FILE_KEYS.includes(k));
  const config = top.config;
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    fail([
      {
        path: "config",
        message:
          config === null
            ? "is empty: list the stack's aiwp-estate:<key> settings under it"
            : config === undefined
              ? `is missing: a stack file keeps its settings under config:${unknownTop.length ? ` (found ${unknownTop.join(", ")}; ${unknownTop.length === 1 ? `rename ${unknownTop[0]}: to config:` : "did you mean config?"})` : ""}`
              : "must be a mapping of aiwp-estate:<key> settings",
      },
    ]);
  }
  const issues: { path: string; message: string }[] = unknownTop.map((k) => ({
    path: k,
    message: `unknown top-level key of a stack file (known: ${STACK_FILE_KEYS.join(", ")})${closest(k, STACK_FILE_KEYS) ? `; did you mean ${closest(k, STACK_FILE_KEYS)}?` : ""}`,
  }));
  const passphrase = typeof top.encryptionsalt === "string";
  const flat: Record<string, string> = {};
  const secretKeys: string[] = [];
  const placeholders: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(config as Record<string, unknown>)) {
    const colon = fullKey.indexOf(":");
    const namespace = colon < 0 ? PROJECT : fullKey.slice(0, colon);
    const key = colon < 0 ? fullKey : fullKey.slice(colon + 1);
    const projectKey = `${PROJECT}:${key}`;
    if (namespace !== PROJECT) {
      // Other namespaces configure providers (azure-native:, kubernetes:); one that resembles the
      // project's is a typo that would silently drop the setting.
      if (resembles(namespace, PROJECT)) {
        issues.push({
          path: fullKey,
          message: `unknown namespace "${namespace}" (did you mean ${projectKey}?)`,
        });
      }
      flat[fullKey] = typeof value === "string" ? value : JSON.stringify(value);
      continue;
    }
    const isSecure =
      typeof value === "object" && value !== null && !Array.isArray(value) && "secure" in value;
    const spec = SECRETS.find((s) => s.key === key);
    if (spec && !isSecure) {
      issues.push({
        path: key,
        message: `is a secret and must not be written in plain text (it would be stored and rendered in clear); remove it and run ${setSecretCommand(key, stack)}`,
      });
      continue;
    }
    if (isSecure && !spec) {
      issues.push({
        path: key,
        message: `is not a secret key; secure: values are only for ${SECRET_KEYS.join(", ")}`,
      });
      continue;
    }
    let plain = value;
    if (spec && isSecure) {
      const ciphertext = (value as { secure: unknown }).secure;
      if (typeof ciphertext !== "string" || !isCiphertext(ciphertext, passphrase)) {
        issues.push({
          path: key,
          message: `secure: value is not a ciphertext of this stack's secrets provider; set the secret with ${setSecretCommand(key, stack)}`,
        });
        continue;
      }
      plain = secretPlaceholder(spec);
      placeholders.push(plain as string);
      secretKeys.push(projectKey);
    }
    flat[projectKey] = typeof plain === "string" ? plain : JSON.stringify(plain);
    values[projectKey] = plain;
  }
  const environment = values[`${PROJECT}:environment`];
  if (
    typeof environment === "string" &&
    (ENVIRONMENTS as readonly string[]).includes(stack) &&
    (ENVIRONMENTS as readonly string[]).includes(environment) &&
    environment !== stack
  ) {
    issues.push({
      path: "environment",
      message: `is ${environment} but --stack is ${stack}: this file configures the ${environment} stack (render it with --stack ${environment}, or set environment: ${stack})`,
    });
  }
  if (issues.length > 0) fail(issues);
  const writtenConfig = ((written as { config?: Record<string, unknown> } | null)?.config ?? {}) as Record<
    string,
    unknown
  >;
  const settings = parseSettings(projectKeys(values), configFile, {
    stack,
    missingSecrets: options.requireSecrets ? "error" : "ignore",
    written: ([head, ...rest]) => {
      let current: unknown = writtenConfig[`${PROJECT}:${String(head)}`] ?? writtenConfig[String(head)];
      for (const part of rest) current = (current as Record<PropertyKey, unknown> | undefined)?.[part];
      return typeof current === "string" ? current : undefined;
    },
  });
  // Secrets the settings need but the file does not set: placeholders, listed in the summary.
  const absentSecrets: string[] = [];
  for (const { key } of requiredSecrets(settings)) {
    const projectKey = `${PROJECT}:${key}`;
    if (projectKey in flat) continue;
    const plain = secretPlaceholder(SECRETS.find((s) => s.key === key)!);
    flat[projectKey] = plain;
    placeholders.push(plain);
    secretKeys.push(projectKey);
    absentSecrets.push(key);
  }
  return { stack, file: configFile, flat, secretKeys, placeholders, absentSecrets, settings };
}

/**
 * A mock monitor that also records each registration with its parent and dependencies. Its
 * registerResource is MockMonitor's (Pulumi sdk/nodejs/runtime/mocks.ts, SDK 3.270.0) with two savings:
 * - the response hands the SDK the serialized state itself instead of a protobuf Struct, which the SDK
 *   would only turn back into the same object (runtime/resource.ts resolveOutputs -> rpc.ts
 *   deserializeProperties calls nothing but `toJavaScript()` on it);
 * - a state property the mocks pass through unchanged (the same value the inputs hold) is answered with
 *   the request's serialized form of it rather than serialized again; only what the mocks add or replace
 *   (ids, names, status) goes through serializeProperties.
 * Inputs are deserialized at most once, for the mocks and the record (plain ones, holding no secret or
 * other special value, are their serialized form already).
 */
class RecordingMonitor extends MockMonitor {
  readonly registrations: Registration[] = [];

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async registerResource(req: any, callback: (err: unknown, resp: unknown) => void): Promise<void> {
    const self = this as unknown as {
      newUrn(p: string, t: string, n: string): string;
      transformCallbacks: Map<string, unknown>;
      resources: Map<string, { urn: string; id: string | null; state: unknown }>;
      mocks: pulumi.runtime.Mocks;
    };
    const parent: string = req.getParent();
    const type: string = req.getType();
    const name: string = req.getName();
    const urn = self.newUrn(parent, type, name);
    const serialized: Record<string, unknown> = req.getObject().toJavaScript();
    // Plain serialized inputs deserialize to a copy of themselves: the record takes them as they are.
    const inputs = hasSpecial(serialized)
      ? deserializeProperties({ toJavaScript: () => serialized } as never)
      : serialized;
    const dependencies: string[] = [...req.getDependenciesList()].sort();
    this.registrations.push({ urn, type, name, parent: parent || null, inputs, dependencies });
    try {
      const transforms = req
        .getTransformsList()
        .map((cb: { getToken(): string }) => self.transformCallbacks.get(cb.getToken()))
        .filter((t: unknown) => t !== undefined);
      const result = await self.mocks.newResource({
        type,
        name,
        inputs,
        provider: req.getProvider(),
        custom: req.getCustom(),
        id: req.getImportid(),
        transforms,
      } as pulumi.runtime.MockResourceArgs);
      const state: Record<string, unknown> = {};
      const changed: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(result.state ?? {})) {
        if (value === inputs[key] && key in serialized) state[key] = serialized[key];
        else changed[key] = value;
      }
      Object.assign(state, await serializeProperties("", changed));
      self.resources.set(urn, { urn, id: result.id ?? null, state });
      callback(null, {
        getUrn: () => urn,
        getId: () => result.id || "",
        getObject: () => ({ toJavaScript: () => state }),
        getPropertydependenciesMap: () => undefined,
        getResult: () => 0, // pulumirpc.Result.SUCCESS
        getUnknown: () => false,
      });
    } catch (err) {
      callback(err, undefined);
    }
  }
}

export interface ProgramRun {
  config: StackConfig;
  /** Every registered resource, in tree order (treeOrder). */
  registrations: Registration[];
  outputs: Record<string, unknown>;
}

export interface RunOptions {
  /** Run the SDK as it is, without the savings of tools/offline.ts (to check that they change nothing). */
  sdkAsIs?: boolean;
}

/** Runs the program (index.ts) for the given stack configuration under mocks. */
export async function runProgram(config: StackConfig, options: RunOptions = {}): Promise<ProgramRun> {
  pulumi.runtime.setAllConfig(config.flat, config.secretKeys);
  await pulumi.runtime.setMocks(mocks, PROJECT, config.stack, false);
  const monitor = new RecordingMonitor(mocks);
  runtimeSettings.setMockOptions(monitor, PROJECT, config.stack, false);
  const program: () => Promise<Record<string, unknown>> = require("../index");
  // The SDK records a stack trace for every promise (sdk/nodejs/runtime/debuggable.ts); offline nothing
  // reads them. tools/offline.ts lists the other per-resource work only an engine needs.
  const stackTraceLimit = Error.stackTraceLimit;
  if (!process.env.AIWP_DEBUG) Error.stackTraceLimit = 0;
  let restore: (() => void) | undefined;
  let outputs: Record<string, unknown>;
  try {
    const result = await pulumi.runtime.runInPulumiStack(async () => {
      if (!options.sdkAsIs) restore = offlineRuntime();
      return program();
    });
    outputs = (result ?? {}) as Record<string, unknown>;
    // waitForRPCs is internal to the SDK but exported: it drains registrations still in flight.
    await (runtimeSettings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  } finally {
    restore?.();
    Error.stackTraceLimit = stackTraceLimit;
  }
  return { config, registrations: treeOrder(monitor.registrations), outputs };
}

/**
 * Registrations in tree order: the stack first, each resource followed by its children, siblings by URN.
 * The order they reach the monitor follows the SDK's scheduling of promises, which any change to the SDK
 * or the harness reshuffles; tree order stays put from one render to the next.
 */
export function treeOrder(registrations: readonly Registration[]): Registration[] {
  const children = new Map<string | null, Registration[]>();
  const known = new Set(registrations.map((r) => r.urn));
  for (const r of registrations) {
    const parent = r.parent !== null && known.has(r.parent) ? r.parent : null;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent)!.push(r);
  }
  const ordered: Registration[] = [];
  const visit = (parent: string | null) => {
    const list = children.get(parent) ?? [];
    list.sort((a, b) => (a.urn < b.urn ? -1 : a.urn > b.urn ? 1 : 0));
    for (const r of list) {
      ordered.push(r);
      visit(r.urn);
    }
  };
  visit(null);
  return ordered;
}

/** Reads, validates and runs a stack in one call. */
export async function renderStack(stack: string, file?: string): Promise<ProgramRun> {
  return runProgram(readStackConfig(stack, file));
}
