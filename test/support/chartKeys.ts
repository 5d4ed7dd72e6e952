/**
 * Which value keys a chart knows: those in its values.yaml (or a subchart's, under the subchart's alias or
 * name) and those its templates read (`.Values.a.b`, `index .Values "a" "b"`). A key the program sets that
 * is neither is silently ignored by helm: a typo.
 *
 * Free-form maps (labels, annotations, selectors, resources, security contexts, the collector's `config`, ...),
 * maps whose chart default is `{}` or null, and lists are leaves: their contents are the chart's to pass through,
 * not keys of the chart.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";

/** What one chart (or subchart) knows of its values. */
export interface ChartModel {
  name: string;
  /** values.yaml, with keys the templates merge into the root (istiod's `_internal_defaults_do_not_set`) lifted. */
  defaults: Record<string, any>;
  /** Every `.Values` path its templates read, dot-joined. */
  refs: Set<string>;
  /**
   * Paths the templates hand on whole (toYaml, tpl, range, merge, include ...): keys below them are known
   * when values.yaml gives no keys there (no default, null or `{}`).
   */
  passThrough: Set<string>;
  /** Top-level value keys the templates merge into the root (istiod's `pilot`): `pilot.x` means `x`. */
  rootAliases: Set<string>;
  /** Subcharts by the key their values sit under (alias or name). */
  subcharts: Map<string, ChartModel>;
}

/** Keys whose values are free-form maps: never checked key by key. */
const FREE_FORM = new Set([
  "annotations",
  "labels",
  "podAnnotations",
  "podLabels",
  "commonLabels",
  "additionalLabels",
  "extraLabels",
  "serviceAnnotations",
  "nodeSelector",
  "resources",
  "securityContext",
  "podSecurityContext",
  "containerSecurityContext",
  "podMetadata",
  "storageSpec",
  "volumeClaimTemplate",
  "meshConfig",
  "config",
  "secretContents",
  "matchLabels",
  "affinity",
]);

/** Whether the value under `key` is free-form (also every `*Selector` map: label selectors). */
export function isFreeForm(key: string): boolean {
  return FREE_FORM.has(key) || /Selector$/.test(key);
}

const PASS_THROUGH =
  /\b(toYaml|toJson|toPrettyJson|tpl|range|merge|mergeOverwrite|mustMerge|mustMergeOverwrite|deepCopy|mustDeepCopy|omit|include|dict)\b/;

function templateFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ya?ml|tpl|txt|json)$/.test(e.name)) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** The `.Values` references of template text: [path, handed on whole]. */
export function valuesReferences(text: string): [string, boolean][] {
  const refs: [string, boolean][] = [];
  const add = (index: number, ref: string) => {
    const action = text.slice(Math.max(text.lastIndexOf("{{", index), 0), index);
    refs.push([ref, PASS_THROUGH.test(action)]);
  };
  for (const m of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) add(m.index, m[1].slice(1));
  for (const m of text.matchAll(/index\s+\(?\$?[A-Za-z_]*\.Values\)?((?:\s+"[^"]+")+)/g)) {
    const keys = [...m[1].matchAll(/"([^"]+)"/g)].map((k) => k[1]);
    // A chain of `.x` after the index call reads deeper: `(index .Values "a").b`.
    const after = /^\)?((?:\.[A-Za-z_][A-Za-z0-9_]*)*)/.exec(text.slice(m.index + m[0].length))?.[1] ?? "";
    add(m.index, [...keys, ...after.split(".").filter(Boolean)].join("."));
  }
  return refs;
}

function loadDir(dir: string): ChartModel {
  const chart = yaml.load(fs.readFileSync(path.join(dir, "Chart.yaml"), "utf8")) as Record<string, any>;
  const valuesFile = path.join(dir, "values.yaml");
  const values = (fs.existsSync(valuesFile) ? yaml.load(fs.readFileSync(valuesFile, "utf8")) : {}) ?? {};
  const refs = new Set<string>();
  const passThrough = new Set<string>();
  const rootAliases = new Set<string>();
  const liftedKeys = new Set<string>();
  for (const file of templateFiles(path.join(dir, "templates"))) {
    const text = fs.readFileSync(file, "utf8");
    for (const [ref, whole] of valuesReferences(text)) {
      refs.add(ref);
      if (whole) passThrough.add(ref);
    }
    // istiod's zzy_descope_legacy.yaml: `mustMergeOverwrite $.Values (index $.Values "pilot")`.
    for (const m of text.matchAll(/mustMergeOverwrite\s+\$\.Values\s+\(index\s+\$\.Values\s+"([^"]+)"\)/g))
      rootAliases.add(m[1]);
    // istiod's zzz_profile.yaml merges `_internal_defaults_do_not_set` into the root, then unsets it.
    for (const m of text.matchAll(/unset\s+\$\.Values\s+"([^"]+)"/g)) liftedKeys.add(m[1]);
  }
  let defaults = values as Record<string, any>;
  for (const key of liftedKeys) {
    const inner = defaults[key];
    if (inner && typeof inner === "object") {
      const rest = { ...defaults };
      delete rest[key];
      defaults = { ...inner, ...rest };
    }
  }
  const subcharts = new Map<string, ChartModel>();
  const chartsDir = path.join(dir, "charts");
  if (fs.existsSync(chartsDir)) {
    const deps = (chart.dependencies ?? []) as { name: string; alias?: string }[];
    for (const entry of fs.readdirSync(chartsDir, { withFileTypes: true })) {
      let subDir = path.join(chartsDir, entry.name);
      if (!entry.isDirectory()) {
        if (!entry.name.endsWith(".tgz")) continue;
        subDir = extract(subDir);
      }
      const sub = loadDir(subDir);
      const dep = deps.find((d) => d.name === sub.name);
      subcharts.set(dep?.alias ?? sub.name, sub);
    }
  }
  return { name: String(chart.name), defaults, refs, passThrough, rootAliases, subcharts };
}

const extracted = new Map<string, string>();
let workDir: string | undefined;

/** Extracts a chart package (once per process) and returns the chart's directory. */
function extract(tgz: string): string {
  const found = extracted.get(tgz);
  if (found) return found;
  workDir ??= fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-charts-"));
  const dest = fs.mkdtempSync(path.join(workDir, `${path.basename(tgz, ".tgz")}-`));
  const r = spawnSync("tar", ["-xzf", tgz, "-C", dest], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`cannot extract ${tgz}: ${r.stderr}`);
  const [top] = fs.readdirSync(dest);
  const dir = path.join(dest, top);
  extracted.set(tgz, dir);
  return dir;
}

const models = new Map<string, ChartModel>();

/** The model of a chart package (`<chart>-<version>.tgz`), cached. */
export function loadChart(tgz: string): ChartModel {
  if (!models.has(tgz)) models.set(tgz, loadDir(extract(tgz)));
  return models.get(tgz)!;
}

const isEmptyMap = (v: unknown) =>
  !!v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0;

type Lookup = { found: false } | { found: true; value: unknown };

function lookup(tree: unknown, segs: string[]): Lookup {
  let node = tree;
  for (const s of segs) {
    if (!node || typeof node !== "object" || Array.isArray(node) || !Object.hasOwn(node, s))
      return { found: false };
    node = (node as Record<string, unknown>)[s];
  }
  return { found: true, value: node };
}

/** Whether the chart (or a subchart it passes the path to) knows a dot-path of value keys. */
export function knows(chart: ChartModel, segs: string[]): boolean {
  if (segs.length === 0) return true;
  if (chart.rootAliases.has(segs[0]) && knows(chart, segs.slice(1))) return true;
  if (lookup(chart.defaults, segs).found) return true;
  const joined = segs.join(".");
  if (chart.refs.has(joined)) return true;
  // A map the templates hand on whole is free-form below, unless values.yaml spells out its keys.
  for (let i = 1; i < segs.length; i++) {
    if (!chart.passThrough.has(segs.slice(0, i).join(".")) || (i === 1 && chart.rootAliases.has(segs[0])))
      continue;
    const d = lookup(chart.defaults, segs.slice(0, i));
    if (!d.found || d.value === null || isEmptyMap(d.value)) return true;
  }
  const sub = chart.subcharts.get(segs[0]);
  if (sub && knows(sub, segs.slice(1))) return true;
  // Subcharts read `global` as their own.
  if (segs[0] === "global") for (const s of chart.subcharts.values()) if (knows(s, segs)) return true;
  return false;
}

/** The chart's default at a path, looking through root aliases and into subcharts. */
function defaultAt(chart: ChartModel, segs: string[]): Lookup {
  if (chart.rootAliases.has(segs[0])) {
    const inner = defaultAt(chart, segs.slice(1));
    if (inner.found) return inner;
  }
  const own = lookup(chart.defaults, segs);
  if (own.found) return own;
  const sub = chart.subcharts.get(segs[0]);
  return sub && segs.length > 1 ? defaultAt(sub, segs.slice(1)) : { found: false };
}

/** The leaf key paths of a values tree as the chart reads them (see the module comment for what is a leaf). */
export function leafPaths(chart: ChartModel, values: unknown, prefix: string[] = []): string[][] {
  const isMap = (v: unknown): v is Record<string, unknown> =>
    !!v && typeof v === "object" && !Array.isArray(v);
  if (!isMap(values)) return prefix.length ? [prefix] : [];
  if (prefix.length > 0) {
    if (isFreeForm(prefix[prefix.length - 1])) return [prefix];
    const d = defaultAt(chart, prefix);
    if (d.found && (d.value === null || (isMap(d.value) && Object.keys(d.value).length === 0)))
      return [prefix];
  }
  const keys = Object.keys(values);
  if (keys.length === 0) return prefix.length ? [prefix] : [];
  return keys.flatMap((k) => leafPaths(chart, values[k], [...prefix, k]));
}

/** Every leaf key path of `values` that the chart does not know, dot-joined, sorted. */
export function unknownKeys(chart: ChartModel, values: Record<string, unknown>): string[] {
  return leafPaths(chart, values)
    .filter((segs) => !knows(chart, segs))
    .map((segs) => segs.join("."))
    .sort();
}
