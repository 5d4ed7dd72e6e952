import assert from "node:assert/strict";
import { manifest, ofType, rendered } from "../support/estate";
import { NAMESPACES, RELEASES } from "../../lib/names";
import { durationSeconds } from "../../lib/duration";
import { cronIntervalMinutes } from "../../settings/rules";
import { ROLES } from "../../components/workloadIdentity";

const account = (run: Awaited<ReturnType<typeof rendered>>, name: string) => {
  const found = ofType(run, "azure-native:storage:StorageAccount").find((a) => a.inputs.accountName === name);
  assert.ok(found, `no storage account ${name}`);
  return found!.inputs as any;
};

describe("backup", () => {
  it("the hourly schedule meets the RPO and the daily full backup keeps 30 days, both with file-system backup", async () => {
    const run = await rendered("prod");
    const hourly = manifest(run, "Schedule", "hourly", NAMESPACES.velero).spec;
    assert.ok(cronIntervalMinutes(hourly.schedule)! <= run.config.settings.backup.rpoMinutes);
    assert.deepEqual(hourly.template.includedNamespaces, ["ai-workflow-prod", "rabbitmq"]);
    const daily = manifest(run, "Schedule", "daily-full", NAMESPACES.velero).spec;
    assert.deepEqual(daily.template.includedNamespaces, ["*"]);
    assert.equal(durationSeconds(daily.template.ttl), 30 * 86400);
    for (const t of [hourly.template, daily.template]) {
      // Kopia copies of the volumes, in the backup location; no region-bound disk snapshots.
      assert.equal(t.defaultVolumesToFsBackup, true);
      assert.equal(t.snapshotVolumes, false);
      assert.equal(t.storageLocation, "default");
    }
    const velero = ofType(run, "kubernetes:helm.sh/v3:Release").find(
      (r) => r.inputs.name === RELEASES.velero,
    )!.inputs as any;
    assert.equal(velero.values.deployNodeAgent, true);
    assert.equal(velero.values.configuration.uploaderType, "kopia");
  });

  it("prod's backups go to a private, versioned, soft-deleting account in West Europe, in a West Europe group", async () => {
    const run = await rendered("prod");
    const a = account(run, "aiwpprodbackupwesteurope");
    assert.equal(a.location, "westeurope");
    assert.equal(a.resourceGroupName, "rg-aiwp-prod-backup");
    assert.equal(a.sku.name, "Standard_RAGZRS");
    assert.equal(a.allowSharedKeyAccess, false);
    assert.equal(a.allowBlobPublicAccess, false);
    assert.equal(a.publicNetworkAccess, "Disabled");
    assert.equal(a.networkRuleSet.defaultAction, "Deny");
    assert.equal(a.minimumTlsVersion, "TLS1_2");
    const group = ofType(run, "azure-native:resources:ResourceGroup").find(
      (g) => g.inputs.resourceGroupName === "rg-aiwp-prod-backup",
    )!.inputs as any;
    assert.equal(group.location, "westeurope");
    const blob = ofType(run, "azure-native:storage:BlobServiceProperties").find(
      (b) => b.inputs.accountName === "aiwpprodbackupwesteurope",
    )!.inputs as any;
    assert.equal(blob.isVersioningEnabled, true);
    assert.deepEqual(blob.deleteRetentionPolicy, { enabled: true, days: 30, allowPermanentDelete: false });
    assert.equal(blob.containerDeleteRetentionPolicy.days, 30);
    const bsl = manifest(run, "BackupStorageLocation", "default", NAMESPACES.velero).spec;
    assert.equal(bsl.config.useAAD, "true");
    assert.equal(bsl.config.storageAccount, "aiwpprodbackupwesteurope");
    assert.equal(bsl.config.storageAccountURI, "https://aiwpprodbackupwesteurope.blob.core.windows.net");
    const velero = ofType(run, "kubernetes:helm.sh/v3:Release").find(
      (r) => r.inputs.name === RELEASES.velero,
    )!.inputs as any;
    assert.equal(velero.values.podLabels["azure.workload.identity/use"], "true");
    assert.match(velero.values.initContainers[0].image, /velero-plugin-for-microsoft-azure:v1\.14\./);
  });

  it("dr reads prod's West Europe backups read-only, through its own endpoint and a reader role", async () => {
    const run = await rendered("dr");
    const prod = manifest(run, "BackupStorageLocation", "prod", NAMESPACES.velero).spec;
    assert.equal(prod.accessMode, "ReadOnly");
    assert.equal(prod.config.storageAccount, "aiwpprodbackupwesteurope");
    assert.equal(prod.config.resourceGroup, "rg-aiwp-prod-backup");
    const endpoint = ofType(run, "azure-native:network:PrivateEndpoint").find((p) =>
      JSON.stringify(p.inputs.privateLinkServiceConnections).includes(
        "/storageAccounts/aiwpprodbackupwesteurope",
      ),
    );
    assert.ok(endpoint, "no private endpoint from dr to prod's backup account");
    assert.equal((endpoint!.inputs as any).location, "westeurope");
    const grant = ofType(run, "azure-native:authorization:RoleAssignment").find((r) =>
      String(r.inputs.scope).endsWith("/storageAccounts/aiwpprodbackupwesteurope"),
    );
    assert.ok(grant, "dr's Velero holds no role on prod's backups");
    assert.match(String(grant!.inputs.roleDefinitionId), new RegExp(`${ROLES.storageBlobDataReader}$`));
    // dr's own backups stay in its region, in its own account.
    assert.equal(account(run, "aiwpdrbackup").location, "westeurope");
  });
});

describe("backup ordering", () => {
  for (const stack of ["dev", "prod"] as const) {
    it(`${stack}: Velero is installed after kube-prometheus-stack, whose CRDs its ServiceMonitor needs, and its schedules after Velero`, async () => {
      const run = await rendered(stack);
      const release = (name: string) => {
        const found = run.registrations.find(
          (r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.name === name,
        );
        assert.ok(found, `no release ${name}`);
        return found!;
      };
      const velero = release(RELEASES.velero);
      assert.ok(
        velero.dependencies.includes(release(RELEASES.prometheusStack).urn),
        velero.dependencies.join("\n"),
      );
      for (const schedule of ofType(run, "kubernetes:velero.io/v1:Schedule"))
        assert.ok(
          schedule.dependencies.includes(velero.urn),
          `${schedule.name} waits for the Velero release`,
        );
    });
  }
});
