/**
 * Runs the estate program for one stack through Pulumi's mock runtime and records every registration in
 * order. Shared by `render`, `policy`, `bench` and the tests.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties } from "@pulumi/pulumi/runtime/rpc";
import * as runtimeSettings from "@pulumi/pulumi/runtime/settings";
import { PROJECT, SECRETS, parseSettings, projectKeys, secretPlaceholder, type Settings } from "../settings";
import { mocks } from "./mocks";

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
  settings: Settings;
}

/** A user-facing failure: the message is printed as it is and the command exits 1. */
export class UsageError extends Error {}

/** Reads and validates `Pulumi.<stack>.yaml` (or `file`); throws UsageError or SettingsError. */
export function readStackConfig(stack: string, file?: string): StackConfig {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`invalid stack name "${stack}"`);
  const configFile = file ?? path.join(ROOT, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(configFile)) {
    const known = fs
      .readdirSync(ROOT)
      .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
      .filter(Boolean);
    throw new UsageError(`${configFile}: no such stack file (known stacks: ${known.join(", ")})`);
  }
  let document: unknown;
  try {
    document = yaml.load(fs.readFileSync(configFile, "utf8"));
  } catch (e) {
    throw new UsageError(`${configFile}: malformed YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const config = (document as { config?: unknown } | null)?.config;
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new UsageError(`${configFile}: config: must be a mapping of configuration keys`);
  }
  const flat: Record<string, string> = {};
  const secretKeys: string[] = [];
  const placeholders: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(config as Record<string, unknown>)) {
    const key = fullKey.split(":").pop() as string;
    let plain = value;
    if (typeof value === "object" && value !== null && "secure" in value) {
      const spec = SECRETS.find((s) => s.key === key) ?? { key, kind: "password" as const };
      plain = secretPlaceholder(spec);
      placeholders.push(plain as string);
      secretKeys.push(fullKey.includes(":") ? fullKey : `${PROJECT}:${key}`);
    }
    flat[fullKey.includes(":") ? fullKey : `${PROJECT}:${key}`] =
      typeof plain === "string" ? plain : JSON.stringify(plain);
    values[fullKey.includes(":") ? fullKey : `${PROJECT}:${key}`] = plain;
  }
  const settings = parseSettings(projectKeys(values), configFile);
  return { stack, file: configFile, flat, secretKeys, placeholders, settings };
}

/** A mock monitor that also records each registration with its parent, in arrival order. */
class RecordingMonitor extends MockMonitor {
  readonly registrations: Registration[] = [];

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async registerResource(req: any, callback: (err: unknown, resp: unknown) => void): Promise<void> {
    const parent: string = req.getParent();
    const newUrn = (this as unknown as { newUrn(p: string, t: string, n: string): string }).newUrn;
    this.registrations.push({
      urn: newUrn.call(this, parent, req.getType(), req.getName()),
      type: req.getType(),
      name: req.getName(),
      parent: parent || null,
      inputs: deserializeProperties(req.getObject()),
    });
    return super.registerResource(req, callback);
  }
}

export interface ProgramRun {
  config: StackConfig;
  registrations: Registration[];
  outputs: Record<string, unknown>;
}

/** Runs the program (index.ts) for the given stack configuration under mocks. */
export async function runProgram(config: StackConfig): Promise<ProgramRun> {
  pulumi.runtime.setAllConfig(config.flat, config.secretKeys);
  await pulumi.runtime.setMocks(mocks, PROJECT, config.stack, false);
  const monitor = new RecordingMonitor(mocks);
  runtimeSettings.setMockOptions(monitor, PROJECT, config.stack, false);
  const program: () => Promise<Record<string, unknown>> = require("../index");
  const outputs = (await pulumi.runtime.runInPulumiStack(program)) ?? {};
  // waitForRPCs is internal to the SDK but exported: it drains registrations still in flight.
  await (runtimeSettings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  return { config, registrations: monitor.registrations, outputs: outputs as Record<string, unknown> };
}

/** Reads, validates and runs a stack in one call. */
export async function renderStack(stack: string, file?: string): Promise<ProgramRun> {
  return runProgram(readStackConfig(stack, file));
}
