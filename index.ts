/**
 * The estate of one environment, composed like the architecture diagram:
 * settings -> Azure foundation -> cluster platform -> workloads -> alerting -> edge.
 * No resource is declared here; each layer is a component under components/.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import { Access } from "./components/access";
import { Backup } from "./components/backup";
import { CertManager, dnsZoneOf } from "./components/certManager";
import { Cluster } from "./components/cluster";
import { Data } from "./components/data";
import { DataEndpoints } from "./components/dataEndpoints";
import { ReplicationPeering } from "./components/replicationPeering";
import { Delivery } from "./components/delivery";
import { HoldGate, holdsInUse } from "./components/holdGate";
import { FrontDoor, frontDoorLocation } from "./components/frontDoor";
import { KeyVault } from "./components/keyVault";
import { KubernetesProvider } from "./components/kubernetesProvider";
import { LogAnalytics } from "./components/logAnalytics";
import { Mesh } from "./components/mesh";
import { Namespaces } from "./components/namespaces";
import { Alerting } from "./components/observability/alerting";
import { PrometheusStack } from "./components/observability/prometheusStack";
import { PriorityClasses } from "./components/priorityClasses";
import { Tracing } from "./components/observability/tracing";
import { RabbitMQ } from "./components/rabbitmq";
import { Network } from "./components/network";
import { Registry } from "./components/registry";
import { ResourceGroups } from "./components/resourceGroups";
import { Workloads } from "./components/workloads";
import {
  appNamespace,
  ingressLoadBalancerIp,
  ingressPrivateLinkServiceName,
  stackPrefix,
  standardTags,
} from "./lib/names";
import { effectiveCluster } from "./lib/drActive";
import { clusterWiring } from "./lib/wiring/cluster";
import { loadStackSettings } from "./settings";

export = async () => {
  const { settings, secrets } = loadStackSettings();
  // Who may talk to whom in the cluster: checked (unknown workloads or ports, contradictions) before anything is declared.
  const wiring = clusterWiring(settings);
  const prefix = stackPrefix(settings);
  const tags = standardTags(settings);

  // Azure foundation
  const groups = new ResourceGroups(prefix, {
    prefix,
    location: settings.location,
    edgeLocation: frontDoorLocation(settings),
    tags,
  });
  const client = authorization.getClientConfigOutput();
  const location = settings.location;
  const network = new Network(`${prefix}-network`, {
    prefix,
    resourceGroupName: groups.platformName,
    location,
    settings: settings.network,
    zones: settings.cluster.zones,
    tags,
  });
  const logs = new LogAnalytics(`${prefix}-logs`, {
    prefix,
    resourceGroupName: groups.platformName,
    location,
    retentionDays: settings.cluster.logRetentionDays,
    tags,
  });
  const cluster = new Cluster(`${prefix}-cluster`, {
    prefix,
    resourceGroupName: groups.platformName,
    location,
    // dr at prod's pool minimums while cluster.drActive (docs/disaster-recovery.md).
    settings: effectiveCluster(settings.cluster),
    network: settings.network,
    nodeSubnetId: network.subnetIds.aksNodes,
    ingressSubnetId: network.subnetIds.ingress,
    logAnalyticsWorkspaceId: logs.workspaceId,
    egressIp: network.egressIp,
    egressIpId: network.egressIpId,
    deployerObjectId: client.objectId,
    tenantId: client.tenantId,
    tags,
  });
  const registry = new Registry(`${prefix}-registry`, {
    prefix,
    environment: settings.environment,
    resourceGroupName: groups.platformName,
    location,
    drLocation: settings.drLocation,
    pullFrom: settings.registry.pullFrom,
    zoned: settings.cluster.zones.length > 0,
    kubeletObjectId: cluster.kubeletObjectId,
    privateEndpointSubnetId: network.subnetIds.privateEndpoints,
    privateDnsZoneId: network.privateDnsZoneIds.acr,
    tags,
  });
  const keyVault = new KeyVault(`${prefix}-keyvault`, {
    prefix,
    resourceGroupName: groups.platformName,
    location,
    tenantId: client.tenantId,
    privateEndpointSubnetId: network.subnetIds.privateEndpoints,
    privateDnsZoneId: network.privateDnsZoneIds.keyVault,
    tags,
  });
  if (!secrets.postgresAdminPassword) throw new Error("postgresAdminPassword: secret is required");
  // dr's PostgreSQL replicates prod's across regions over global VNet peering.
  const replicaOf = settings.data.postgres.replicaOf;
  const peering = replicaOf
    ? new ReplicationPeering(`${prefix}-replication-peering`, {
        prefix,
        subscriptionId: client.subscriptionId,
        local: { resourceGroup: groups.platformName, name: network.vnet.name },
        remote: replicaOf.virtualNetwork,
      })
    : undefined;
  const data = new Data(
    `${prefix}-data`,
    {
      prefix,
      environment: settings.environment,
      resourceGroupName: groups.dataName,
      location,
      zones: settings.cluster.zones,
      settings: settings.data,
      postgresAdminPassword: secrets.postgresAdminPassword,
      tenantId: client.tenantId,
      postgresSubnetId: network.subnetIds.postgres,
      privateEndpointSubnetId: network.subnetIds.privateEndpoints,
      privateDnsZoneIds: network.privateDnsZoneIds,
      tags,
      subscriptionId: client.subscriptionId,
      drActive: settings.cluster.drActive,
    },
    // PostgreSQL resolves its private zone through the VNet link: the whole network comes first (and a replica
    // its peering to the source's VNet).
    { dependsOn: [network, ...(peering ? [peering] : [])] },
  );
  // Every Kubernetes object, Helm release and component of the platform, workloads and alerting layers takes
  // `kubernetes.provider` (pass `{ provider: kubernetes.provider }` or `providers: [kubernetes.provider]`).
  // Workload identities: `new WorkloadIdentity(name, { ..., oidcIssuerUrl: cluster.oidcIssuerUrl })`.
  const kubernetes = new KubernetesProvider(`${prefix}-kubernetes`, {
    resourceGroupName: groups.platformName,
    clusterName: cluster.clusterName,
    kubeloginMode: settings.cluster.kubeloginMode,
    renderYamlToDirectory: settings.cluster.renderYamlToDirectory,
    authorizedBy: cluster.adminGrants,
  });

  // Cluster platform: namespaces, mesh, observability, delivery, certificates, backups, the workflow queue.
  const k8sProvider = kubernetes.provider;
  const appNs = appNamespace(settings);
  const namespaces = new Namespaces(`${prefix}-namespaces`, {
    appNamespace: appNs,
    wiring,
    provider: k8sProvider,
  });
  // Pods name their PriorityClass; admission rejects a pod whose class does not exist yet.
  const priorityClasses = new PriorityClasses(`${prefix}-priority`, { provider: k8sProvider });
  const nsReady = [...Object.values(namespaces.namespaces), priorityClasses];
  if (!secrets.grafanaAdminPassword) throw new Error("grafanaAdminPassword: secret is required");
  const prometheusStack = new PrometheusStack(`${prefix}-prometheus`, {
    observability: settings.observability,
    grafanaAdminPassword: secrets.grafanaAdminPassword,
    provider: k8sProvider,
    dependsOn: nsReady,
  });
  // The mesh's tracing provider (mesh.ts TRACING_COLLECTOR) exports through this collector to Application Insights.
  new Tracing(`${prefix}-tracing`, {
    prefix,
    resourceGroupName: groups.platformName,
    location,
    workspaceId: logs.workspaceId,
    replicas: settings.environment === "prod" || settings.environment === "dr" ? 2 : 1,
    ingestionIdentity: { clientId: cluster.kubeletClientId, objectId: cluster.kubeletObjectId },
    tags,
    provider: k8sProvider,
    dependsOn: nsReady,
  });
  const certManager = new CertManager(`${prefix}-cert-manager`, {
    environment: settings.environment,
    customDomain: settings.edge.customDomain,
    dnsZoneName: dnsZoneOf(settings.edge.customDomain, settings.edge.dnsZoneName),
    dnsZoneResourceGroup: settings.edge.dnsZoneResourceGroup,
    identityResourceGroupName: groups.platformName,
    location,
    tags,
    oidcIssuerUrl: cluster.oidcIssuerUrl,
    provider: k8sProvider,
    dependsOn: nsReady,
  });
  const mesh = new Mesh(`${prefix}-mesh`, {
    prefix,
    loadBalancerIp: ingressLoadBalancerIp(settings),
    mesh: settings.mesh,
    customDomain: settings.edge.customDomain,
    healthProbePath: settings.edge.healthProbePath,
    tlsSecretName: certManager.tlsSecretName,
    wiring,
    frontDoorSubscriptionId: client.subscriptionId,
    provider: k8sProvider,
    dependsOn: nsReady,
  });
  const holdGate = holdsInUse(settings.services, settings.delivery);
  // The load tester's OAuth client: its id from settings, its secret from the Pulumi secret loadTestClientSecret.
  const loadTestSecret = secrets.loadTestClientSecret;
  const tokenClientId = settings.delivery.loadTest.tokenClientId;
  const delivery = new Delivery(`${prefix}-delivery`, {
    flaggerReplicas: settings.environment === "prod" || settings.environment === "dr" ? 2 : 1,
    holdGate,
    loadTestClient:
      tokenClientId && loadTestSecret
        ? {
            // Entra ID's v2.0 token endpoint next to the issuer the gateway trusts; the API's default scope.
            tokenUrl: settings.mesh.jwt.issuer.replace(/\/v2\.0\/?$/, "/oauth2/v2.0/token"),
            scope: `${settings.mesh.jwt.audiences[0]}/.default`,
            clientId: tokenClientId,
            clientSecret: loadTestSecret,
          }
        : undefined,
    provider: k8sProvider,
    dependsOn: [mesh.istiod, prometheusStack.release],
  });
  // Per-step holds: the gate's state and the load tester's permission to read the Canaries.
  if (holdGate) {
    new HoldGate(`${prefix}-hold-gate`, { namespace: appNs, provider: k8sProvider }, { dependsOn: nsReady });
  }
  const backup = new Backup(`${prefix}-backup`, {
    prefix,
    backup: settings.backup,
    resourceGroupName: groups.platformName,
    location,
    nodeResourceGroup: cluster.nodeResourceGroup,
    oidcIssuerUrl: cluster.oidcIssuerUrl,
    privateEndpointSubnetId: network.subnetIds.privateEndpoints,
    blobPrivateDnsZoneId: network.privateDnsZoneIds.blob,
    tags,
    provider: k8sProvider,
    // Velero's chart installs a ServiceMonitor, whose CRD the Prometheus stack release installs.
    dependsOn: [...nsReady, prometheusStack.release],
  });
  if (!secrets.rabbitmqPassword) throw new Error("rabbitmqPassword: secret is required");
  new RabbitMQ(`${prefix}-rabbitmq`, {
    rabbitmq: settings.data.rabbitmq,
    zoned: settings.cluster.zones.length > 0,
    appPassword: secrets.rabbitmqPassword,
    appNamespace: appNs,
    queues: Object.values(settings.services).flatMap((s) => (s.queue ? [s.queue.name] : [])),
    provider: k8sProvider,
    dependsOn: [...nsReady, mesh.istiod, prometheusStack.release],
  });

  // The services read the stack's own data endpoints from a ConfigMap (dr's point at dr's data tier).
  const dataEndpoints = new DataEndpoints(`${prefix}-data-endpoints`, {
    namespace: appNs,
    postgresHost: data.postgresHost,
    redisHost: data.redisHost,
    redisPort: data.redisPort,
    storageAccountName: data.storageAccountName,
    searchEndpoint: data.searchEndpoint,
    keyVaultUri: keyVault.vaultUri,
    provider: k8sProvider,
    dependsOn: nsReady,
  });

  // Workloads: the service catalogue with its progressive delivery.
  const workloads = new Workloads(
    `${prefix}-workloads`,
    {
      services: settings.services,
      delivery: settings.delivery,
      namespace: appNamespace(settings),
      customDomain: settings.edge.customDomain,
      zoned: settings.cluster.zones.length > 0,
      registryLoginServer: registry.loginServer,
      identity: {
        resourceGroupName: groups.platformName,
        location,
        oidcIssuerUrl: cluster.oidcIssuerUrl,
        tags,
      },
      slackWebhookUrl: secrets.slackWebhookUrl,
      provider: kubernetes.provider,
    },
    // Canaries, MetricTemplates, ScaledObjects and mesh policies need their CRDs and controllers installed.
    { dependsOn: [...nsReady, mesh, prometheusStack, delivery, dataEndpoints] },
  );

  // Access: the matrix's data-plane grants on each service's workload identity.
  new Access(
    `${prefix}-access`,
    {
      services: settings.services,
      principals: Object.fromEntries(
        Object.entries(workloads.services).map(([n, svc]) => [n, svc.principalId]),
      ),
      resources: {
        keyVault: keyVault.vaultId,
        storage: data.storageAccountId,
        search: data.searchId,
        redis: {
          resourceGroupName: groups.dataName,
          clusterName: data.redisId.apply((id) => id.split("/").at(-1) ?? ""),
          databaseName: "default",
        },
        postgres: { resourceGroupName: groups.dataName, serverName: data.postgres.name },
      },
      subscriptionId: client.subscriptionId,
      tenantId: client.tenantId,
    },
    // Access policies attach to the Redis database and Entra principals to the server: the data tier comes first.
    { dependsOn: [data] },
  );

  // Alerting: rules, Alertmanager routing and dashboards (the PrometheusRule CRD comes with the stack).
  const alerting = new Alerting(
    `${prefix}-alerting`,
    { settings, secrets, provider: kubernetes.provider },
    { dependsOn: [...nsReady, prometheusStack] },
  );

  // Edge: Front Door reaches the ingress gateway's Private Link Service, which the AKS cloud provider creates from
  // the gateway Service's annotations: the origin must be declared after the gateway (dependsOn the mesh).
  const frontDoor = new FrontDoor(
    `${prefix}-frontdoor`,
    {
      prefix,
      environment: settings.environment,
      resourceGroupName: groups.edgeName,
      location,
      settings: settings.edge,
      subscriptionId: client.subscriptionId,
      nodeResourceGroup: cluster.nodeResourceGroup,
      privateLinkServiceName: ingressPrivateLinkServiceName(prefix),
      ingressAddress: ingressLoadBalancerIp(settings),
      tags,
    },
    { dependsOn: [mesh] },
  );

  return {
    resourceGroup: groups.platformName,
    dataResourceGroup: groups.dataName,
    clusterName: cluster.clusterName,
    getCredentialsCommand: cluster.getCredentialsCommand,
    oidcIssuerUrl: cluster.oidcIssuerUrl,
    nodeResourceGroup: cluster.nodeResourceGroup,
    registryLoginServer: registry.loginServer,
    keyVaultUri: keyVault.vaultUri,
    keyVaultName: keyVault.vaultName,
    postgresHost: data.postgresHost,
    redisHost: data.redisHost,
    storageAccountName: data.storageAccountName,
    searchEndpoint: data.searchEndpoint,
    egressIp: network.egressIp,
    kubeconfig: kubernetes.kubeconfig,
    frontDoorHostname: frontDoor.hostname,
    frontDoorResourceGroup: groups.edgeName,
    customDomainValidationToken: frontDoor.customDomainValidationToken,
    serviceImages: workloads.images,
    alertRules: alerting.ruleNames,
    dashboards: alerting.dashboardUids,
    ingressPrivateLinkServiceName: mesh.privateLinkServiceName,
    backupStorageAccount: backup.storageAccountName,
  };
};
