import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { POLICIES } from "../../policies/all";
import { readStackConfig } from "../../tools/harness";
import { POLICY_CONFIG_DIR, readPolicyConfig, resolveConfig } from "../../tools/policy";
import { RUNBOOK_BASE_URL, appNamespace } from "../../lib/names";
import { STACKS } from "../support/estate";

const POLICIES_DIR = path.resolve(__dirname, "../../policies");
const DOMAINS = ["azure", "kubernetes", "mesh", "delivery", "estate"];

describe("policies pack", () => {
  it("holds at least 30 uniquely named policies, one per file in the domain folders, all of them listed", () => {
    assert.ok(POLICIES.length >= 30, `${POLICIES.length} policies`);
    assert.equal(new Set(POLICIES.map((p) => p.name)).size, POLICIES.length);
    const listed = new Set(POLICIES);
    let files = 0;
    for (const domain of DOMAINS) {
      for (const file of fs.readdirSync(path.join(POLICIES_DIR, domain))) {
        const exports = Object.values(
          require(path.join(POLICIES_DIR, domain, file)) as Record<string, unknown>,
        );
        assert.equal(exports.length, 1, `${domain}/${file} exports one policy`);
        assert.ok(listed.has(exports[0] as never), `${domain}/${file} is listed in policies/all.ts`);
        files++;
      }
    }
    assert.equal(files, POLICIES.length);
  });

  it("is a Pulumi policy pack named aiwp-estate-policies that installs on its own", () => {
    assert.match(
      fs.readFileSync(path.join(POLICIES_DIR, "PulumiPolicy.yaml"), "utf8"),
      /^runtime: nodejs$[\s\S]*^name: aiwp-estate-policies$/m,
    );
    const pack = JSON.parse(fs.readFileSync(path.join(POLICIES_DIR, "package.json"), "utf8"));
    const root = JSON.parse(fs.readFileSync(path.join(POLICIES_DIR, "..", "package.json"), "utf8"));
    for (const dep of ["@pulumi/policy", "@pulumi/pulumi"])
      assert.equal(pack.dependencies[dep], root.dependencies[dep], dep);
    assert.ok(fs.existsSync(path.join(POLICIES_DIR, "tsconfig.json")));
  });

  for (const stack of STACKS) {
    it(`the ${stack} policy config names only the pack's policies and fits their schemas`, () => {
      const resolved = resolveConfig(readPolicyConfig(path.join(POLICY_CONFIG_DIR, `${stack}.json`)));
      assert.equal(resolved.size, POLICIES.length);
    });

    it(`the ${stack} policy config agrees with the stack's settings`, () => {
      const { settings } = readStackConfig(stack);
      const config = readPolicyConfig(path.join(POLICY_CONFIG_DIR, `${stack}.json`)) as Record<string, any>;
      for (const [name, entry] of Object.entries(config)) {
        if (typeof entry === "object" && "environment" in entry)
          assert.equal(entry.environment, settings.environment, name);
      }
      assert.equal(
        config["flagger-rollback-budget"].maxRollbackSeconds,
        settings.delivery.canary.maxRollbackSeconds,
      );
      assert.equal(config["velero-schedules-meet-rpo"].rpoMinutes, settings.backup.rpoMinutes);
      assert.ok(config["velero-schedules-meet-rpo"].protectedNamespaces.includes(appNamespace(settings)));
      assert.deepEqual(
        config["mesh-permissive-exception"].permissiveExceptions,
        settings.mesh.permissiveExceptions,
      );
      assert.equal(config["alerts-have-runbook-url"].runbookBaseUrl, RUNBOOK_BASE_URL);
      // Digests are required exactly when every service of the stack pins one.
      const digested = Object.values(settings.services).every((s) => s.digest !== undefined);
      assert.equal(config["k8s-image-pinned"].requireDigest, digested, "k8s-image-pinned.requireDigest");
    });
  }
});
