/**
 * Where the upstream chart packages and CRDs live on this machine. They are never part of the project:
 * `scripts/fetch-fixtures.sh <dir>` fetches them at the pinned versions, and `$AIWP_FIXTURES` names that
 * directory; without it they are read from `../shared` beside the project.
 *
 *   <dir>/charts/<chart>-<version>.tgz   one package per pin of components/charts.ts
 *   <dir>/crds/*.yaml                    Flagger's and Velero's CustomResourceDefinitions
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { CHARTS, type ChartPin } from "../components/charts";
import { ROOT, UsageError } from "./harness";

export type ChartKey = keyof typeof CHARTS;

/** The fixtures directory: `$AIWP_FIXTURES` when set, else `<project>/../shared`. */
export function fixturesDir(): string {
  const configured = process.env.AIWP_FIXTURES;
  return configured ? path.resolve(configured) : path.resolve(ROOT, "..", "shared");
}

/** Directory of the chart packages. */
export function chartsDir(): string {
  return path.join(fixturesDir(), "charts");
}

/** Directory of the upstream CRD manifests (Flagger, Velero). */
export function crdsDir(): string {
  return path.join(fixturesDir(), "crds");
}

/** A missing fixture: the message names the pin or directory and how to fetch it. */
export class FixtureError extends UsageError {}

/** The key of a pin in CHARTS (`velero` for CHARTS.velero). */
export function chartKeyOf(pin: ChartPin | ChartKey): ChartKey {
  if (typeof pin === "string") {
    if (!Object.hasOwn(CHARTS, pin)) throw new FixtureError(`CHARTS.${pin}: no such chart pin`);
    return pin;
  }
  const found = (Object.keys(CHARTS) as ChartKey[]).find(
    (k) => CHARTS[k].chart === pin.chart && CHARTS[k].version === pin.version,
  );
  if (!found)
    throw new FixtureError(`chart ${pin.chart} ${pin.version} is not pinned in components/charts.ts`);
  return found;
}

/** File name of a pin's package, as `helm pull` names it: `<chart>-<version>.tgz`. */
export function packageName(pin: ChartPin): string {
  return `${pin.chart}-${pin.version}.tgz`;
}

/** How to provide the fixtures, for error messages. */
export const FETCH_HINT =
  "fetch them with scripts/fetch-fixtures.sh <dir> on a machine with network access, then set AIWP_FIXTURES=<dir>";

/** Why a pin has no package in `dir`, or undefined when it has one. */
function missingPackage(key: ChartKey, dir: string): string | undefined {
  const name = packageName(CHARTS[key]);
  return fs.existsSync(path.join(dir, name)) ? undefined : `CHARTS.${key}: no package ${name} in ${dir}`;
}

/** Path of a pinned chart's package; throws a FixtureError naming the pin when it is not there. */
export function chartPackage(pin: ChartPin | ChartKey, dir: string = chartsDir()): string {
  const key = chartKeyOf(pin);
  const missing = missingPackage(key, dir);
  if (missing) throw new FixtureError(`${missing} (${FETCH_HINT})`);
  return path.join(dir, packageName(CHARTS[key]));
}

/** Every pin whose package is missing, one line each naming the pin (empty: all present). */
export function missingPackages(dir: string = chartsDir()): string[] {
  return (Object.keys(CHARTS) as ChartKey[]).flatMap((key) => missingPackage(key, dir) ?? []);
}

/** The pin a Helm release's chart and version name, or undefined (an OCI chart is named by its full reference). */
export function pinOfRelease(chart: string, version: string): ChartKey | undefined {
  const name = chart.slice(chart.lastIndexOf("/") + 1);
  return (Object.keys(CHARTS) as ChartKey[]).find(
    (k) => CHARTS[k].chart === name && CHARTS[k].version === version,
  );
}
