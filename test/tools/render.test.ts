import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { editedStackFile, STACKS } from "../support/estate";
import { render } from "../support/cli";

function listFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

describe("npm run render", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-render-"));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const stack of STACKS) {
    it(`renders the ${stack} stack with exit status 0 and a summary`, async () => {
      const out = path.join(tmp, stack);
      const result = await render(["--stack", stack, "--out", out]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, new RegExp(`Rendered stack ${stack} `));
      assert.match(result.stdout, /Resources by layer: /);
      assert.ok(
        result.stdout.indexOf("Rollout plans") < result.stdout.indexOf("Resources by layer"),
        "plans first",
      );
      assert.ok(result.stdout.split("\n").length <= 30, "the summary fits one screen");
      assert.match(fs.readFileSync(path.join(out, "summary.txt"), "utf8"), /Resources by type:/);
      assert.match(result.stdout, /Rollout plans/);
      assert.match(result.stdout, /api-gateway\s+canary/);
      assert.ok(fs.existsSync(path.join(out, "resources.json")));
    });
  }

  describe("resources.json", () => {
    let resources: { urn: string; type: string; name: string; parent: string | null; inputs: unknown }[];
    before(() => {
      resources = JSON.parse(fs.readFileSync(path.join(tmp, "prod", "resources.json"), "utf8"));
    });

    it("lists every registration with urn, type, name, parent and inputs", () => {
      assert.ok(Array.isArray(resources) && resources.length > 1);
      for (const r of resources) {
        assert.deepEqual(Object.keys(r), ["urn", "type", "name", "parent", "inputs"]);
        assert.match(r.urn, /^urn:pulumi:prod::aiwp-estate::/);
      }
    });

    it("is in tree order: the stack first, every parent before its children, siblings by URN", () => {
      assert.equal(resources[0].type, "pulumi:pulumi:Stack");
      assert.equal(resources[0].parent, null);
      const seen = new Set<string>();
      for (const r of resources) {
        if (r.parent !== null)
          assert.ok(seen.has(r.parent), `${r.urn} registered before its parent ${r.parent}`);
        seen.add(r.urn);
      }
    });

    it("never contains a secret value, only the [secret] mark", () => {
      const text = fs.readFileSync(path.join(tmp, "prod", "resources.json"), "utf8");
      assert.doesNotMatch(text, /placeholder[-.]/);
    });
  });

  it("writes each Kubernetes object under manifests/<namespace or _cluster>/<kind>-<name>.yaml", () => {
    const dir = path.join(tmp, "prod", "manifests");
    const files = listFiles(dir);
    assert.ok(files.length > 50, `only ${files.length} manifests`);
    for (const file of files) {
      const [namespace, base] = file.split(path.sep);
      const doc = yaml.load(fs.readFileSync(path.join(dir, file), "utf8")) as Record<string, any>;
      assert.equal(base, `${doc.kind}-${doc.metadata.name}.yaml`);
      assert.equal(namespace, doc.metadata.namespace ?? "_cluster");
    }
  });

  it("writes one helm/<release>.yaml per Helm release with chart, version, repository, namespace and values", () => {
    const resources = JSON.parse(fs.readFileSync(path.join(tmp, "prod", "resources.json"), "utf8")) as any[];
    const releases = resources.filter((r) => r.type === "kubernetes:helm.sh/v3:Release");
    assert.ok(releases.length >= 5);
    for (const r of releases) {
      const doc = yaml.load(
        fs.readFileSync(path.join(tmp, "prod", "helm", `${r.inputs.name}.yaml`), "utf8"),
      ) as any;
      assert.deepEqual(Object.keys(doc), [
        "release",
        "chart",
        "version",
        "repository",
        "namespace",
        "values",
      ]);
      assert.match(doc.version, /^v?\d+\.\d+\.\d+$/);
    }
  });

  it("writes the Alertmanager configuration and each dashboard by uid", () => {
    const am = yaml.load(
      fs.readFileSync(path.join(tmp, "prod", "alertmanager", "alertmanager.yaml"), "utf8"),
    ) as any;
    assert.ok(am.route && Array.isArray(am.receivers));
    for (const file of listFiles(path.join(tmp, "prod", "grafana"))) {
      const dashboard = JSON.parse(fs.readFileSync(path.join(tmp, "prod", "grafana", file), "utf8"));
      assert.equal(file, `${dashboard.uid}.json`);
    }
    assert.ok(fs.existsSync(path.join(tmp, "prod", "grafana", "aiwp-canary.json")));
  });

  it("writes prometheus/rules.yaml as a plain rule file", () => {
    const doc = yaml.load(fs.readFileSync(path.join(tmp, "prod", "prometheus", "rules.yaml"), "utf8")) as {
      groups: { name: string; rules: unknown[] }[];
    };
    assert.ok(doc.groups.length > 0 && doc.groups.every((g) => g.name && g.rules.length > 0));
  });

  it("writes every PrometheusRule and prometheus/rules.yaml exactly as js-yaml dumps them", () => {
    // render dumps each rule group once for both files; js-yaml's own dump of the parsed files is the oracle.
    const options = { noRefs: true, lineWidth: -1, sortKeys: false };
    const groups: unknown[] = [];
    const dir = path.join(tmp, "prod", "manifests", "monitoring");
    const ruleFiles = fs.readdirSync(dir).filter((f) => f.startsWith("PrometheusRule-"));
    assert.ok(ruleFiles.length >= 2);
    const resources = JSON.parse(fs.readFileSync(path.join(tmp, "prod", "resources.json"), "utf8")) as {
      inputs: { kind?: string; metadata?: { name?: string }; spec?: { groups?: unknown[] } };
    }[];
    for (const r of resources.filter((x) => x.inputs.kind === "PrometheusRule")) {
      const file = `PrometheusRule-${r.inputs.metadata?.name}.yaml`;
      const text = fs.readFileSync(path.join(dir, file), "utf8");
      assert.equal(text, yaml.dump(yaml.load(text), options), file);
      groups.push(...(r.inputs.spec?.groups ?? []));
    }
    const rules = fs.readFileSync(path.join(tmp, "prod", "prometheus", "rules.yaml"), "utf8");
    assert.equal(rules, yaml.dump({ groups }, options));
  });

  describe("bad input", () => {
    it("exits 1 naming the file, the key and the rule, and writes nothing", async () => {
      const file = editedStackFile("prod", (c) => (c["aiwp-estate:delivery"].canary.stepWeights = [50, 25]));
      const out = path.join(tmp, "bad-weights");
      const result = await render(["--stack", "prod", "--config-file", file, "--out", out]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
      assert.match(result.stderr, /delivery\.canary\.stepWeights\[1\]: must be strictly ascending/);
      assert.ok(!fs.existsSync(out));
    });

    it("leaves an earlier render untouched and no temporary directory behind", async () => {
      const out = path.join(tmp, "prod");
      const before = listFiles(out).map((f) => [f, fs.readFileSync(path.join(out, f), "utf8")]);
      const file = editedStackFile("prod", (c) => (c["aiwp-estate:network"].subnets.ingress = "10.0.1.0/24"));
      const result = await render(["--stack", "prod", "--config-file", file, "--out", out]);
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /network\.subnets\.ingress: 10\.0\.1\.0\/24 overlaps network\.subnets\.aksNodes/,
      );
      const after = listFiles(out).map((f) => [f, fs.readFileSync(path.join(out, f), "utf8")]);
      assert.deepEqual(after, before);
      assert.deepEqual(
        fs.readdirSync(tmp).filter((f) => f.includes(".tmp-")),
        [],
      );
    });

    it("exits 1 for an unknown stack, listing the known ones", async () => {
      const result = await render(["--stack", "qa", "--out", path.join(tmp, "qa")]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /Pulumi\.qa\.yaml: no such stack file \(known stacks: .*prod/);
      assert.ok(!fs.existsSync(path.join(tmp, "qa")));
    });

    it("exits 1 for malformed YAML", async () => {
      const file = path.join(tmp, "Pulumi.broken.yaml");
      fs.writeFileSync(file, "config:\n  aiwp-estate:environment: [prod\n");
      const result = await render([
        "--stack",
        "prod",
        "--config-file",
        file,
        "--out",
        path.join(tmp, "broken"),
      ]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /Pulumi\.broken\.yaml: malformed YAML/);
    });

    it("exits 1 for an unknown flag or a missing --stack", async () => {
      assert.equal((await render(["--stak", "prod"])).code, 1);
      const missing = await render([]);
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /--stack is required/);
    });
  });
});
