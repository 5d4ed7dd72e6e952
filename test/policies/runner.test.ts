import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderFiles } from "../../tools/outputs";
import { runPolicies, type ResourceEntry } from "../../tools/policy";
import { writeAtomically } from "../../tools/render";
import { imagePinned } from "../../policies/kubernetes/imagePinned";
import { rendered } from "../support/estate";
import { resource } from "./support";

const ROOT = path.resolve(__dirname, "../..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

function policyCli(...args: string[]) {
  return spawnSync(TSX, ["tools/policy.ts", ...args], { cwd: ROOT, encoding: "utf8" });
}

const latest = resource("kubernetes:apps/v1:Deployment", {
  metadata: { name: "a", namespace: "n" },
  spec: { template: { spec: { containers: [{ name: "a", image: "x.azurecr.io/a:latest" }] } } },
});

describe("tools/policy (offline runner)", () => {
  it("reports a violation at the policy's level from the pack config, and skips disabled policies", async () => {
    const [mandatory] = await runPolicies([latest], {}, [imagePinned]);
    assert.equal(mandatory.enforcementLevel, "mandatory");
    assert.equal(mandatory.policy, "k8s-image-pinned");
    assert.equal(mandatory.urn, latest.urn);
    const [advisory] = await runPolicies([latest], { "k8s-image-pinned": "advisory" }, [imagePinned]);
    assert.equal(advisory.enforcementLevel, "advisory");
    assert.equal(
      (await runPolicies([latest], { all: "advisory" }, [imagePinned]))[0].enforcementLevel,
      "advisory",
    );
    assert.deepEqual(
      await runPolicies([latest], { all: "advisory", "k8s-image-pinned": { enforcementLevel: "disabled" } }, [
        imagePinned,
      ]),
      [],
    );
  });

  it("rejects config for an unknown policy or of the wrong shape", async () => {
    await assert.rejects(
      runPolicies([], { "no-such-policy": "mandatory" }),
      /"no-such-policy" is not a policy of the pack/,
    );
    await assert.rejects(
      runPolicies([], { "flagger-rollback-budget": { maxRollbackSeconds: "2m" } }),
      /flagger-rollback-budget: \/maxRollbackSeconds must be integer/,
    );
  });

  it("exits 1 with a table naming the policy and URN when a violation is introduced into a rendered resources.json", async () => {
    const run = await rendered("prod");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-policy-"));
    const out = path.join(dir, "prod");
    writeAtomically(out, renderFiles(run));
    const file = path.join(out, "resources.json");
    const resources = JSON.parse(fs.readFileSync(file, "utf8")) as ResourceEntry[];
    const target = resources.find((r) => r.type === "kubernetes:apps/v1:Deployment");
    assert.ok(target, "prod declares a Deployment");
    const container = (target.inputs as any).spec.template.spec.containers[0];
    container.image = `${container.image.replace(/[:@].*$/, "")}:latest`;
    fs.writeFileSync(file, JSON.stringify(resources));
    const result = policyCli("--resources", file, "--stack", "prod");
    assert.equal(result.status, 1, result.stderr);
    const line = result.stdout.split("\n").find((l) => l.includes("k8s-image-pinned"));
    assert.ok(line, result.stdout);
    assert.match(line, /^mandatory\s+k8s-image-pinned\s+/);
    assert.ok(line.includes(target.urn), line);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("exits 1 with a usage message on bad usage", () => {
    const none = policyCli();
    assert.equal(none.status, 1);
    assert.match(none.stderr, /--stack or --resources is required/);
    const missing = policyCli("--resources", "/nonexistent/resources.json");
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no such file/);
    assert.equal(policyCli("--bogus").status, 1);
  });
});
