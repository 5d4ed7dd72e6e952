/**
 * Turns a program run into the render contract's files (ESTATE section 8). Pure: returns a map of
 * relative path -> file content; `render.ts` writes it atomically.
 */
import * as yaml from "js-yaml";
import { ALERTMANAGER_CONFIG_SECRET, GRAFANA_DASHBOARD_LABEL } from "../lib/names";
import type { ProgramRun, Registration } from "./harness";

export const SECRET_MARK = "[secret]";

/** The wire signature of a Pulumi secret: `{ [SECRET_SIG]: SECRET_VALUE_SIG, value }`. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecretWrapper(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_SIG] === SECRET_VALUE_SIG
  );
}

/** Replaces Pulumi secrets by `replace(value)` wherever they occur. */
function mapSecrets(value: unknown, replace: (secret: unknown) => unknown): unknown {
  if (isSecretWrapper(value)) return replace(value.value);
  if (Array.isArray(value)) return value.map((v) => mapSecrets(v, replace));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapSecrets(v, replace)]));
  }
  return value;
}

/** The plain value with Pulumi's secret wrappers removed (for manifests, which carry placeholders). */
export function unwrapSecrets(value: unknown): unknown {
  return mapSecrets(value, (secret) => unwrapSecrets(secret));
}

/** Replaces every string that contains a secret placeholder with "[secret]". */
export function redact(value: unknown, placeholders: string[]): unknown {
  if (typeof value === "string") return placeholders.some((p) => value.includes(p)) ? SECRET_MARK : value;
  if (Array.isArray(value)) return value.map((v) => redact(v, placeholders));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, placeholders)]));
  }
  return value;
}

/**
 * `value` with every leaf passed through `leaf` and every Pulumi secret through `secret`. Parts where
 * nothing changes are the original objects, not copies: for output that is only serialized.
 */
function transformShared(
  value: unknown,
  leaf: (v: unknown) => unknown,
  secret: (inner: unknown) => unknown,
): unknown {
  if (isSecretWrapper(value)) return secret(value.value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = transformShared(value[i], leaf, secret);
      if (copy === undefined && v !== value[i]) copy = value.slice(0, i);
      copy?.push(v);
    }
    return copy ?? value;
  }
  if (value && typeof value === "object") {
    let copy: Record<string, unknown> | undefined;
    const entries = Object.entries(value);
    for (let i = 0; i < entries.length; i++) {
      const [k, old] = entries[i];
      const v = transformShared(old, leaf, secret);
      if (copy === undefined && v !== old) copy = Object.fromEntries(entries.slice(0, i));
      if (copy) copy[k] = v;
    }
    return copy ?? value;
  }
  return leaf(value);
}

/** As resources.json shows inputs: secrets and every string holding a placeholder as "[secret]". */
function masked(value: unknown, placeholders: string[]): unknown {
  const leaf = (v: unknown) =>
    typeof v === "string" && placeholders.some((p) => v.includes(p)) ? SECRET_MARK : v;
  return transformShared(value, leaf, () => SECRET_MARK);
}

/** As manifests carry inputs: the secrets' values (placeholders offline) without Pulumi's wrappers. */
function unwrappedShared(value: unknown): unknown {
  return transformShared(value, (v) => v, unwrappedShared);
}

const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

/** A Kubernetes object the program declares (not a provider, not a Helm release). */
export function isKubernetesObject(r: Registration): boolean {
  return (
    r.type.startsWith("kubernetes:") && r.type !== HELM_RELEASE && !r.type.startsWith("kubernetes:helm.sh/")
  );
}

/** The manifest of a declared Kubernetes object, as it would be applied. */
export function manifestOf(r: Registration): Record<string, unknown> {
  return manifestFrom(unwrapSecrets(r.inputs) as Record<string, unknown>, r.name);
}

/** A manifest from inputs without secret wrappers: apiVersion, kind and metadata first. */
function manifestFrom(inputs: Record<string, unknown>, name: string): Record<string, unknown> {
  const { apiVersion, kind, metadata, ...rest } = inputs;
  return { apiVersion, kind, metadata: metadata ?? { name }, ...rest };
}

function metadataOf(m: Record<string, unknown>): {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
} {
  return (m.metadata ?? {}) as { name: string; namespace?: string; labels?: Record<string, string> };
}

const dump = (doc: unknown) => yaml.dump(doc, { noRefs: true, lineWidth: -1, sortKeys: false });

/** Every non-empty line of a YAML text indented by `n` more spaces: the same block nodes one level down. */
const indent = (text: string, n: number) => text.replace(/^(?=.)/gm, " ".repeat(n));

const GROUPS_SLOT = "aiwp-rule-groups-slot";

/**
 * A PrometheusRule's manifest text and its rule groups as a YAML sequence, dumping the groups once for
 * both it and prometheus/rules.yaml (the text is what `dump` makes of the whole manifest: js-yaml writes a
 * block sequence under a mapping key two spaces deeper than the key).
 */
function dumpRuleManifest(manifest: Record<string, unknown>): { text: string; groups: string } {
  const spec = manifest.spec as { groups?: unknown[] } | undefined;
  if (!spec?.groups?.length) return { text: dump(manifest), groups: "" };
  const groups = dump(spec.groups);
  const text = dump({ ...manifest, spec: { ...spec, groups: GROUPS_SLOT } }).replace(
    new RegExp(`^( *)groups: ${GROUPS_SLOT}\n`, "m"),
    (_, lead: string) => `${lead}groups:\n${indent(groups, lead.length + 2)}`,
  );
  return { text, groups };
}

export function renderFiles(run: ProgramRun): Map<string, string> {
  const files = new Map<string, string>();
  const placeholders = run.config.placeholders;
  const resources = run.registrations.map((r) => ({
    urn: r.urn,
    type: r.type,
    name: r.name,
    parent: r.parent,
    inputs: masked(r.inputs, placeholders),
  }));
  files.set("resources.json", `${JSON.stringify(resources, null, 2)}\n`);
  // Each Azure resource also on its own: azure/<module>/<Type>-<name>.yaml, secrets masked as above.
  for (const r of resources) {
    const [provider, module, type] = r.type.split(":");
    if (provider !== "azure-native" || !type) continue;
    const safe = r.name.replace(/[^A-Za-z0-9_.-]/g, "_");
    files.set(
      `azure/${module}/${type}-${safe}.yaml`,
      dump({ urn: r.urn, type: r.type, name: r.name, inputs: r.inputs }),
    );
  }

  // Each PrometheusRule's groups as YAML, for prometheus/rules.yaml.
  const ruleGroups: string[] = [];
  for (const r of run.registrations) {
    if (r.type === HELM_RELEASE) {
      const i = unwrappedShared(r.inputs) as Record<string, unknown>;
      const release = String(i.name ?? r.name);
      let chart = String(i.chart);
      let repository = (i.repositoryOpts as { repo?: string } | undefined)?.repo;
      // An OCI chart names its registry in the chart reference itself.
      if (repository === undefined && chart.startsWith("oci://")) {
        repository = chart.slice(0, chart.lastIndexOf("/"));
        chart = chart.slice(chart.lastIndexOf("/") + 1);
      }
      files.set(
        `helm/${release}.yaml`,
        dump({
          release,
          chart,
          version: i.version,
          repository,
          namespace: i.namespace,
          values: i.values ?? {},
        }),
      );
      continue;
    }
    if (!isKubernetesObject(r)) continue;
    // As manifestOf, without copying what holds no secret.
    const manifest = manifestFrom(unwrappedShared(r.inputs) as Record<string, unknown>, r.name);
    const meta = metadataOf(manifest);
    const kind = String(manifest.kind ?? r.type.split(":").pop());
    const name = meta.name ?? r.name;
    const file = `manifests/${meta.namespace ?? "_cluster"}/${kind}-${name}.yaml`;
    if (kind === "PrometheusRule") {
      const { text, groups } = dumpRuleManifest(manifest);
      files.set(file, text);
      ruleGroups.push(groups);
    } else {
      files.set(file, dump(manifest));
    }
    if (kind === "Secret" && name === ALERTMANAGER_CONFIG_SECRET) {
      const data = (manifest.stringData ?? {}) as Record<string, string>;
      if (data["alertmanager.yaml"]) files.set("alertmanager/alertmanager.yaml", data["alertmanager.yaml"]);
    }
    const dashboardLabel = Object.entries(GRAFANA_DASHBOARD_LABEL)[0];
    if (kind === "ConfigMap" && meta.labels?.[dashboardLabel[0]] === dashboardLabel[1]) {
      for (const content of Object.values((manifest.data ?? {}) as Record<string, string>)) {
        const uid = (JSON.parse(content) as { uid?: string }).uid ?? name;
        files.set(`grafana/${uid}.json`, content.endsWith("\n") ? content : `${content}\n`);
      }
    }
  }
  const allGroups = ruleGroups.join("");
  files.set("prometheus/rules.yaml", allGroups ? `groups:\n${indent(allGroups, 2)}` : dump({ groups: [] }));
  return files;
}
