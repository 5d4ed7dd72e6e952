/**
 * docs/disaster-recovery.md names, data store by data store, each copy of the data and where it lives. Its
 * machine-readable table is checked against the rendered prod and dr stacks: every copy exists in the stack and
 * the region the document names, and every store that is not rebuilt has a copy in the dr region.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import type { Registration } from "../../tools/harness";
import { manifests, rendered, type StackName } from "../support/estate";

const ROOT = path.resolve(__dirname, "..", "..");
const DOC = fs.readFileSync(path.join(ROOT, "docs", "disaster-recovery.md"), "utf8");

interface Copy {
  store: string;
  copy: string;
  stack: StackName;
  region: string;
  resource: Record<string, string>;
  schedule?: { name: string; namespace: string };
}

function copies(): Copy[] {
  const block = /```yaml\n(copies:[\s\S]*?)```/.exec(DOC);
  assert.ok(block, "docs/disaster-recovery.md has no ```yaml copies: block");
  return (yaml.load(block[1]) as { copies: Copy[] }).copies;
}

/** The Azure region a registration lives in: its own location, or its storage account's. */
function regionOf(reg: Registration, all: Registration[]): string | undefined {
  const inputs = reg.inputs as Record<string, any>;
  if (typeof inputs.location === "string") return inputs.location;
  const account = all.find(
    (r) => r.type === "azure-native:storage:StorageAccount" && r.inputs.accountName === inputs.accountName,
  );
  return account?.inputs.location as string | undefined;
}

const STORES = ["PostgreSQL", "RabbitMQ", "Blob storage", "AI Search", "Redis", "Key Vault", "Registry"];

describe("disaster-recovery copies (docs/disaster-recovery.md)", () => {
  it("names every data store, each in the human table and the checked one", () => {
    const named = new Set(copies().map((c) => c.store));
    for (const store of STORES) {
      assert.ok(named.has(store), `${store}: no row in the yaml table`);
      assert.match(DOC, new RegExp(`^\\| ${store} \\|`, "m"), `${store}: no row in the table`);
    }
  });

  for (const copy of copies()) {
    it(`${copy.store}: ${copy.copy} is in ${copy.stack}, in ${copy.region}`, async () => {
      const run = await rendered(copy.stack);
      const stackRegion = run.config.settings.location;
      const { type, kind, name, namespace, ...match } = copy.resource;
      if (kind) {
        const found = manifests(run, kind).find(
          (m) => m.metadata?.name === name && m.metadata?.namespace === namespace,
        );
        assert.ok(found, `no ${kind} ${namespace}/${name} in ${copy.stack}`);
        // In-cluster objects live where the stack's cluster does.
        assert.equal(stackRegion, copy.region);
      } else {
        const found = run.registrations.filter(
          (r) => r.type === type && Object.entries(match).every(([k, v]) => r.inputs[k] === v),
        );
        assert.equal(found.length, 1, `${type} ${JSON.stringify(match)} in ${copy.stack}`);
        assert.equal(regionOf(found[0], run.registrations), copy.region);
      }
      if (copy.schedule) {
        const schedule = manifests(run, "Schedule").find((s) => s.metadata.name === copy.schedule!.name);
        assert.ok(schedule, `no Schedule ${copy.schedule.name}`);
        assert.ok(schedule.spec.template.includedNamespaces.includes(copy.schedule.namespace));
        assert.equal(schedule.spec.template.defaultVolumesToFsBackup, true);
        // The Schedule writes to the location on the account the row names.
        const location = manifests(run, "BackupStorageLocation").find(
          (l) => l.metadata.name === schedule.spec.template.storageLocation,
        );
        assert.equal(location?.spec.config.storageAccount, match.accountName);
      }
    });
  }

  it("every store that is not rebuilt or a cache has a copy in the dr region, outside the primary's", async () => {
    const dr = (await rendered("dr")).config.settings.location;
    const primary = (await rendered("prod")).config.settings.location;
    assert.notEqual(dr, primary);
    for (const store of STORES.filter((s) => s !== "Redis" && s !== "AI Search")) {
      assert.ok(
        copies().some((c) => c.store === store && c.region === dr),
        `${store}: no copy in ${dr}`,
      );
    }
  });

  it("the failover plan in the document is the script's", () => {
    const plan = spawnSync("bash", [path.join(ROOT, "scripts", "dr-failover.sh"), "--plan"], {
      encoding: "utf8",
    });
    assert.equal(plan.status, 0, plan.stderr);
    assert.ok(DOC.includes("```text\n" + plan.stdout + "```"), "the plan block differs from --plan");
  });
});
