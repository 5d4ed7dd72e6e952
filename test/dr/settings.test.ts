/**
 * Bad input for disaster recovery: a configuration whose backups or database copy would not survive the loss
 * of the primary region is rejected with the key and the rule, before the program declares anything.
 */
import * as assert from "node:assert/strict";
import { SettingsError } from "../../settings";
import { parseStack as parse } from "../support/settings";
import { renderWith } from "../support/estate";

function rejected(stack: string, edit: (c: Record<string, any>) => void, key: string, rule: RegExp): void {
  const result = parse(stack, edit);
  assert.ok(result instanceof SettingsError, `expected ${key} to be rejected`);
  const issue = result.issues.find((i) => i.path === key);
  assert.ok(issue, `expected an issue on ${key}, got: ${result.message}`);
  assert.match(issue.message, rule);
}

describe("disaster-recovery settings", () => {
  it("the committed prod and dr stacks are valid", () => {
    for (const stack of ["prod", "dr"]) assert.ok(!(parse(stack) instanceof SettingsError), stack);
  });

  it("rejects a dr restore source in the primary region only", () => {
    rejected(
      "dr",
      (c) => (c.backup.restoreFrom.location = "eastus"),
      "backup.restoreFrom.location",
      /eastus is not the dr region \(westeurope\): the primary region's storage is unreadable during its outage/,
    );
  });

  it("rejects prod's backups in the primary region", () => {
    rejected(
      "prod",
      (c) => (c.backup.location = "eastus"),
      "backup.location",
      /must be the dr region drLocation \(westeurope\), so the backups stay readable while eastus is down/,
    );
  });

  it("rejects schedules whose volume data would not restore in another region", () => {
    for (const stack of ["prod", "dr"])
      rejected(
        stack,
        (c) => (c.backup.volumes = "snapshot"),
        "backup.volumes",
        /Azure disk snapshots .* cannot be restored in another region: use fsBackup/,
      );
    // Same-region snapshots are a choice dev and staging may make.
    assert.ok(!(parse("staging", (c) => (c.backup = { volumes: "snapshot" })) instanceof SettingsError));
  });

  it("rejects a backup TTL under the RPO", () => {
    rejected(
      "prod",
      (c) => (c.backup.hourlyTtl = "45m"),
      "backup.hourlyTtl",
      /45m is shorter than the RPO \(backup\.rpoMinutes 60\)/,
    );
  });

  it("rejects a dr stack without a database copy, or one that copies its own region", () => {
    rejected(
      "dr",
      (c) => delete c.data.postgres.replicaOf,
      "data.postgres.replicaOf",
      /copy of prod's database/,
    );
    rejected(
      "dr",
      (c) => (c.data.postgres.replicaOf.location = "westeurope"),
      "data.postgres.replicaOf.location",
      /must be in another region than this stack \(westeurope\)/,
    );
  });

  it("keeps dr-active to the dr stack, and its pool minimums within the pools", () => {
    rejected("prod", (c) => (c.cluster.drActive = true), "cluster.drActive", /only the dr stack/);
    rejected(
      "dr",
      (c) => (c.cluster.pools.application.drActiveMin = 50),
      "cluster.pools.application.drActiveMin",
      /must not exceed cluster\.pools\.application\.max \(50 > 20\)/,
    );
  });

  it("the program stops on such a stack before it declares any resource", async () => {
    await assert.rejects(
      renderWith("dr", (c) => (c["aiwp-estate:backup"].restoreFrom.location = "eastus")),
      (e: Error) => /backup\.restoreFrom\.location: eastus is not the dr region/.test(e.message),
    );
  });
});
