/**
 * npx tsx tools/pins.ts --list
 * Prints what the upstream fixtures are, from the pins of components/charts.ts (the one place that holds
 * them), one per line, tab-separated, for scripts/fetch-fixtures.sh:
 *
 *   chart <TAB> <key> <TAB> <chart> <TAB> <version> <TAB> <repository or oci:// registry> <TAB> <package file>
 *   crd   <TAB> <file> <TAB> <url> <TAB> <CRD name to keep, or - for the whole document>
 */
import { CHARTS, IMAGES } from "../components/charts";
import { packageName, type ChartKey } from "./fixtures";

/** One CRD manifest to fetch: the file it is saved as, its upstream URL and, for a multi-document file, the CRD kept. */
export interface CrdSource {
  file: string;
  url: string;
  /** metadata.name of the CRD to keep from a multi-document file; undefined keeps the whole file. */
  crd?: string;
}

/** Flagger's CRDs at the release of the pinned chart (Flagger versions its chart and its app together). */
function flaggerCrds(): CrdSource[] {
  const url = `https://raw.githubusercontent.com/fluxcd/flagger/v${CHARTS.flagger.version}/artifacts/flagger/crd.yaml`;
  return ["canaries", "metrictemplates", "alertproviders"].map((plural) => ({
    file: `flagger-${plural}.flagger.app.yaml`,
    url,
    crd: `${plural}.flagger.app`,
  }));
}

/** Velero's CRDs at the release of the pinned server image (the chart's CRD job applies that image's CRDs). */
function veleroCrds(): CrdSource[] {
  const tag = IMAGES.velero.slice(IMAGES.velero.lastIndexOf(":") + 1);
  return ["schedules", "backupstoragelocations", "volumesnapshotlocations"].map((plural) => ({
    file: `velero.io_${plural}.yaml`,
    url: `https://raw.githubusercontent.com/vmware-tanzu/velero/${tag}/config/crd/v1/bases/velero.io_${plural}.yaml`,
  }));
}

/** Every CRD manifest the tests read from the fixtures' crds/. */
export function crdSources(): CrdSource[] {
  return [...flaggerCrds(), ...veleroCrds()];
}

/** The lines of `--list`. */
export function pinLines(): string[] {
  const charts = (Object.keys(CHARTS) as ChartKey[]).map((key) => {
    const pin = CHARTS[key];
    return ["chart", key, pin.chart, pin.version, pin.repo, packageName(pin)].join("\t");
  });
  const crds = crdSources().map((c) => ["crd", c.file, c.url, c.crd ?? "-"].join("\t"));
  return [...charts, ...crds];
}

if (require.main === module) {
  if (process.argv[2] !== "--list") {
    console.error("usage: npx tsx tools/pins.ts --list");
    process.exit(1);
  }
  console.log(pinLines().join("\n"));
}
