/**
 * `render --diff`: a change shown resource by resource, keyed by URN with the environment normalised, and
 * a tag-only release read as its Deployment's new image and the canary it starts. Also the rest of the
 * render's report: the one-screen summary with its warnings and the Azure resources one file each.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { diffResources, type Entry } from "../../tools/diff";
import { editedStackFile } from "../support/estate";
import { render } from "../support/cli";

const ROOT = path.resolve(__dirname, "..", "..");

const entry = (stack: string, type: string, name: string, inputs: Record<string, unknown>): Entry => ({
  urn: `urn:pulumi:${stack}::aiwp-estate::${type}::${name}`,
  type,
  name,
  parent: null,
  inputs,
});

describe("diffResources", () => {
  it("matches resources of two stacks by URN with the environment name normalised", () => {
    const prod = [
      entry("prod", "azure-native:storage:StorageAccount", "aiwp-prod-backup", {
        accountName: "aiwpprodbackup",
      }),
      entry("prod", "kubernetes:core/v1:Namespace", "aiwp-prod-ns", {
        metadata: { name: "ai-workflow-prod" },
      }),
    ];
    const dr = [
      entry("dr", "azure-native:storage:StorageAccount", "aiwp-dr-backup", { accountName: "aiwpdrbackup" }),
      entry("dr", "kubernetes:core/v1:Namespace", "aiwp-dr-ns", { metadata: { name: "ai-workflow-dr" } }),
    ];
    const diff = diffResources(prod, dr, "aiwp");
    assert.equal(diff.count, 0, JSON.stringify(diff));
  });

  it("names each changed field with its old and new value, and lists added and removed resources", () => {
    const before = [
      entry("prod", "t:m:A", "a", { spec: { replicas: 2, list: [1, 2] } }),
      entry("prod", "t:m:B", "gone", {}),
    ];
    const after = [
      entry("prod", "t:m:A", "a", { spec: { replicas: 3, list: [1, 2, 3] } }),
      entry("prod", "t:m:C", "new", {}),
    ];
    const diff = diffResources(before, after, "aiwp");
    assert.deepEqual(
      diff.changed[0].fields.map((f) => [f.path, f.before, f.after]),
      [
        ["spec.replicas", 2, 3],
        ["spec.list[2]", undefined, 3],
      ],
    );
    assert.deepEqual(
      diff.added.map((e) => e.name),
      ["new"],
    );
    assert.deepEqual(
      diff.removed.map((e) => e.name),
      ["gone"],
    );
    assert.equal(diff.count, 3);
  });

  it("does not mistake a longer word for the environment (production is not prod)", () => {
    const a = [entry("prod", "t:m:A", "a", { note: "production" })];
    const b = [entry("dr", "t:m:A", "a", { note: "drproduction" })];
    assert.equal(diffResources(a, b, "aiwp").changed.length, 1);
  });
});

describe("render --diff and the report", function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-diff-"));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const prodOut = path.join(tmp, "prod");
  let first: { code: number; stdout: string; stderr: string };

  before(async () => {
    first = await render(["--stack", "prod", "--out", prodOut]);
    assert.equal(first.code, 0, first.stderr);
  });

  it("prints a one-screen summary: plans first, layers, the placeholders it used for absent secrets", () => {
    const lines = first.stdout.split("\n");
    assert.ok(lines.length <= 30, `${lines.length} lines`);
    assert.ok(first.stdout.indexOf("Rollout plans") < first.stdout.indexOf("Resources by layer"));
    assert.match(first.stdout, /Resources by layer: .*azure \d+/);
    // Pulumi.prod.yaml sets no secrets; prod's settings need these five (README, "Secrets").
    for (const key of [
      "grafanaAdminPassword",
      "postgresAdminPassword",
      "rabbitmqPassword",
      "pagerdutyRoutingKey",
    ]) {
      assert.match(
        first.stdout,
        new RegExp(`placeholders used for secrets this stack does not set: .*${key}`),
      );
    }
    const full = fs.readFileSync(path.join(prodOut, "summary.txt"), "utf8");
    assert.match(full, /Resources by type:\n {2}\d+ +kubernetes:/);
  });

  it("writes each Azure resource to azure/<module>/<Type>-<name>.yaml", () => {
    const resources = JSON.parse(fs.readFileSync(path.join(prodOut, "resources.json"), "utf8")) as Entry[];
    const azure = resources.filter((r) => r.type.startsWith("azure-native:"));
    assert.ok(azure.length > 20);
    for (const r of azure) {
      const [, module, type] = r.type.split(":");
      const file = path.join(
        prodOut,
        "azure",
        module,
        `${type}-${r.name.replace(/[^A-Za-z0-9_.-]/g, "_")}.yaml`,
      );
      const doc = yaml.load(fs.readFileSync(file, "utf8")) as Entry;
      assert.equal(doc.urn, r.urn);
      assert.deepEqual(doc.inputs, r.inputs);
    }
  });

  it("reads a tag-only change as one Deployment image change and the canary it starts, with its plan", async () => {
    const file = editedStackFile("prod", (c) => (c["aiwp-estate:services"]["api-gateway"].tag = "2.5.0"));
    const result = await render([
      "--stack",
      "prod",
      "--config-file",
      file,
      "--out",
      path.join(tmp, "tag"),
      "--diff",
      prodOut,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Diff: 1 resource\(s\) differ from /);
    assert.match(result.stdout, /Changes against .*: 1 changed, 0 added, 0 removed/);
    assert.match(
      result.stdout,
      /Release \(image tags only\):\n {2}Deployment [a-z-]+\/api-gateway: image \S+\/aiwp\/api-gateway 2\.4\.1 -> 2\.5\.0/,
    );
    // Pulumi.prod.yaml's canary steps: stepWeights [5, 25, 50].
    const canary = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as any;
    const weights = [...canary.config["aiwp-estate:delivery"].canary.stepWeights, 100].map(
      (w: number) => `${w}%`,
    );
    assert.match(
      result.stdout,
      new RegExp(
        `starts Flagger canary api-gateway: ${weights.join(" -> ")}, \\d+ s per step; 100% in .+, Succeeded in .+; a fault rolls it back within .+`,
      ),
    );
    assert.match(
      fs.readFileSync(path.join(tmp, "tag", "diff.txt"), "utf8"),
      /spec\.template\.spec\.containers\[0\]\.image: /,
    );
  });

  it("compares two stacks: dr against prod matches nearly every resource by normalised URN", async () => {
    const result = await render(["--stack", "dr", "--out", path.join(tmp, "dr"), "--diff", prodOut]);
    assert.equal(result.code, 0, result.stderr);
    const m = /(\d+) changed, (\d+) added, (\d+) removed/.exec(result.stdout);
    assert.ok(m, result.stdout);
    const total = JSON.parse(fs.readFileSync(path.join(tmp, "dr", "resources.json"), "utf8")).length;
    assert.ok(Number(m[2]) + Number(m[3]) < total / 10, `added ${m[2]} + removed ${m[3]} of ${total}`);
    assert.match(
      fs.readFileSync(path.join(tmp, "dr", "diff.txt"), "utf8"),
      /location: "eastus" -> "westeurope"/,
    );
  });

  it("compares with the program at a git ref", async () => {
    const result = await render(["--stack", "prod", "--out", path.join(tmp, "ref"), "--diff", "HEAD"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Diff: \d+ resource\(s\) differ from HEAD \([0-9a-f]{12}\)/);
  });

  it("refuses a --diff that is neither a render nor a git ref, before writing", async () => {
    const out = path.join(tmp, "nodiff");
    const result = await render(["--stack", "prod", "--out", out, "--diff", "no-such-ref-or-dir"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--diff no-such-ref-or-dir: neither a render directory nor a git ref/);
    assert.ok(!fs.existsSync(out));
  });

  it("--help prints the options and exits 0", async () => {
    const result = await render(["--help"]);
    assert.equal(result.code, 0);
    for (const option of ["--stack", "--config-file", "--out", "--diff", "--require-secrets"]) {
      assert.ok(result.stdout.includes(option), option);
    }
  });
});
