/**
 * Mock outputs that look like what Azure and Kubernetes return, so code that depends on outputs (resource
 * IDs, principal IDs, hostnames, the cluster's credentials) runs offline as it would under `pulumi up`.
 * Everything is derived from the resource's name and inputs, so renders are reproducible.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";

export const MOCK_SUBSCRIPTION = "00000000-0000-4000-8000-000000000001";
export const MOCK_TENANT = "00000000-0000-4000-8000-0000000000aa";

/** A stable GUID derived from a seed. */
export function mockGuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function suffix(seed: string, length = 8): string {
  return createHash("sha256").update(seed).digest("hex").slice(0, length);
}

/** Resource provider namespaces of the azure-native modules the estate uses. */
const NAMESPACES: Record<string, string> = {
  resources: "Microsoft.Resources",
  network: "Microsoft.Network",
  privatedns: "Microsoft.Network",
  frontdoor: "Microsoft.Network",
  containerservice: "Microsoft.ContainerService",
  containerregistry: "Microsoft.ContainerRegistry",
  keyvault: "Microsoft.KeyVault",
  cdn: "Microsoft.Cdn",
  dbforpostgresql: "Microsoft.DBforPostgreSQL",
  redisenterprise: "Microsoft.Cache",
  cache: "Microsoft.Cache",
  storage: "Microsoft.Storage",
  search: "Microsoft.Search",
  managedidentity: "Microsoft.ManagedIdentity",
  authorization: "Microsoft.Authorization",
  operationalinsights: "Microsoft.OperationalInsights",
  insights: "Microsoft.Insights",
  applicationinsights: "Microsoft.Insights",
  monitor: "Microsoft.Monitor",
  alertsmanagement: "Microsoft.AlertsManagement",
  dashboard: "Microsoft.Dashboard",
};

/** ARM collection name of a type: ManagedCluster -> managedClusters, Policy -> policies. */
function collection(typeName: string): string {
  const camel = typeName[0].toLowerCase() + typeName.slice(1);
  if (camel.endsWith("y") && !/[aeiou]y$/.test(camel)) return `${camel.slice(0, -1)}ies`;
  if (camel.endsWith("s")) return `${camel}es`;
  return `${camel}s`;
}

/** Keys that name a parent ARM resource, in path order, for child resources. */
const PARENT_KEYS: [key: string, collection: string][] = [
  ["resourceName", "managedClusters"],
  ["virtualNetworkName", "virtualNetworks"],
  ["privateZoneName", "privateDnsZones"],
  ["profileName", "profiles"],
  ["endpointName", "afdEndpoints"],
  ["originGroupName", "originGroups"],
  ["serverName", "flexibleServers"],
  ["clusterName", "redisEnterprise"],
  ["accountName", "storageAccounts"],
  ["registryName", "registries"],
];

/** Types whose own name input is not "<typeName>Name". */
const OWN_NAME_KEYS: Record<string, string> = {
  "containerservice:ManagedCluster": "resourceName",
  "applicationinsights:Component": "resourceName",
  "containerservice:MaintenanceConfiguration": "configName",
  "managedidentity:UserAssignedIdentity": "resourceName",
  "managedidentity:FederatedIdentityCredential": "federatedIdentityCredentialResourceName",
  "redisenterprise:RedisEnterprise": "clusterName",
  "storage:StorageAccount": "accountName",
  "search:Service": "searchServiceName",
  "network:PublicIPAddress": "publicIpAddressName",
  "cdn:AFDEndpoint": "endpointName",
  "cdn:AFDOriginGroup": "originGroupName",
  "cdn:AFDOrigin": "originName",
  "cdn:AFDCustomDomain": "customDomainName",
};

function azureState(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
): { id: string; state: Record<string, unknown> } {
  const [, module, typeName] = type.split(":");
  const ownNameKey =
    OWN_NAME_KEYS[`${module}:${typeName}`] ?? `${typeName[0].toLowerCase()}${typeName.slice(1)}Name`;
  const explicit = inputs[ownNameKey] ?? inputs.name;
  const physicalName =
    typeof explicit === "string" ? explicit : `${name.replace(/[^A-Za-z0-9-]/g, "")}${suffix(name)}`;
  const group = typeof inputs.resourceGroupName === "string" ? inputs.resourceGroupName : "rg-mock";
  const namespace = NAMESPACES[module] ?? `Microsoft.${module}`;
  let id: string;
  if (type === "azure-native:resources:ResourceGroup") {
    id = `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/${physicalName}`;
  } else if (type.startsWith("azure-native:authorization:RoleAssignment")) {
    const scope = typeof inputs.scope === "string" ? inputs.scope : `/subscriptions/${MOCK_SUBSCRIPTION}`;
    id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${mockGuid(name)}`;
  } else {
    let path = "";
    for (const [key, parentCollection] of PARENT_KEYS) {
      if (key !== ownNameKey && typeof inputs[key] === "string")
        path += `/${parentCollection}/${inputs[key]}`;
    }
    id = `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/${group}/providers/${namespace}${path}/${collection(typeName)}/${physicalName}`;
  }
  const state: Record<string, unknown> = { ...inputs, name: physicalName, id };
  const principal = mockGuid(`${id}/principal`);
  if (inputs.identity && typeof inputs.identity === "object") {
    state.identity = { ...(inputs.identity as object), principalId: principal, tenantId: MOCK_TENANT };
  }
  Object.assign(state, AZURE_OUTPUTS[`${module}:${typeName}`]?.(physicalName, inputs, id) ?? {});
  return { id, state };
}

/** Outputs Azure computes, per azure-native type. */
const AZURE_OUTPUTS: Record<
  string,
  (name: string, inputs: Record<string, unknown>, id: string) => Record<string, unknown>
> = {
  "containerservice:ManagedCluster": (name, inputs, id) => ({
    fqdn: `${inputs.dnsPrefix ?? name}-${suffix(id)}.hcp.${inputs.location ?? "eastus"}.azmk8s.io`,
    privateFQDN: `${inputs.dnsPrefix ?? name}-${suffix(id)}.privatelink.${inputs.location ?? "eastus"}.azmk8s.io`,
    nodeResourceGroup:
      inputs.nodeResourceGroup ?? `MC_${inputs.resourceGroupName}_${name}_${inputs.location ?? "eastus"}`,
    oidcIssuerProfile: {
      enabled: true,
      issuerURL: `https://${inputs.location ?? "eastus"}.oic.prod-aks.azure.com/${MOCK_TENANT}/${mockGuid(id)}/`,
    },
    identityProfile: {
      kubeletidentity: {
        clientId: mockGuid(`${id}/kubelet/client`),
        objectId: mockGuid(`${id}/kubelet/object`),
        resourceId: `/subscriptions/${MOCK_SUBSCRIPTION}/resourceGroups/MC_${inputs.resourceGroupName}_${name}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}-agentpool`,
      },
    },
  }),
  "managedidentity:UserAssignedIdentity": (_name, _inputs, id) => ({
    principalId: mockGuid(`${id}/principal`),
    clientId: mockGuid(`${id}/client`),
    tenantId: MOCK_TENANT,
  }),
  "containerregistry:Registry": (name) => ({ loginServer: `${name.toLowerCase()}.azurecr.io` }),
  "keyvault:Vault": (name, inputs) => ({
    properties: { ...(inputs.properties as object), vaultUri: `https://${name}.vault.azure.net/` },
  }),
  "cdn:AFDEndpoint": (name, _inputs, id) => ({ hostName: `${name}-${suffix(id, 12)}.z01.azurefd.net` }),
  "cdn:AFDCustomDomain": (_name, _inputs, id) => ({
    validationProperties: { validationToken: suffix(id, 32), expirationDate: "2027-01-01T00:00:00Z" },
  }),
  "dbforpostgresql:Server": (name) => ({ fullyQualifiedDomainName: `${name}.postgres.database.azure.com` }),
  "redisenterprise:RedisEnterprise": (name, inputs) => ({
    hostName: `${name}.${inputs.location ?? "eastus"}.redis.azure.net`,
  }),
  "storage:StorageAccount": (name) => ({
    primaryEndpoints: {
      blob: `https://${name}.blob.core.windows.net/`,
      dfs: `https://${name}.dfs.core.windows.net/`,
    },
  }),
  "search:Service": (name) => ({ endpoint: `https://${name}.search.windows.net` }),
  "operationalinsights:Workspace": (_name, _inputs, id) => ({ customerId: mockGuid(`${id}/customer`) }),
  "network:PublicIPAddress": () => ({ ipAddress: "20.0.0.10" }),
  "applicationinsights:Component": (_name, inputs, id) => ({
    appId: mockGuid(`${id}/app`),
    instrumentationKey: mockGuid(`${id}/ikey`),
    connectionString: `InstrumentationKey=${mockGuid(`${id}/ikey`)};IngestionEndpoint=https://${inputs.location ?? "eastus"}-0.in.applicationinsights.azure.com/`,
  }),
};

/** A kubeconfig shaped like the one `listManagedClusterUserCredentials` returns for an Entra ID cluster. */
export function mockKubeconfig(cluster: string, server: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${cluster}`,
    "  cluster:",
    `    server: https://${server}:443`,
    `    certificate-authority-data: ${Buffer.from(`mock-ca-for-${cluster}`).toString("base64")}`,
    "contexts:",
    `- name: ${cluster}`,
    "  context:",
    `    cluster: ${cluster}`,
    `    user: clusterUser_${cluster}`,
    `current-context: ${cluster}`,
    "users:",
    `- name: clusterUser_${cluster}`,
    "  user:",
    "    exec:",
    "      apiVersion: client.authentication.k8s.io/v1beta1",
    "      command: kubelogin",
    "      args: [get-token, --login, devicecode, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]",
    "",
  ].join("\n");
}

export const mocks: pulumi.runtime.Mocks = {
  newResource(args: pulumi.runtime.MockResourceArgs): {
    id: string | undefined;
    state: Record<string, unknown>;
  } {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    if (args.type.startsWith("azure-native:")) return azureState(args.type, args.name, inputs);
    if (args.type.startsWith("kubernetes:")) {
      const metadata = (inputs.metadata ?? {}) as Record<string, unknown>;
      const state: Record<string, unknown> = {
        ...inputs,
        metadata: { name: args.name, ...metadata, uid: mockGuid(args.name) },
      };
      if (args.type === "kubernetes:core/v1:Service") {
        state.status = { loadBalancer: { ingress: [{ ip: "10.0.16.10" }] } };
      }
      if (args.type === "kubernetes:helm.sh/v3:Release") {
        state.status = {
          name: inputs.name ?? args.name,
          namespace: inputs.namespace,
          status: "deployed",
          version: inputs.version,
        };
      }
      return { id: `${metadata.namespace ?? "default"}/${metadata.name ?? args.name}`, state };
    }
    return { id: args.custom === false ? undefined : `${args.name}-id`, state: { ...inputs } };
  },
  call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
    const inputs = (args.inputs ?? {}) as Record<string, unknown>;
    switch (args.token) {
      case "azure-native:authorization:getClientConfig":
        return {
          clientId: mockGuid("client"),
          objectId: mockGuid("deployer"),
          subscriptionId: MOCK_SUBSCRIPTION,
          tenantId: MOCK_TENANT,
        };
      case "azure-native:containerservice:listManagedClusterUserCredentials": {
        const cluster = String(inputs.resourceName ?? "cluster");
        const kubeconfig = mockKubeconfig(cluster, `${cluster}-${suffix(cluster)}.hcp.eastus.azmk8s.io`);
        return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(kubeconfig).toString("base64") }] };
      }
      default:
        return inputs;
    }
  },
};
