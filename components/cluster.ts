import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as monitor from "@pulumi/azure-native/monitor";
import type { ClusterSettings, NetworkSettings, PoolSettings } from "../settings";
import { ROLES, roleDefinitionId } from "./workloadIdentity";

/** AKS agent pool names (lowercase letters and digits, at most 12 for Linux). */
export const POOL_NAMES = {
  system: "system",
  application: "application",
  codeExecution: "codeexec",
  memory: "memory",
} as const;

/** Taint that keeps everything but critical add-ons off the system pool. */
export const SYSTEM_TAINT = "CriticalAddonsOnly=true:NoSchedule";
/** Taint and label of the isolated code-execution sandbox pool (the workloads tolerate and select them). */
export const CODE_EXECUTION_TAINT = "code-execution=true:NoSchedule";
export const WORKLOAD_LABEL = "workload";

/** Pulumi property paths kept out of the diff while the autoscaler owns node counts. */
export const CLUSTER_IGNORE_CHANGES = ["agentPoolProfiles[*].count"];
export const POOL_IGNORE_CHANGES = ["count"];

/** The shape shared by inline and separate pools. */
export interface PoolSpec {
  name: string;
  mode: "System" | "User";
  vmSize: string;
  enableAutoScaling: true;
  count: number;
  minCount: number;
  maxCount: number;
  maxPods: number;
  osDiskSizeGB: number;
  osDiskType: "Managed";
  osType: "Linux";
  type: "VirtualMachineScaleSets";
  availabilityZones?: string[];
  nodeTaints?: string[];
  nodeLabels: Record<string, string>;
  orchestratorVersion: string;
  upgradeSettings: { maxSurge: string };
}

/** A pool's declaration from its settings: autoscaled from min to max, starting at min. */
export function poolSpec(
  role: keyof typeof POOL_NAMES,
  pool: PoolSettings,
  cluster: Pick<ClusterSettings, "zones" | "kubernetesVersion">,
): PoolSpec {
  const taints: Partial<Record<keyof typeof POOL_NAMES, string[]>> = {
    system: [SYSTEM_TAINT],
    codeExecution: [CODE_EXECUTION_TAINT],
  };
  const labels: Record<keyof typeof POOL_NAMES, string> = {
    system: "system",
    application: "application",
    codeExecution: "code-execution",
    memory: "memory",
  };
  return {
    name: POOL_NAMES[role],
    mode: role === "system" ? "System" : "User",
    vmSize: pool.vmSize,
    enableAutoScaling: true,
    count: pool.min,
    minCount: pool.min,
    maxCount: pool.max,
    maxPods: pool.maxPods,
    osDiskSizeGB: pool.osDiskSizeGb,
    osDiskType: "Managed",
    osType: "Linux",
    type: "VirtualMachineScaleSets",
    availabilityZones: cluster.zones.length > 0 ? [...cluster.zones] : undefined,
    nodeTaints: taints[role],
    nodeLabels: { [WORKLOAD_LABEL]: labels[role] },
    orchestratorVersion: cluster.kubernetesVersion,
    upgradeSettings: { maxSurge: role === "system" ? "1" : "33%" },
  };
}

/** The AKS node resource group: named, so the Private Link Service's id is known before it exists. */
export function nodeResourceGroupName(prefix: string): string {
  return `rg-${prefix}-aks-nodes`;
}

export function clusterName(prefix: string): string {
  return `aks-${prefix}`;
}

/** The stream Container Insights' data collection rule sends to Log Analytics. */
export const CONTAINER_INSIGHTS_STREAM = "Microsoft-ContainerInsights-Group-Default";

/** Name the CLI gives the Container Insights rule ("MSCI-<region>-<cluster>"), at most 64 characters. */
export function containerInsightsRuleName(location: string, cluster: string): string {
  return `MSCI-${location}-${cluster}`.slice(0, 64);
}

/** The API server's authorized ranges: the operators' ranges plus the cluster's own egress address. */
export function authorizedRanges(operatorRanges: string[], egressIp: string): string[] {
  if (!egressIp) throw new Error("the nodes' egress address is unknown: it must join the authorized ranges");
  const own = `${egressIp}/32`;
  return operatorRanges.includes(own) ? [...operatorRanges] : [...operatorRanges, own];
}

export interface ClusterArgs {
  /** Name prefix, "<prefix>-<env>". */
  prefix: string;
  /** Resource group of the cluster. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  location: string;
  /** The stack's cluster settings. */
  settings: ClusterSettings;
  /** The stack's network settings (pod/service CIDRs, DNS service address). */
  network: NetworkSettings;
  /** Subnet of the nodes. */
  nodeSubnetId: pulumi.Input<string>;
  /** Subnet of the internal load balancer and the Private Link Service (the cloud provider writes to it). */
  ingressSubnetId: pulumi.Input<string>;
  /** Log Analytics workspace for Container Insights and Defender. */
  logAnalyticsWorkspaceId: pulumi.Input<string>;
  /** The nodes' egress address: nodes reach the public API server from it, so it joins the authorized ranges. */
  egressIp: pulumi.Input<string>;
  /** ARM id of that address, the outbound IP of the cluster's Standard load balancer (zone-redundant when zoned). */
  egressIpId: pulumi.Input<string>;
  /** Object id of the identity running `pulumi up` (getClientConfig objectId): granted RBAC Cluster Admin. */
  deployerObjectId: pulumi.Input<string>;
  /** Entra ID tenant of the cluster. */
  tenantId: pulumi.Input<string>;
  /** Tags of every resource. */
  tags: Record<string, string>;
}

/**
 * The AKS cluster: Entra ID with Azure RBAC and no local accounts, Azure CNI overlay with Cilium, zone-redundant
 * load balancer egress, OIDC issuer and workload identity, managed KEDA/VPA, planned maintenance, Container Insights.
 * The system pool is inline (AKS needs one at creation); user pools are separate AgentPool resources.
 */
export class Cluster extends pulumi.ComponentResource {
  public readonly cluster: containerservice.ManagedCluster;
  public readonly clusterName: pulumi.Output<string>;
  public readonly clusterId: pulumi.Output<string>;
  /** Issuer URL for workload identity federation (WorkloadIdentity's oidcIssuerUrl). */
  public readonly oidcIssuerUrl: pulumi.Output<string>;
  /** Object id of the kubelet identity (pulls images). */
  public readonly kubeletObjectId: pulumi.Output<string>;
  /** Client id of the kubelet identity (the nodes' user-assigned identity, reachable through IMDS). */
  public readonly kubeletClientId: pulumi.Output<string>;
  /** Resource group AKS puts nodes, load balancers and the ingress Private Link Service in. */
  public readonly nodeResourceGroup: pulumi.Output<string>;
  /** Principal of the control-plane identity. */
  public readonly controlPlanePrincipalId: pulumi.Output<string>;
  /** The operator's command for a kubelogin kubeconfig (never the admin one). */
  public readonly getCredentialsCommand: pulumi.Output<string>;
  /** Separate user pools by role. */
  public readonly pools: Record<string, containerservice.AgentPool>;
  /**
   * The Azure Kubernetes Service RBAC Cluster Admin grants (deployer and admin groups): the Kubernetes provider
   * depends on them, since with Azure RBAC and no local accounts nothing else authorizes a Kubernetes call.
   */
  public readonly adminGrants: authorization.RoleAssignment[];

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:Cluster", name, {}, opts);
    const { settings, resourceGroupName, location, tags } = args;

    // A user-assigned control-plane identity can be granted rights on the subnets before the cluster exists.
    const controlPlane = new managedidentity.UserAssignedIdentity(
      `${name}-control-plane`,
      { resourceGroupName, location, resourceName: `id-${args.prefix}-aks`, tags },
      { parent: this },
    );
    const subscriptionId = authorization.getClientConfigOutput({ parent: this }).subscriptionId;
    const networkContributor = subscriptionId.apply((sub) => roleDefinitionId(sub, ROLES.networkContributor));
    // The subnets, and the outbound address the cluster's load balancer takes (a bring-your-own outbound IP needs
    // the cluster identity's rights on it: aks/egress, "Provide your own outbound public IPs").
    const subnetGrants = [
      ["nodes", args.nodeSubnetId],
      ["ingress", args.ingressSubnetId],
      ["egress-ip", args.egressIpId],
    ].map(
      ([label, scope]) =>
        new authorization.RoleAssignment(
          `${name}-network-contributor-${label as string}`,
          {
            principalId: controlPlane.principalId,
            principalType: "ServicePrincipal",
            roleDefinitionId: networkContributor,
            scope,
          },
          { parent: this },
        ),
    );

    const system = poolSpec("system", settings.pools.system, settings);
    const api = settings.apiServer;
    this.cluster = new containerservice.ManagedCluster(
      `${name}-aks`,
      {
        resourceGroupName,
        location,
        resourceName: clusterName(args.prefix),
        dnsPrefix: args.prefix,
        nodeResourceGroup: nodeResourceGroupName(args.prefix),
        kubernetesVersion: settings.kubernetesVersion,
        sku: { name: "Base", tier: settings.tier },
        identity: { type: "UserAssigned", userAssignedIdentities: [controlPlane.id] },
        enableRBAC: true,
        disableLocalAccounts: true,
        aadProfile: {
          managed: true,
          enableAzureRBAC: true,
          adminGroupObjectIDs: settings.adminGroupObjectIds,
          tenantID: args.tenantId,
        },
        agentPoolProfiles: [{ ...system, vnetSubnetID: args.nodeSubnetId }],
        autoScalerProfile: {
          expander: "least-waste",
          balanceSimilarNodeGroups: "true",
          scanInterval: "10s",
          scaleDownDelayAfterAdd: "10m",
          scaleDownUnneededTime: "10m",
          scaleDownUtilizationThreshold: "0.5",
          maxGracefulTerminationSec: "600",
          skipNodesWithLocalStorage: "false",
          skipNodesWithSystemPods: "true",
        },
        networkProfile: {
          networkPlugin: "azure",
          networkPluginMode: "overlay",
          networkDataplane: "cilium",
          networkPolicy: "cilium",
          podCidr: args.network.podCidr,
          serviceCidr: args.network.serviceCidr,
          dnsServiceIP: args.network.dnsServiceIp,
          loadBalancerSku: "standard",
          // Egress through the Standard load balancer's outbound rule on the network's zone-redundant address; SNAT
          // ports are allocated by Azure from the backend pool's size (allocatedOutboundPorts 0).
          outboundType: "loadBalancer",
          loadBalancerProfile: {
            outboundIPs: { publicIPs: [{ id: args.egressIpId }] },
            idleTimeoutInMinutes: args.network.natIdleTimeoutMinutes,
          },
        },
        // Nodes and konnectivity reach the public API server from the egress address. AKS allows a Standard load
        // balancer's outbound IPs by itself (azure-aks-docs api-server-authorized-ip-ranges.md); the address is
        // listed explicitly all the same, so the allow-list stays right if the outbound type changes.
        apiServerAccessProfile: api.privateCluster
          ? { enablePrivateCluster: true }
          : {
              authorizedIPRanges:
                api.authorizedIpRanges.length === 0
                  ? []
                  : pulumi.output(args.egressIp).apply((ip) => authorizedRanges(api.authorizedIpRanges, ip)),
            },
        oidcIssuerProfile: { enabled: true },
        securityProfile: {
          workloadIdentity: { enabled: true },
          imageCleaner: { enabled: true, intervalHours: 48 },
          // Defender for Containers' sensor, reporting to the stack's workspace (mspnp/aks-baseline).
          defender: settings.defender
            ? {
                logAnalyticsWorkspaceResourceId: args.logAnalyticsWorkspaceId,
                securityMonitoring: { enabled: true },
              }
            : undefined,
        },
        addonProfiles: {
          azureKeyvaultSecretsProvider: {
            enabled: true,
            config: { enableSecretRotation: "true", rotationPollInterval: "2m" },
          },
          omsagent: {
            enabled: true,
            config: { logAnalyticsWorkspaceResourceID: args.logAnalyticsWorkspaceId, useAADAuth: "true" },
          },
          ...(settings.azurePolicy ? { azurepolicy: { enabled: true } } : {}),
        },
        workloadAutoScalerProfile: { keda: { enabled: true }, verticalPodAutoscaler: { enabled: true } },
        autoUpgradeProfile: {
          upgradeChannel: settings.upgradeChannel,
          nodeOSUpgradeChannel: settings.nodeOsUpgradeChannel,
        },
        tags,
      },
      { parent: this, dependsOn: subnetGrants, ignoreChanges: CLUSTER_IGNORE_CHANGES },
    );

    // With managed-identity auth the Container Insights agent ships only what a data collection rule
    // associated with the cluster names; the CLI creates them, declarations must (microsoft/Docker-Provider
    // scripts/onboarding/aks, hashicorp/terraform-provider-azurerm#21305).
    const dcr = new monitor.DataCollectionRule(
      `${name}-container-insights`,
      {
        resourceGroupName,
        location,
        dataCollectionRuleName: containerInsightsRuleName(location, clusterName(args.prefix)),
        kind: "Linux",
        dataSources: {
          extensions: [
            {
              name: "ContainerInsightsExtension",
              extensionName: "ContainerInsights",
              streams: [CONTAINER_INSIGHTS_STREAM],
              extensionSettings: {
                dataCollectionSettings: {
                  interval: "1m",
                  namespaceFilteringMode: "Off",
                  enableContainerLogV2: true,
                },
              },
            },
          ],
        },
        destinations: {
          logAnalytics: [{ name: "ciworkspace", workspaceResourceId: args.logAnalyticsWorkspaceId }],
        },
        dataFlows: [{ streams: [CONTAINER_INSIGHTS_STREAM], destinations: ["ciworkspace"] }],
        tags,
      },
      { parent: this },
    );
    new monitor.DataCollectionRuleAssociation(
      `${name}-container-insights-association`,
      {
        associationName: "ContainerInsightsExtension",
        resourceUri: this.cluster.id,
        dataCollectionRuleId: dcr.id,
        description: "Container Insights data of the cluster to its Log Analytics workspace.",
      },
      { parent: this },
    );

    // Kubernetes access under Azure RBAC comes only from the AKS RBAC roles (learn.microsoft.com/azure/aks/manage-azure-rbac);
    // Owner and Contributor hold no Kubernetes data actions. New assignments can take up to 5 minutes to apply.
    const clusterAdmin = subscriptionId.apply((sub) => roleDefinitionId(sub, ROLES.aksRbacClusterAdmin));
    this.adminGrants = [
      new authorization.RoleAssignment(
        `${name}-rbac-admin-deployer`,
        { principalId: args.deployerObjectId, roleDefinitionId: clusterAdmin, scope: this.cluster.id },
        { parent: this },
      ),
      ...settings.adminGroupObjectIds.map(
        (group) =>
          new authorization.RoleAssignment(
            `${name}-rbac-admin-${group}`,
            {
              principalId: group,
              principalType: "Group",
              roleDefinitionId: clusterAdmin,
              scope: this.cluster.id,
            },
            { parent: this },
          ),
      ),
    ];

    const window = settings.maintenanceWindow;
    for (const configName of ["aksManagedAutoUpgradeSchedule", "aksManagedNodeOSUpgradeSchedule"]) {
      new containerservice.MaintenanceConfiguration(
        `${name}-${configName}`,
        {
          resourceGroupName,
          resourceName: this.cluster.name,
          configName,
          maintenanceWindow: {
            schedule: { weekly: { dayOfWeek: window.dayOfWeek, intervalWeeks: 1 } },
            durationHours: window.durationHours,
            startTime: window.startTime,
            utcOffset: window.utcOffset,
          },
        },
        { parent: this },
      );
    }

    this.pools = {};
    const userPools: [keyof typeof POOL_NAMES, PoolSettings | undefined][] = [
      ["application", settings.pools.application],
      ["codeExecution", settings.pools.codeExecution],
      ["memory", settings.pools.memory],
    ];
    for (const [role, pool] of userPools) {
      if (!pool) continue;
      const spec = poolSpec(role, pool, settings);
      const { name: agentPoolName, ...rest } = spec;
      this.pools[role] = new containerservice.AgentPool(
        `${name}-pool-${role}`,
        {
          resourceGroupName,
          resourceName: this.cluster.name,
          agentPoolName,
          ...rest,
          vnetSubnetID: args.nodeSubnetId,
          tags,
        },
        { parent: this, ignoreChanges: POOL_IGNORE_CHANGES },
      );
    }

    this.clusterName = this.cluster.name;
    this.clusterId = this.cluster.id;
    this.oidcIssuerUrl = this.cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? "");
    this.kubeletObjectId = this.cluster.identityProfile.apply((p) => p?.kubeletidentity?.objectId ?? "");
    this.kubeletClientId = this.cluster.identityProfile.apply((p) => p?.kubeletidentity?.clientId ?? "");
    this.nodeResourceGroup = this.cluster.nodeResourceGroup.apply(
      (g) => g ?? nodeResourceGroupName(args.prefix),
    );
    this.controlPlanePrincipalId = controlPlane.principalId;
    this.getCredentialsCommand = pulumi.interpolate`az aks get-credentials --resource-group ${resourceGroupName} --name ${this.cluster.name} --format azure && kubelogin convert-kubeconfig -l ${settings.kubeloginMode}`;
    this.registerOutputs({
      getCredentialsCommand: this.getCredentialsCommand,
      clusterName: this.clusterName,
      clusterId: this.clusterId,
      oidcIssuerUrl: this.oidcIssuerUrl,
      kubeletObjectId: this.kubeletObjectId,
      kubeletClientId: this.kubeletClientId,
      nodeResourceGroup: this.nodeResourceGroup,
      controlPlanePrincipalId: this.controlPlanePrincipalId,
    });
  }
}
