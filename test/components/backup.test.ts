import assert from "node:assert/strict";
import { manifest, ofType, rendered } from "../support/estate";
import { NAMESPACES, RELEASES } from "../../lib/names";
import { durationSeconds } from "../../lib/duration";
import { cronIntervalMinutes } from "../../settings/rules";

describe("backup", () => {
  it("the hourly schedule meets the RPO and the daily full backup keeps 30 days", async () => {
    const run = await rendered("prod");
    const hourly = manifest(run, "Schedule", "hourly", NAMESPACES.velero).spec;
    assert.ok(cronIntervalMinutes(hourly.schedule)! <= run.config.settings.backup.rpoMinutes);
    assert.deepEqual(hourly.template.includedNamespaces, ["ai-workflow-prod", "rabbitmq"]);
    const daily = manifest(run, "Schedule", "daily-full", NAMESPACES.velero).spec;
    assert.deepEqual(daily.template.includedNamespaces, ["*"]);
    assert.equal(durationSeconds(daily.template.ttl), 30 * 86400);
  });

  it("backups go to a dedicated GRS account without keys or public access, through workload identity", async () => {
    const run = await rendered("prod");
    const account = ofType(run, "azure-native:storage:StorageAccount").find(
      (a) => a.inputs.accountName === "aiwpprodbackup",
    )!.inputs as any;
    assert.equal(account.sku.name, "Standard_GRS");
    assert.equal(account.allowSharedKeyAccess, false);
    assert.equal(account.allowBlobPublicAccess, false);
    assert.equal(account.minimumTlsVersion, "TLS1_2");
    const bsl = manifest(run, "BackupStorageLocation", "default", NAMESPACES.velero).spec;
    assert.equal(bsl.config.useAAD, "true");
    const velero = ofType(run, "kubernetes:helm.sh/v3:Release").find(
      (r) => r.inputs.name === RELEASES.velero,
    )!.inputs as any;
    assert.equal(velero.values.podLabels["azure.workload.identity/use"], "true");
    assert.match(velero.values.initContainers[0].image, /velero-plugin-for-microsoft-azure:v1\.14\./);
  });

  it("dr reads prod's backups through a read-only location", async () => {
    const prod = manifest(await rendered("dr"), "BackupStorageLocation", "prod", NAMESPACES.velero).spec;
    assert.equal(prod.accessMode, "ReadOnly");
    assert.equal(prod.config.storageAccount, "aiwpprodbackup");
  });
});
