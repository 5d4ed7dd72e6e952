import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as authorization from "@pulumi/azure-native/authorization";
import * as storage from "@pulumi/azure-native/storage";
import type { BackupSettings } from "../settings";
import { MONITORING_SELECTOR, NAMESPACES, RELEASES } from "../lib/names";
import { CHARTS, IMAGES, SYSTEM_POOL, chartSource } from "./charts";
import { ROLES, WorkloadIdentity } from "./workloadIdentity";

/** Velero's server service account (the chart names it after the release); the identity federates it. */
export const VELERO_SERVICE_ACCOUNT = RELEASES.velero;

/** Blob container of the backups. */
export const BACKUP_CONTAINER = "velero";

/** Storage account of a stack's backups: "<prefix><env>backup" (dr's restoreFrom names prod's this way). */
export function backupAccountName(prefix: string): string {
  return `${prefix.replace(/[^a-z0-9]/g, "")}backup`.slice(0, 24);
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

/** The Schedules that meet the RPO: hourly for the data-bearing namespaces, daily for everything. */
export function scheduleSpecs(b: BackupSettings): { name: string; spec: Record<string, unknown> }[] {
  const template = {
    storageLocation: "default",
    volumeSnapshotLocations: ["default"],
    snapshotVolumes: true,
  };
  return [
    {
      name: "hourly",
      spec: {
        schedule: b.hourlySchedule,
        template: { ...template, includedNamespaces: b.hourlyNamespaces, ttl: b.hourlyTtl },
      },
    },
    {
      name: "daily-full",
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
): Record<string, unknown> {
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
    // Azure disk snapshots back up the volumes, so no file-system node agent (and no privileged namespace).
    deployNodeAgent: false,
    configuration: { backupStorageLocation: [], volumeSnapshotLocation: [] },
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
  /** Resource group of the backup storage account and the identity. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  location: pulumi.Input<string>;
  /** The cluster's node resource group, where the managed disks and their snapshots live. */
  nodeResourceGroup: pulumi.Input<string>;
  /** The cluster's OIDC issuer URL. */
  oidcIssuerUrl: pulumi.Input<string>;
  /** Tags of the Azure resources. */
  tags: Record<string, string>;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
  /** Resources the release waits for (the namespaces). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** Velero with the Azure plugin on a dedicated GRS account, its locations and the RPO-meeting Schedules. */
export class Backup extends pulumi.ComponentResource {
  /** Name of the backup storage account. */
  public readonly storageAccountName: pulumi.Output<string>;

  constructor(name: string, args: BackupArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:platform:Backup", name, {}, opts);
    const subscriptionId = authorization.getClientConfigOutput({ parent: this }).subscriptionId;
    const accountName = backupAccountName(args.prefix);
    const account = new storage.StorageAccount(
      `${name}-account`,
      {
        accountName,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: "StorageV2",
        sku: { name: args.backup.storageReplication },
        allowBlobPublicAccess: false,
        allowSharedKeyAccess: false,
        minimumTlsVersion: "TLS1_2",
        enableHttpsTrafficOnly: true,
        tags: args.tags,
      },
      { parent: this, protect: true },
    );
    const container = new storage.BlobContainer(
      `${name}-container`,
      {
        accountName: account.name,
        resourceGroupName: args.resourceGroupName,
        containerName: BACKUP_CONTAINER,
        publicAccess: "None",
      },
      { parent: this },
    );
    const nodeGroupId = pulumi.interpolate`/subscriptions/${subscriptionId}/resourceGroups/${args.nodeResourceGroup}`;
    const restore = args.backup.restoreFrom;
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
          // Snapshots and restores create and delete managed disks and snapshots; Contributor is scoped to the node
          // resource group only (no built-in role covers disk create-from-snapshot more narrowly).
          { scope: nodeGroupId, roleDefinitionId: ROLES.contributor, name: "node-disks" },
          ...(restore
            ? [
                {
                  scope: pulumi.interpolate`/subscriptions/${subscriptionId}/resourceGroups/${restore.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${restore.storageAccount}`,
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
        values: veleroValues(identity.clientId, cloud),
      },
      { parent: this, provider: args.provider, dependsOn: args.dependsOn },
    );
    const crOpts = { parent: this, provider: args.provider, dependsOn: [release, container] };
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
      config: blobLocationConfig(args.resourceGroupName, accountName, subscriptionId),
    });
    if (restore) {
      cr("restore-location", "BackupStorageLocation", "prod", {
        provider: "azure",
        accessMode: "ReadOnly",
        objectStorage: { bucket: restore.container },
        config: blobLocationConfig(restore.resourceGroup, restore.storageAccount, subscriptionId),
      });
    }
    cr("snapshot-location", "VolumeSnapshotLocation", "default", {
      provider: "azure",
      config: {
        resourceGroup: args.nodeResourceGroup,
        subscriptionId,
        incremental: "true",
        apiTimeout: "2m",
      },
    });
    for (const schedule of scheduleSpecs(args.backup))
      cr(`schedule-${schedule.name}`, "Schedule", schedule.name, schedule.spec);

    this.storageAccountName = account.name;
    this.registerOutputs({ storageAccountName: this.storageAccountName });
  }
}
