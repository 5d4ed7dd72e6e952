/**
 * `render --diff <dir|git ref>`: what a change does, resource by resource. Resources are keyed by URN with
 * the environment name normalised (so prod and dr, or two commits of one stack, compare), and compared
 * field by field on the inputs resources.json records. A changed container image is read as the release
 * it is: the Deployment's new image and the Flagger canary it starts, with that canary's plan.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { planDuration } from "../lib/rollout";
import type { Settings } from "../settings";
import { ROOT, UsageError } from "./harness";
import { removeOnInterrupt } from "./outdir";
import { rolloutPlans } from "./summary";

/** One resource as resources.json lists it. */
export interface Entry {
  urn: string;
  type: string;
  name: string;
  parent: string | null;
  inputs: Record<string, unknown>;
}

/** The render to compare with, and how to name it. */
export interface Baseline {
  label: string;
  resources: Entry[];
}

/** Lines of the diff printed on stdout; the whole diff is in diff.txt. */
export const OUTPUT_DIFF_LINES = 40;

function readResources(file: string): Entry[] {
  const resources = JSON.parse(fs.readFileSync(file, "utf8")) as Entry[];
  if (!Array.isArray(resources)) throw new UsageError(`--diff: ${file} is not a resources.json`);
  return resources;
}

/** Renders `stack` with the program as committed at `commit`, in a temporary directory removed afterwards. */
function renderAtCommit(commit: string, stack: string): Entry[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-diff-"));
  const forget = removeOnInterrupt(dir);
  try {
    const archive = execFileSync("git", ["-C", ROOT, "archive", "--format=tar", commit], {
      maxBuffer: 1 << 30,
    });
    execFileSync("tar", ["-x", "-C", dir], { input: archive });
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"), "dir");
    const out = path.join(dir, "out");
    try {
      execFileSync(
        process.execPath,
        [
          path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
          "tools/render.ts",
          "--stack",
          stack,
          "--out",
          out,
        ],
        { cwd: dir, env: { ...process.env, INIT_CWD: dir }, stdio: ["ignore", "ignore", "pipe"] },
      );
    } catch (e) {
      const stderr = String((e as { stderr?: Buffer }).stderr ?? "").trim();
      throw new UsageError(
        `--diff: the program at ${commit.slice(0, 12)} does not render ${stack}: ${stderr}`,
      );
    }
    return readResources(path.join(out, "resources.json"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    forget();
  }
}

/** A previous render directory (or its resources.json), else a git ref of this repository. */
export function loadBaseline(spec: string, stack: string, cwd: string): Baseline {
  const local = path.resolve(cwd, spec);
  if (fs.existsSync(local)) {
    const file = fs.statSync(local).isDirectory() ? path.join(local, "resources.json") : local;
    if (!fs.existsSync(file))
      throw new UsageError(`--diff ${spec}: ${local} holds no resources.json (not a render)`);
    return { label: path.relative(cwd, local) || local, resources: readResources(file) };
  }
  let commit: string;
  try {
    commit = execFileSync("git", ["-C", ROOT, "rev-parse", "--verify", "--quiet", `${spec}^{commit}`], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    throw new UsageError(`--diff ${spec}: neither a render directory nor a git ref of ${ROOT}`);
  }
  return { label: `${spec} (${commit.slice(0, 12)})`, resources: renderAtCommit(commit, stack) };
}

const stackOf = (resources: Entry[]) => /^urn:pulumi:([^:]+)::/.exec(resources[0]?.urn ?? "")?.[1];

/** Replaces the stack's environment name wherever it stands as a word or follows the name prefix. */
function normaliser(env: string | undefined, prefix: string): (value: unknown) => unknown {
  if (!env) return (v) => v;
  const escaped = env.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const word = new RegExp(`(?<![A-Za-z0-9])${escaped}(?![a-z0-9])`, "g");
  const glued = new RegExp(`${prefix}${escaped}`, "g");
  const text = (s: string) => s.replace(glued, `${prefix}<env>`).replace(word, "<env>");
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return text(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), walk(x)]));
    return v;
  };
  return walk;
}

export interface FieldChange {
  path: string;
  before: unknown;
  after: unknown;
}

export interface ResourceDiff {
  added: Entry[];
  removed: Entry[];
  changed: { before: Entry; after: Entry; fields: FieldChange[] }[];
  count: number;
}

function fieldChanges(before: unknown, after: unknown, at: string, out: FieldChange[]): void {
  const isContainer = (v: unknown) => v !== null && typeof v === "object";
  if (isContainer(before) && isContainer(after) && Array.isArray(before) === Array.isArray(after)) {
    const b = before as Record<string, unknown>;
    const a = after as Record<string, unknown>;
    for (const key of new Set([...Object.keys(b), ...Object.keys(a)])) {
      const next = Array.isArray(before) ? `${at}[${key}]` : at ? `${at}.${key}` : key;
      fieldChanges(b[key], a[key], next, out);
    }
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path: at || "(inputs)", before, after });
}

/** Added, removed and changed resources between two resource lists, keyed by normalised URN. */
export function diffResources(before: Entry[], after: Entry[], prefix: string): ResourceDiff {
  const normalise = (list: Entry[]) => {
    const n = normaliser(stackOf(list), prefix);
    return new Map(list.map((e) => [n(e.urn) as string, { entry: e, inputs: n(e.inputs) }]));
  };
  const b = normalise(before);
  const a = normalise(after);
  const diff: ResourceDiff = { added: [], removed: [], changed: [], count: 0 };
  for (const [urn, { entry, inputs }] of a) {
    const old = b.get(urn);
    if (!old) {
      diff.added.push(entry);
      continue;
    }
    const fields: FieldChange[] = [];
    fieldChanges(old.inputs, inputs, "", fields);
    if (fields.length > 0) diff.changed.push({ before: old.entry, after: entry, fields });
  }
  for (const [urn, { entry }] of b) if (!a.has(urn)) diff.removed.push(entry);
  diff.count = diff.added.length + diff.removed.length + diff.changed.length;
  return diff;
}

const show = (v: unknown) => {
  const text = v === undefined ? "(unset)" : JSON.stringify(v);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
};

const IMAGE_FIELD = /^spec\.template\.spec\.containers\[\d+\]\.image$/;
/** Fields a new image tag changes besides the image: the version labels that follow the tag. */
const TAG_FIELD = /^(?:metadata|spec\.template\.metadata)\.labels\.(?:version|app\.kubernetes\.io\/version)$/;

/** "repo 2.4.1 -> 2.5.0" when only the tag changed, else both references in full. */
function imageChange(before: unknown, after: unknown): string {
  const split = (v: unknown) => (typeof v === "string" ? /^(.*):([^:/@]+)$/.exec(v) : null);
  const [b, a] = [split(before), split(after)];
  if (b && a && b[1] === a[1]) return `${b[1]} ${b[2]} -> ${a[2]}`;
  return `${show(before)} -> ${show(after)}`;
}

/** Each Deployment whose image changed, with the canary that change starts and its plan. */
function releases(diff: ResourceDiff, after: Entry[], settings: Settings): string[] {
  const plans = rolloutPlans(settings);
  const lines: string[] = [];
  for (const { after: deployment, fields } of diff.changed) {
    if (deployment.type !== "kubernetes:apps/v1:Deployment") continue;
    const meta = (deployment.inputs.metadata ?? {}) as { name?: string; namespace?: string };
    const name = meta.name ?? deployment.name;
    for (const f of fields.filter((x) => IMAGE_FIELD.test(x.path))) {
      lines.push(
        `  Deployment ${meta.namespace ?? "default"}/${name}: image ${imageChange(f.before, f.after)}`,
      );
      // Flagger starts an analysis when the target's pod template changes (Flagger docs, "How it works").
      const canary = after.find((e) => {
        const spec = (e.inputs.spec ?? {}) as { targetRef?: { kind?: string; name?: string } };
        const m = (e.inputs.metadata ?? {}) as { namespace?: string };
        return (
          e.type.startsWith("kubernetes:flagger.app/") &&
          spec.targetRef?.kind === "Deployment" &&
          spec.targetRef.name === name &&
          m.namespace === meta.namespace
        );
      });
      const plan = plans.find((p) => p.service === name);
      if (canary && plan && plan.strategy !== "rolling") {
        lines.push(
          `    starts Flagger ${plan.strategy} ${name}: ${plan.steps}, ${plan.intervalSeconds} s per step; 100% in ${planDuration(plan.fullSeconds)}, Succeeded in ${planDuration(plan.promotionSeconds)}; a fault rolls it back within ${planDuration(plan.rollbackSeconds)} (${plan.rollbackMode})`,
        );
      } else {
        lines.push("    no Canary targets it: Kubernetes rolls it out directly");
      }
    }
  }
  return lines;
}

/** The diff as text: releases first, then every changed, added and removed resource. */
export function formatDiff(diff: ResourceDiff, label: string, after: Entry[], settings: Settings): string {
  const lines = [
    `Changes against ${label}: ${diff.changed.length} changed, ${diff.added.length} added, ${diff.removed.length} removed (environment names normalised to <env>)`,
  ];
  const released = releases(diff, after, settings);
  const imageOnly =
    diff.added.length === 0 &&
    diff.removed.length === 0 &&
    diff.changed.every(
      (c) =>
        c.after.type === "kubernetes:apps/v1:Deployment" &&
        c.fields.every((f) => IMAGE_FIELD.test(f.path) || TAG_FIELD.test(f.path)),
    );
  if (released.length > 0) {
    lines.push(imageOnly ? "Release (image tags only):" : "Image changes:", ...released);
  }
  for (const { after: e, fields } of diff.changed) {
    lines.push(`  ~ ${e.type} ${e.name}`);
    for (const f of fields.slice(0, 12)) lines.push(`      ${f.path}: ${show(f.before)} -> ${show(f.after)}`);
    if (fields.length > 12) lines.push(`      ... and ${fields.length - 12} more field(s)`);
  }
  for (const e of diff.added) lines.push(`  + ${e.type} ${e.name}`);
  for (const e of diff.removed) lines.push(`  - ${e.type} ${e.name}`);
  if (diff.count === 0) lines.push("  no differences");
  return lines.join("\n");
}
