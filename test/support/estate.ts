/**
 * Test access to rendered stacks. Running the program is the expensive part, so each stack's run is
 * cached per mocha process; tests that change config use `renderWith`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { readStackConfig, runProgram, type ProgramRun, type Registration } from "../../tools/harness";
import { manifestOf, isKubernetesObject } from "../../tools/outputs";

export const STACKS = ["dev", "staging", "prod", "dr"] as const;
export type StackName = (typeof STACKS)[number];

const cache = new Map<string, Promise<ProgramRun>>();

// Runs share the Pulumi runtime's global state, so they must not overlap.
let queue: Promise<unknown> = Promise.resolve();
function serialized<T>(work: () => Promise<T>): Promise<T> {
  const next = queue.then(work, work);
  queue = next.catch(() => undefined);
  return next;
}

/** The run of a stack's own Pulumi.<stack>.yaml, cached. */
export function rendered(stack: StackName): Promise<ProgramRun> {
  if (!cache.has(stack))
    cache.set(
      stack,
      serialized(() => runProgram(readStackConfig(stack))),
    );
  return cache.get(stack)!;
}

/** The run of a stack with the SDK as it is, without the harness's offline savings. Not cached. */
export function renderedAsIs(stack: StackName): Promise<ProgramRun> {
  return serialized(() => runProgram(readStackConfig(stack), { sdkAsIs: true }));
}

/**
 * Runs a stack with its config file edited by `edit` (which receives the parsed YAML document's
 * `config` map and mutates it). Not cached.
 */
export function renderWith(
  stack: StackName,
  edit: (config: Record<string, any>) => void,
): Promise<ProgramRun> {
  return serialized(() => runProgram(readStackConfig(stack, editedStackFile(stack, edit))));
}

/** Writes an edited copy of a stack file to a temporary directory and returns its path. */
export function editedStackFile(stack: StackName, edit: (config: Record<string, any>) => void): string {
  const source = path.resolve(__dirname, "..", "..", `Pulumi.${stack}.yaml`);
  const doc = yaml.load(fs.readFileSync(source, "utf8")) as { config: Record<string, any> };
  edit(doc.config);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-stack-"));
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  fs.writeFileSync(file, yaml.dump(doc));
  return file;
}

/** Registrations of one resource type token, e.g. "azure-native:containerservice:AgentPool". */
export function ofType(run: ProgramRun, type: string): Registration[] {
  return run.registrations.filter((r) => r.type === type);
}

/** Manifests of every Kubernetes object declared, optionally of one kind. */
export function manifests(run: ProgramRun, kind?: string): Record<string, any>[] {
  return run.registrations
    .filter(isKubernetesObject)
    .map(manifestOf)
    .filter((m) => kind === undefined || m.kind === kind);
}

/** The manifest of one object by kind and name (and namespace); throws when absent. */
export function manifest(
  run: ProgramRun,
  kind: string,
  name: string,
  namespace?: string,
): Record<string, any> {
  const found = manifests(run, kind).find(
    (m) => m.metadata?.name === name && (namespace === undefined || m.metadata?.namespace === namespace),
  );
  if (!found)
    throw new Error(
      `no ${kind} ${namespace ? `${namespace}/` : ""}${name} in the ${run.config.stack} render`,
    );
  return found;
}
