import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as authorization from "@pulumi/azure-native/authorization";
import * as resources from "@pulumi/azure-native/resources";
import * as storage from "@pulumi/azure-native/storage";
import type { BackupSettings } from "../settings";
import { MONITORING_SELECTOR, NAMESPACES, RELEASES, VELERO_SCHEDULES } from "../lib/names";
import { CHARTS, IMAGES, SYSTEM_POOL, chartSource } from "./charts";
import { privateEndpoint } from "./privateEndpoint";
import { PRIORITY_CLASSES } from "./priorityClasses";
import { ROLES, WorkloadIdentity } from "./workloadIdentity";

/** Velero's server service account (the chart names it after the release); the identity federates it. */
export const VELERO_SERVICE_ACCOUNT = RELEASES.velero;

/** Blob container of the backups. */
export const BACKUP_CONTAINER = "velero";

/** dr's read-only BackupStorageLocation on prod's backups (scripts/dr-failover.sh restores from it). */
export const RESTORE_LOCATION = "prod";

/**
 * Storage account of a stack's backups: "<prefix><env>backup", plus the region when the account lives outside the
 * stack's own (prod's: "aiwpprodbackupwesteurope", which dr's restoreFrom names).
 */
export function backupAccountName(prefix: string, offsiteRegion?: string): string {
  return `${prefix.replace(/[^a-z0-9]/g, "")}backup${offsiteRegion ?? ""}`.slice(0, 24);
}

/** Resource group of an off-region backup account: in that region, so its control plane outlives the primary's. */
export function backupResourceGroupName(prefix: string): string {
  return `rg-${prefix}-backup`;
}

/** BackupStorageLocation config for an Azure blob container reached with workload identity (no keys). */
export function blobLocationConfig(
  resourceGroup: pulumi.Input<string>,
  account: string,
  subscriptionId: pulumi.Input<string>,
) {
  return {
    resourceGroup,
    storageAccount: account,
    subscriptionId,
    useAAD: "true",
    // With the account URI the plugin needs no Reader role on the account to discover its endpoint.
    storageAccountURI: `https://${account}.blob.core.windows.net`,
  };
}

/**
 * How a schedule's backups carry volume data. fsBackup: the node agent copies every pod volume with Kopia into the
 * backup location's blob container, so the data restores wherever that container is readable. snapshot: Azure disk
 * snapshots, which stay in the disks' region and resource group (velero-io/velero#4500), for dev and staging only.
 */
export function volumeTemplate(volumes: BackupSettings["volumes"]): Record<string, unknown> {
  return volumes === "fsBackup"
    ? { defaultVolumesToFsBackup: true, snapshotVolumes: false }
    : { defaultVolumesToFsBackup: false, snapshotVolumes: true, volumeSnapshotLocations: ["default"] };
}

/** The Schedules that meet the RPO: hourly for the data-bearing namespaces, daily for everything. */
export function scheduleSpecs(b: BackupSettings): { name: string; spec: Record<string, unknown> }[] {
  const template = { storageLocation: "default", ...volumeTemplate(b.volumes) };
  return [
    {
      name: VELERO_SCHEDULES.hourly,
      spec: {
        schedule: b.hourlySchedule,
        template: { ...template, includedNamespaces: b.hourlyNamespaces, ttl: b.hourlyTtl },
      },
    },
    {
      name: VELERO_SCHEDULES.daily,
      spec: {
        schedule: b.dailySchedule,
        template: { ...template, includedNamespaces: ["*"], ttl: b.dailyTtl },
      },
    },
  ];
}

/** Velero chart values: Azure plugin, workload identity, no chart-made locations or schedules (declared as CRs). */
export function veleroValues(
  clientId: pulumi.Input<string>,
  cloudCredentials: pulumi.Input<string>,
  volumes: BackupSettings["volumes"] = "fsBackup",
): Record<string, unknown> {
  const fsBackup = volumes === "fsBackup";
  const [repository, tag] = IMAGES.velero.split(":");
  return {
    image: { repository, tag },
    initContainers: [
      {
        name: "velero-plugin-for-microsoft-azure",
        image: IMAGES.veleroAzurePlugin,
        imagePullPolicy: "IfNotPresent",
        volumeMounts: [{ mountPath: "/target", name: "plugins" }],
      },
    ],
    podLabels: { "azure.workload.identity/use": "true" },
    priorityClassName: PRIORITY_CLASSES.platform.name,
    serviceAccount: {
      server: {
        create: true,
        name: VELERO_SERVICE_ACCOUNT,
        annotations: { "azure.workload.identity/client-id": clientId },
      },
    },
    // Workload identity: the file carries only subscription, resource group and cloud; the webhook injects the rest.
    credentials: { useSecret: true, secretContents: { cloud: cloudCredentials } },
    upgradeCRDs: true,
    cleanUpCRDs: false,
    backupsEnabled: true,
    snapshotsEnabled: true,
    // File-system backup: the node agent (a DaemonSet reading pod volumes through the kubelet's hostPath) uploads
    // each volume with Kopia to the backup location, so volume data restores in another region.
    deployNodeAgent: fsBackup,
    ...(fsBackup
      ? {
          nodeAgent: {
            // On every node that can run a pod with a volume, whatever its taints.
            tolerations: [{ operator: "Exists" }],
            // A DaemonSet pod must fit on nodes already full of services: it outranks them.
            priorityClassName: PRIORITY_CLASSES.platform.name,
            resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
          },
        }
      : {}),
    configuration: {
      backupStorageLocation: [],
      volumeSnapshotLocation: [],
      uploaderType: "kopia",
      defaultVolumesToFsBackup: fsBackup,
    },
    schedules: {},
    // The chart's ServiceMonitor, labelled for the estate's Prometheus (the operator ignores the pods'
    // prometheus.io annotations). autodetect off: the chart renders it whether or not the API is known at
    // template time; the release waits for the Prometheus stack, which installs the CRD.
    metrics: {
      enabled: true,
      serviceMonitor: { enabled: true, autodetect: false, additionalLabels: { ...MONITORING_SELECTOR } },
    },
    nodeSelector: SYSTEM_POOL.nodeSelector,
    tolerations: SYSTEM_POOL.tolerations,
    resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  };
}

export interface BackupArgs {
  /** Resource name prefix of the stack, "<prefix>-<env>". */
  prefix: string;
  /** Backup settings of the stack. */
  backup: BackupSettings;
  /** Resource group of the identity, and of the backup storage account when it lives in the stack's region. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region of the stack. */
  location: string;
  /** The cluster's node resource group, where the managed disks (and any disk snapshots) live. */
  nodeResourceGroup: pulumi.Input<string>;
  /** The cluster's OIDC issuer URL. */
  oidcIssuerUrl: pulumi.Input<string>;
  /** The stack's private endpoints subnet: Velero reaches the backup accounts through endpoints there. */
  privateEndpointSubnetId: pulumi.Input<string>;
  /** The stack's privatelink.blob.core.windows.net zone, linked to its VNet. */
  blobPrivateDnsZoneId: pulumi.Input<string>;
  /** Tags of the Azure resources. */
  tags: Record<string, string>;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
  /** Resources the release waits for (the namespaces). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * Velero with the Azure plugin, its backup account and locations, and the RPO-meeting Schedules.
 *
 * The account is private (endpoints only), keeps deleted and overwritten blobs for `backup.softDeleteDays`, and in
 * prod lives in the dr region (`backup.location`) in a resource group of that region: prod's Velero writes every
 * backup straight there, so a Completed backup is already readable in West Europe and an East US outage adds nothing
 * to the RPO. dr mounts it read-only as location "prod" (`backup.restoreFrom`) through its own private endpoint.
 */
export class Backup extends pulumi.ComponentResource {
  /** Name of the backup storage account. */
  public readonly storageAccountName: pulumi.Output<string>;
  /** Region of the backup storage account. */
  public readonly storageLocation: string;

  constructor(name: string, args: BackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:platform:Backup", name, {}, opts);
    const b = args.backup;
    const subscriptionId = authorization.getClientConfigOutput({ parent: this }).subscriptionId;
    const storageLocation = b.location ?? args.location;
    const offsite = storageLocation !== args.location;
    const accountGroup: pulumi.Input<string> = offsite
      ? new resources.ResourceGroup(
          `${name}-group`,
          {
            resourceGroupName: backupResourceGroupName(args.prefix),
            location: storageLocation,
            tags: args.tags,
          },
          { parent: this, protect: true },
        ).name
      : args.resourceGroupName;
    const accountName = backupAccountName(args.prefix, offsite ? storageLocation : undefined);
    const account = new storage.StorageAccount(
      `${name}-account`,
      {
        accountName,
        resourceGroupName: accountGroup,
        location: storageLocation,
        kind: "StorageV2",
        sku: { name: b.storageReplication },
        allowBlobPublicAccess: false,
        allowSharedKeyAccess: false,
        defaultToOAuthAuthentication: true,
        minimumTlsVersion: "TLS1_2",
        enableHttpsTrafficOnly: true,
        // Reached only through private endpoints (below, and dr's); nothing on the internet.
        publicNetworkAccess: "Disabled",
        networkRuleSet: { defaultAction: "Deny", bypass: "None" },
        tags: args.tags,
      },
      { parent: this, protect: true },
    );
    // A compromised writer cannot destroy the backups: deleted blobs and containers stay recoverable, and every
    // overwrite keeps the previous version, for softDeleteDays. No time-based immutability: Velero's garbage
    // collection and Kopia's maintenance delete expired blobs, which a locked policy would refuse.
    new storage.BlobServiceProperties(
      `${name}-blob-service`,
      {
        accountName: account.name,
        resourceGroupName: accountGroup,
        blobServicesName: "default",
        isVersioningEnabled: true,
        deleteRetentionPolicy: { enabled: true, days: b.softDeleteDays, allowPermanentDelete: false },
        containerDeleteRetentionPolicy: { enabled: true, days: b.softDeleteDays },
      },
      { parent: this },
    );
    new storage.ManagementPolicy(
      `${name}-versions`,
      {
        accountName: account.name,
        resourceGroupName: accountGroup,
        managementPolicyName: "default",
        policy: {
          rules: [
            {
              name: "expire-versions",
              enabled: true,
              type: "Lifecycle",
              definition: {
                filters: { blobTypes: ["blockBlob"] },
                actions: { version: { delete: { daysAfterCreationGreaterThan: b.softDeleteDays } } },
              },
            },
          ],
        },
      },
      { parent: this },
    );
    const container = new storage.BlobContainer(
      `${name}-container`,
      {
        accountName: account.name,
        resourceGroupName: accountGroup,
        containerName: BACKUP_CONTAINER,
        publicAccess: "None",
      },
      { parent: this },
    );
    const endpoint = (suffix: string, targetId: pulumi.Input<string>) =>
      privateEndpoint(
        `${name}-${suffix}-pe`,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          subnetId: args.privateEndpointSubnetId,
          targetId,
          groupId: "blob",
          privateDnsZoneId: args.blobPrivateDnsZoneId,
          tags: args.tags,
        },
        this,
      );
    const endpoints = [endpoint("account", account.id)];
    const restore = b.restoreFrom;
    const restoreAccountId = restore
      ? pulumi.interpolate`/subscriptions/${subscriptionId}/resourceGroups/${restore.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${restore.storageAccount}`
      : undefined;
    // dr's own endpoint to prod's account, in dr's VNet: nothing of it lives in the primary region.
    if (restoreAccountId) endpoints.push(endpoint("restore", restoreAccountId));
    const nodeGroupId = pulumi.interpolate`/subscriptions/${subscriptionId}/resourceGroups/${args.nodeResourceGroup}`;
    const identity = new WorkloadIdentity(
      `${name}-identity`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        namespace: NAMESPACES.velero,
        serviceAccount: VELERO_SERVICE_ACCOUNT,
        oidcIssuerUrl: args.oidcIssuerUrl,
        roles: [
          { scope: account.id, roleDefinitionId: ROLES.storageBlobDataContributor, name: "backup-blobs" },
          // Disk snapshots (volumes: snapshot, or an ad-hoc in-region backup) create and delete managed disks and
          // snapshots; Contributor is scoped to the node resource group only (no built-in role is narrower).
          { scope: nodeGroupId, roleDefinitionId: ROLES.contributor, name: "node-disks" },
          // Velero v1.18.1 restores file-system backups from a ReadOnly location once the Kopia repository exists
          // (pkg/repository/provider/unified_repo.go PrepareRepo), so reading is all dr needs.
          ...(restoreAccountId
            ? [
                {
                  scope: restoreAccountId,
                  roleDefinitionId: ROLES.storageBlobDataReader,
                  name: "restore-blobs",
                },
              ]
            : []),
        ],
        tags: args.tags,
      },
      { parent: this },
    );
    const cloud = pulumi.interpolate`AZURE_SUBSCRIPTION_ID=${subscriptionId}\nAZURE_RESOURCE_GROUP=${args.nodeResourceGroup}\nAZURE_CLOUD_NAME=AzurePublicCloud\n`;
    const release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        ...chartSource(CHARTS.velero),
        name: RELEASES.velero,
        namespace: NAMESPACES.velero,
        values: veleroValues(identity.clientId, cloud, b.volumes),
      },
      { parent: this, provider: args.provider, dependsOn: args.dependsOn },
    );
    const crOpts = { parent: this, provider: args.provider, dependsOn: [release, container, ...endpoints] };
    const cr = (id: string, kind: string, objName: string, spec: object) =>
      new k8s.apiextensions.CustomResource(
        `${name}-${id}`,
        { apiVersion: "velero.io/v1", kind, metadata: { name: objName, namespace: NAMESPACES.velero }, spec },
        crOpts,
      );
    cr("location", "BackupStorageLocation", "default", {
      provider: "azure",
      default: true,
      accessMode: "ReadWrite",
      objectStorage: { bucket: BACKUP_CONTAINER },
      config: blobLocationConfig(accountGroup, accountName, subscriptionId),
    });
    if (restore) {
      cr("restore-location", "BackupStorageLocation", RESTORE_LOCATION, {
        provider: "azure",
        accessMode: "ReadOnly",
        objectStorage: { bucket: restore.container },
        config: blobLocationConfig(restore.resourceGroup, restore.storageAccount, subscriptionId),
      });
    }
    // Same-region disk snapshots, for Schedules with volumes: snapshot and ad-hoc backups before in-place work; the
    // Schedules of prod and dr never use it (their volume data must leave the region).
    cr("snapshot-location", "VolumeSnapshotLocation", "default", {
      provider: "azure",
      config: {
        resourceGroup: args.nodeResourceGroup,
        subscriptionId,
        incremental: "true",
        apiTimeout: "2m",
      },
    });
    for (const schedule of scheduleSpecs(b))
      cr(`schedule-${schedule.name}`, "Schedule", schedule.name, schedule.spec);

    this.storageAccountName = account.name;
    this.storageLocation = storageLocation;
    this.registerOutputs({ storageAccountName: this.storageAccountName });
  }
}
