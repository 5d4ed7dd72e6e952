/**
 * The estate as it would run in the cluster: the program's own Kubernetes objects plus every object its
 * Helm releases create (rendered by the real helm, CRDs included).
 */
import * as os from "node:os";
import * as yaml from "js-yaml";
import type { ProgramRun } from "./harness";
import { FETCH_HINT, FixtureError, missingPackages } from "./fixtures";
import { helmBinary, helmTemplate, releasesOf, type HelmRelease, type Manifest } from "./helm";
import { SECRET_MARK, isKubernetesObject, manifestOf, redact } from "./outputs";

export interface ClusterObject {
  /** "program" for an object the program declares, "chart:<release>" for one a Helm release creates. */
  source: string;
  /** The object as it would be applied. */
  manifest: Manifest;
}

/** Kinds of the built-in API that are cluster-scoped (everything else built-in is namespaced). */
const CLUSTER_SCOPED = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "MutatingAdmissionPolicy",
  "MutatingAdmissionPolicyBinding",
  "PriorityClass",
  "StorageClass",
  "CSIDriver",
  "IngressClass",
  "RuntimeClass",
  "APIService",
]);

/** `<group>/<kind>` of every cluster-scoped custom resource the given CRDs define. */
function clusterScopedCustomKinds(objects: Manifest[]): Set<string> {
  const kinds = new Set<string>();
  for (const m of objects) {
    if (m.kind === "CustomResourceDefinition" && m.spec?.scope === "Cluster")
      kinds.add(`${m.spec.group}/${m.spec.names?.kind}`);
  }
  return kinds;
}

/** Whether an object of this apiVersion and kind lives in a namespace. */
function isNamespaced(m: Manifest, customClusterKinds: Set<string>): boolean {
  const apiVersion = String(m.apiVersion ?? "");
  const group = apiVersion.includes("/") ? apiVersion.split("/")[0] : "";
  if (customClusterKinds.has(`${group}/${m.kind}`)) return false;
  return !CLUSTER_SCOPED.has(String(m.kind));
}

/** Runs `work` over `items` with at most `limit` in flight, keeping the input order in the result. */
export async function mapBounded<T, R>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** How many helm processes run at once: the machine's cores, at most 2. */
export const HELM_CONCURRENCY = Math.max(1, Math.min(2, os.availableParallelism?.() ?? os.cpus().length));

/** Renders one release to its objects (helmTemplate, or a cached wrapper of it). */
export type RenderRelease = (release: HelmRelease) => Promise<Manifest[]>;

/** The objects of each release, rendered concurrently (bounded by HELM_CONCURRENCY), in release order. */
export async function renderReleases(
  releases: HelmRelease[],
  render: RenderRelease = helmTemplate,
): Promise<{ release: HelmRelease; objects: Manifest[] }[]> {
  return mapBounded(releases, HELM_CONCURRENCY, async (release) => ({
    release,
    objects: await render(release),
  }));
}

/**
 * The full object set of a stack: the program's Kubernetes objects (as tools/outputs.ts builds their
 * manifests) and every chart's rendered objects, CRDs included. A chart object without a namespace gets its
 * release's namespace when its kind is namespaced, as `helm install` applies it.
 */
export async function estateObjects(
  run: ProgramRun,
  render: RenderRelease = helmTemplate,
): Promise<ClusterObject[]> {
  const program: ClusterObject[] = run.registrations
    .filter(isKubernetesObject)
    .map((r) => ({ source: "program", manifest: manifestOf(r) as Manifest }));
  const rendered = await renderReleases(releasesOf(run), render);
  const customClusterKinds = clusterScopedCustomKinds([
    ...program.map((o) => o.manifest),
    ...rendered.flatMap((r) => r.objects),
  ]);
  const charts: ClusterObject[] = rendered.flatMap(({ release, objects }) =>
    objects.map((m) => {
      const manifest = { ...m, metadata: { ...(m.metadata ?? {}) } };
      if (!manifest.metadata.namespace && isNamespaced(manifest, customClusterKinds))
        manifest.metadata.namespace = release.namespace;
      return { source: `chart:${release.name}`, manifest };
    }),
  );
  return [...program, ...charts];
}

/** Throws a FixtureError listing every pinned chart without a package, or the ToolError of a missing helm. */
export function requireChartFixtures(): void {
  const missing = missingPackages();
  if (missing.length > 0)
    throw new FixtureError(
      `cannot render the charts, ${missing.length} package(s) missing:\n  ${missing.join("\n  ")}\n${FETCH_HINT}`,
    );
  helmBinary();
}

/** A Secret's values replaced by "[secret]" (its keys stay visible). */
function redactSecretData(m: Manifest): Manifest {
  if (m.kind !== "Secret") return m;
  const mark = (data: unknown) =>
    data && typeof data === "object"
      ? Object.fromEntries(Object.keys(data).map((k) => [k, SECRET_MARK]))
      : data;
  return {
    ...m,
    ...(m.data ? { data: mark(m.data) } : {}),
    ...(m.stringData ? { stringData: mark(m.stringData) } : {}),
  };
}

/**
 * The object set as files: `cluster/<namespace or _cluster>/<Kind>-<name>.yaml`, each headed by the object's
 * source. Secret values are redacted; two objects that would share a file name are told apart by a number.
 */
export async function clusterFiles(run: ProgramRun): Promise<Map<string, string>> {
  requireChartFixtures();
  const files = new Map<string, string>();
  for (const { source, manifest } of await estateObjects(run)) {
    const m = redactSecretData(redact(manifest, run.config.placeholders) as Manifest);
    const base = `cluster/${m.metadata?.namespace ?? "_cluster"}/${m.kind}-${m.metadata?.name}`;
    let file = `${base}.yaml`;
    for (let n = 2; files.has(file); n++) file = `${base}-${n}.yaml`;
    files.set(file, `# source: ${source}\n${yaml.dump(m, { noRefs: true, lineWidth: -1, sortKeys: false })}`);
  }
  return files;
}
