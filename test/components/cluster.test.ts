import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { Cluster, CODE_EXECUTION_TAINT, SYSTEM_TAINT } from "../../components/cluster";
import { CODE_EXECUTION_POOL } from "../../lib/names";
import { PROJECT } from "../../settings";
import { readStackConfig } from "../../tools/harness";
import { mocks } from "../../tools/mocks";
import { ofType, rendered, renderWith } from "../support/estate";

const CLUSTER = "azure-native:containerservice:ManagedCluster";
const POOL = "azure-native:containerservice:AgentPool";

async function clusterOf(stack: "dev" | "staging" | "prod" | "dr") {
  const run = await rendered(stack);
  const [cluster] = ofType(run, CLUSTER);
  return {
    run,
    cluster: cluster.inputs as Record<string, any>,
    pools: ofType(run, POOL).map((p) => p.inputs as Record<string, any>),
  };
}

describe("cluster", () => {
  it("prod: the inline system pool spans zones 1-3 and carries the CriticalAddonsOnly taint", async () => {
    const { cluster } = await clusterOf("prod");
    const [system] = cluster.agentPoolProfiles;
    assert.equal(system.mode, "System");
    assert.deepEqual(system.availabilityZones, ["1", "2", "3"]);
    assert.deepEqual(system.nodeTaints, ["CriticalAddonsOnly=true:NoSchedule"]);
    assert.equal(cluster.agentPoolProfiles.length, 1, "user pools are separate AgentPool resources");
  });

  it("prod: application 5-20 and code-execution 3-15 pools autoscale in zones 1-3; code-execution is tainted and labelled", async () => {
    const { pools } = await clusterOf("prod");
    const app = pools.find((p) => p.agentPoolName === "application")!;
    const code = pools.find((p) => p.agentPoolName === "codeexec")!;
    assert.deepEqual([app.minCount, app.maxCount, app.vmSize], [5, 20, "Standard_D8s_v5"]);
    assert.deepEqual([code.minCount, code.maxCount], [3, 15]);
    for (const p of [app, code]) {
      assert.equal(p.mode, "User");
      assert.equal(p.enableAutoScaling, true);
      assert.deepEqual(p.availabilityZones, ["1", "2", "3"]);
    }
    assert.deepEqual(code.nodeTaints, ["code-execution=true:NoSchedule"]);
    assert.deepEqual(code.nodeLabels, { workload: "code-execution" });
    // The workloads schedule on the pool through the shared names: they must agree with the pool.
    const t = CODE_EXECUTION_POOL.taint;
    assert.equal(`${t.key}=${t.value}:${t.effect}`, CODE_EXECUTION_TAINT);
    assert.deepEqual(code.nodeLabels, CODE_EXECUTION_POOL.label);
    assert.equal(app.nodeTaints, undefined);
  });

  it("dev: no pool has zones", async () => {
    const { cluster, pools } = await clusterOf("dev");
    for (const p of [...cluster.agentPoolProfiles, ...pools])
      assert.equal(p.availabilityZones, undefined, p.name ?? p.agentPoolName);
  });

  it("an optional memory pool becomes a third user pool", async () => {
    const run = await renderWith("staging", (c) => {
      c["aiwp-estate:cluster"].pools.memory = {
        vmSize: "Standard_E8s_v5",
        min: 1,
        max: 4,
        maxPods: 110,
        osDiskSizeGb: 128,
      };
    });
    const memory = ofType(run, POOL).find((p) => p.inputs.agentPoolName === "memory");
    assert.ok(memory);
    assert.deepEqual(
      [memory.inputs.vmSize, memory.inputs.minCount, memory.inputs.maxCount],
      ["Standard_E8s_v5", 1, 4],
    );
  });

  for (const stack of ["dev", "prod"] as const) {
    it(`${stack}: local accounts are disabled and Entra ID with Azure RBAC is on`, async () => {
      const { cluster } = await clusterOf(stack);
      assert.equal(cluster.disableLocalAccounts, true);
      assert.equal(cluster.enableRBAC, true);
      assert.equal(cluster.aadProfile.managed, true);
      assert.equal(cluster.aadProfile.enableAzureRBAC, true);
    });
  }

  it("prod: Azure CNI overlay with Cilium, load balancer egress on the zone-redundant address, CIDRs from settings", async () => {
    const { run, cluster } = await clusterOf("prod");
    const net = run.config.settings.network;
    const egress = ofType(run, "azure-native:network:PublicIPAddress").find(
      (p) => p.inputs.publicIpAddressName === "pip-aiwp-prod-egress",
    )!;
    assert.match(
      String(cluster.networkProfile.loadBalancerProfile.outboundIPs.publicIPs[0].id),
      /pip-aiwp-prod-egress$/,
    );
    assert.deepEqual(egress.inputs.zones, ["1", "2", "3"]);
    const { loadBalancerProfile, ...profile } = cluster.networkProfile;
    assert.deepEqual(profile, {
      networkPlugin: "azure",
      networkPluginMode: "overlay",
      networkDataplane: "cilium",
      networkPolicy: "cilium",
      podCidr: net.podCidr,
      serviceCidr: net.serviceCidr,
      dnsServiceIP: net.dnsServiceIp,
      loadBalancerSku: "standard",
      outboundType: "loadBalancer",
    });
    // One outbound address, the stack's own; SNAT ports left to Azure's allocation by pool size.
    assert.equal(loadBalancerProfile.outboundIPs.publicIPs.length, 1);
    assert.equal(loadBalancerProfile.idleTimeoutInMinutes, net.natIdleTimeoutMinutes);
    assert.equal(loadBalancerProfile.managedOutboundIPs, undefined);
  });

  it("prod: workload identity, OIDC issuer, managed KEDA/VPA, secrets provider rotation and Container Insights", async () => {
    const { cluster } = await clusterOf("prod");
    assert.equal(cluster.oidcIssuerProfile.enabled, true);
    assert.equal(cluster.securityProfile.workloadIdentity.enabled, true);
    assert.deepEqual(cluster.workloadAutoScalerProfile, {
      keda: { enabled: true },
      verticalPodAutoscaler: { enabled: true },
    });
    assert.equal(cluster.addonProfiles.azureKeyvaultSecretsProvider.config.enableSecretRotation, "true");
    assert.match(
      cluster.addonProfiles.omsagent.config.logAnalyticsWorkspaceResourceID,
      /Microsoft.OperationalInsights\/workspaces\//,
    );
  });

  it("SLA tier outside dev, pinned version, upgrade channels and both planned maintenance windows", async () => {
    const prod = await clusterOf("prod");
    const dev = await clusterOf("dev");
    assert.equal(prod.cluster.sku.tier, "Standard");
    assert.equal(dev.cluster.sku.tier, "Free");
    assert.equal(prod.cluster.kubernetesVersion, prod.run.config.settings.cluster.kubernetesVersion);
    assert.deepEqual(prod.cluster.autoUpgradeProfile, {
      upgradeChannel: "patch",
      nodeOSUpgradeChannel: "NodeImage",
    });
    const windows = ofType(prod.run, "azure-native:containerservice:MaintenanceConfiguration").map(
      (m) => m.inputs as Record<string, any>,
    );
    assert.deepEqual(windows.map((w) => w.configName).sort(), [
      "aksManagedAutoUpgradeSchedule",
      "aksManagedNodeOSUpgradeSchedule",
    ]);
    for (const w of windows) {
      assert.deepEqual(w.maintenanceWindow.schedule, { weekly: { dayOfWeek: "Sunday", intervalWeeks: 1 } });
      assert.ok(w.maintenanceWindow.durationHours >= 4);
    }
  });

  it("prod: the API server accepts the authorized ranges and the cluster's own egress address; a private cluster drops them", async () => {
    const { cluster, run } = await clusterOf("prod");
    // The nodes register from the egress address; it is listed explicitly beside the operators' ranges.
    assert.deepEqual(cluster.apiServerAccessProfile, {
      authorizedIPRanges: ["203.0.113.0/24", `${run.outputs.egressIp}/32`],
    });
    const privateRun = await renderWith("prod", (c) => {
      c["aiwp-estate:cluster"].apiServer = { privateCluster: true, authorizedIpRanges: [] };
    });
    assert.deepEqual(ofType(privateRun, CLUSTER)[0].inputs.apiServerAccessProfile, {
      enablePrivateCluster: true,
    });
  });

  it("the control-plane identity is Network Contributor on the node and ingress subnets and the egress address before the cluster exists", async () => {
    const { run } = await clusterOf("prod");
    const grants = ofType(run, "azure-native:authorization:RoleAssignment").filter((r) =>
      String(r.inputs.roleDefinitionId).endsWith("4d97b98b-1d4f-4787-a291-c67834d212e7"),
    );
    assert.deepEqual(grants.map((g) => String(g.inputs.scope).split("/").pop()).sort(), [
      "pip-aiwp-prod-egress",
      "snet-aksNodes",
      "snet-ingress",
    ]);
    const [cluster] = ofType(run, CLUSTER);
    assert.equal((cluster.inputs.identity as Record<string, any>).type, "UserAssigned");
  });

  it("keeps node counts out of the diff while autoscaling (ignoreChanges on the cluster's and every pool's count)", async () => {
    const { settings } = readStackConfig("prod");
    const seen: { type: string; ignoreChanges?: string[]; props: Record<string, any> }[] = [];
    await pulumi.runtime.setMocks(mocks, PROJECT, "prod", false);
    await pulumi.runtime.runInPulumiStack(async () => {
      new Cluster(
        "probe",
        {
          prefix: "aiwp-prod",
          resourceGroupName: "rg-probe",
          location: "eastus",
          settings: settings.cluster,
          network: settings.network,
          nodeSubnetId: "/subnets/nodes",
          ingressSubnetId: "/subnets/ingress",
          logAnalyticsWorkspaceId: "/workspaces/probe",
          egressIp: "20.0.0.10",
          egressIpId: "/publicIPAddresses/probe-egress",
          deployerObjectId: "00000000-0000-4000-8000-00000000d001",
          tenantId: "tenant",
          tags: {},
        },
        // Component transformations see each child's resource options as declared.
        {
          transformations: [
            (a) =>
              void seen.push({
                type: a.type,
                ignoreChanges: a.opts.ignoreChanges,
                props: a.props,
              }) as undefined,
          ],
        },
      );
      return {};
    });
    const cluster = seen.find((s) => s.type === CLUSTER)!;
    assert.deepEqual(cluster.ignoreChanges, ["agentPoolProfiles[*].count"]);
    const pools = seen.filter((s) => s.type === POOL);
    assert.equal(pools.length, 2);
    for (const p of pools) {
      assert.deepEqual(p.ignoreChanges, ["count"]);
      assert.equal(p.props.enableAutoScaling, true);
    }
  });

  it("dev: an unrestricted API server stays unrestricted (the egress address alone would lock operators out)", async () => {
    const { cluster } = await clusterOf("dev");
    assert.deepEqual(cluster.apiServerAccessProfile, { authorizedIPRanges: [] });
  });

  it("prod: Container Insights has its data collection rule (to the workspace) and the rule's association with the cluster", async () => {
    const { run, cluster } = await clusterOf("prod");
    const [rule] = ofType(run, "azure-native:monitor:DataCollectionRule");
    assert.equal(rule.inputs.dataCollectionRuleName, `MSCI-eastus-${cluster.resourceName}`);
    const extension = (rule.inputs.dataSources as any).extensions[0];
    assert.equal(extension.extensionName, "ContainerInsights");
    assert.deepEqual(extension.streams, ["Microsoft-ContainerInsights-Group-Default"]);
    const [destination] = (rule.inputs.destinations as any).logAnalytics;
    assert.equal(
      destination.workspaceResourceId,
      cluster.addonProfiles.omsagent.config.logAnalyticsWorkspaceResourceID,
    );
    assert.deepEqual(rule.inputs.dataFlows, [
      { streams: ["Microsoft-ContainerInsights-Group-Default"], destinations: [destination.name] },
    ]);
    const [association] = ofType(run, "azure-native:monitor:DataCollectionRuleAssociation");
    assert.match(
      String(association.inputs.resourceUri),
      new RegExp(`/managedClusters/${cluster.resourceName}$`),
    );
    assert.match(String(association.inputs.dataCollectionRuleId), /dataCollectionRules\/MSCI-/);
  });

  it("prod: Defender for Containers reports to the workspace and the Azure Policy add-on is on; dev has neither", async () => {
    const { cluster } = await clusterOf("prod");
    assert.equal(cluster.securityProfile.defender.securityMonitoring.enabled, true);
    assert.match(cluster.securityProfile.defender.logAnalyticsWorkspaceResourceId, /workspaces\//);
    assert.deepEqual(cluster.addonProfiles.azurepolicy, { enabled: true });
    const dev = await clusterOf("dev");
    assert.equal(dev.cluster.securityProfile.defender, undefined);
    assert.equal(dev.cluster.addonProfiles.azurepolicy, undefined);
  });

  it("exports a kubelogin credentials command, never --admin", async () => {
    const command = String((await clusterOf("prod")).run.outputs.getCredentialsCommand);
    assert.match(
      command,
      /^az aks get-credentials --resource-group rg-aiwp-prod-platform --name aks-aiwp-prod --format azure/,
    );
    assert.match(command, /kubelogin convert-kubeconfig -l azurecli/);
    assert.doesNotMatch(command, /--admin/);
    assert.equal(SYSTEM_TAINT, "CriticalAddonsOnly=true:NoSchedule");
  });
});
