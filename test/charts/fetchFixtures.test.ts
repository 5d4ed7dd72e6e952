import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { CHARTS, IMAGES } from "../../components/charts";
import { crdsDir, packageName } from "../../tools/fixtures";
import { crdSources, pinLines } from "../../tools/pins";
import { requireCrds } from "../support/schemas";
import { requireTool, runTool } from "../support/tools";

const ROOT = path.resolve(__dirname, "..", "..");
const SCRIPT = path.join(ROOT, "scripts", "fetch-fixtures.sh");

/** The commands the script would run (its --dry-run), with helm stubbed by name. */
function dryRun(dir: string): string[] {
  const r = spawnSync("bash", [SCRIPT, "--dry-run", dir], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, HELM: "helm" },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split("\n");
}

describe("scripts/fetch-fixtures.sh", function () {
  it("is shellcheck-clean", function () {
    const shellcheck = requireTool(this, "shellcheck");
    const r = runTool(shellcheck, [SCRIPT]);
    assert.equal(r.status, 0, r.output);
  });

  it("pulls every pin of components/charts.ts, and only those, at its version", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-fetch-"));
    const pulls = dryRun(dir).filter((l) => l.startsWith("helm pull "));
    const expected = Object.values(CHARTS).map((pin) =>
      pin.repo.startsWith("oci://")
        ? `helm pull ${pin.repo}/${pin.chart} --version ${pin.version} --destination ${dir}/charts`
        : `helm pull ${pin.chart} --repo ${pin.repo} --version ${pin.version} --destination ${dir}/charts`,
    );
    assert.deepEqual(pulls, expected);
    assert.equal(pinLines().filter((l) => l.startsWith("chart\t")).length, Object.keys(CHARTS).length);
  });

  it("skips a package that is already there", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-fetch-"));
    fs.mkdirSync(path.join(dir, "charts"));
    fs.writeFileSync(path.join(dir, "charts", packageName(CHARTS.velero)), "");
    const lines = dryRun(dir);
    assert.ok(lines.includes(`charts/${packageName(CHARTS.velero)}: present`));
    assert.ok(!lines.some((l) => l.startsWith("helm pull velero ")));
  });

  it("fetches the Flagger and Velero CRDs at the pinned releases, as the files the tests read", function () {
    requireCrds(this);
    const files = crdSources().map((c) => c.file);
    const present = fs.readdirSync(crdsDir()).filter((f) => f.endsWith(".yaml"));
    assert.deepEqual([...files].sort(), [...present].sort());
    const lines = dryRun(fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-fetch-"))).join("\n");
    assert.match(lines, new RegExp(`fluxcd/flagger/v${CHARTS.flagger.version}/artifacts/flagger/crd\\.yaml`));
    const velero = IMAGES.velero.split(":")[1];
    assert.ok(lines.includes(`vmware-tanzu/velero/${velero}/config/crd/v1/bases/velero.io_schedules.yaml`));
    // The fixtures' own record of where their CRDs came from names the same releases.
    const sources = path.join(crdsDir(), "SOURCES.txt");
    if (fs.existsSync(sources)) {
      const text = fs.readFileSync(sources, "utf8");
      assert.match(text, new RegExp(`Flagger v${CHARTS.flagger.version.replace(/\./g, "\\.")}\\b`));
      assert.ok(text.includes(`Velero ${velero} `), `SOURCES.txt names Velero ${velero}`);
    }
  });

  it("keeps exactly the named CRD of Flagger's multi-document crd.yaml", function () {
    requireCrds(this);
    const flagger = crdSources().filter((c) => c.crd);
    const combined = flagger
      .map((c) => `---\n${fs.readFileSync(path.join(crdsDir(), c.file), "utf8")}`)
      .join("\n");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-crd-"));
    fs.writeFileSync(path.join(dir, "crd.yaml"), combined);
    const pick = /^pick_crd\(\) \{[\s\S]*?^\}/m.exec(fs.readFileSync(SCRIPT, "utf8"))![0];
    for (const c of flagger) {
      const r = spawnSync(
        "bash",
        ["-c", `${pick}\npick_crd "$1" "$2"`, "pick", path.join(dir, "crd.yaml"), c.crd!],
        {
          encoding: "utf8",
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const docs = yaml.loadAll(r.stdout).filter(Boolean) as Record<string, any>[];
      assert.deepEqual(
        docs.map((d) => d.metadata.name),
        [c.crd],
      );
      assert.deepEqual(
        docs[0],
        yaml.load(fs.readFileSync(path.join(crdsDir(), c.file), "utf8").replace(/\n---\s*$/, "\n")),
      );
    }
  });
});
