import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

/** The ConfigMap every service reads its data endpoints from (`envFrom`, components/service.ts). */
export const DATA_ENDPOINTS_CONFIGMAP = "data-endpoints";

/** Variable names of the endpoints, as the services see them. */
export const DATA_ENDPOINT_KEYS = [
  "POSTGRES_HOST",
  "POSTGRES_PORT",
  "REDIS_HOST",
  "REDIS_PORT",
  "BLOB_ENDPOINT",
  "SEARCH_ENDPOINT",
  "KEY_VAULT_URI",
] as const;

export type DataEndpointValues = Record<(typeof DATA_ENDPOINT_KEYS)[number], pulumi.Input<string>>;

export interface DataEndpointsArgs {
  /** The application namespace. */
  namespace: string;
  /** PostgreSQL host name (in dr: its replica, which becomes the primary when promoted, under the same name). */
  postgresHost: pulumi.Input<string>;
  /** Redis host name (TLS). */
  redisHost: pulumi.Input<string>;
  /** Redis port. */
  redisPort: number;
  /** Name of the data storage account (its blob endpoint is derived). */
  storageAccountName: pulumi.Input<string>;
  /** AI Search endpoint URL. */
  searchEndpoint: pulumi.Input<string>;
  /** Key Vault URI. */
  keyVaultUri: pulumi.Input<string>;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
  /** Resources the ConfigMap waits for (the namespaces). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** The ConfigMap's data: each variable from this stack's own data tier. */
export function dataEndpointValues(args: DataEndpointsArgs): DataEndpointValues {
  return {
    POSTGRES_HOST: args.postgresHost,
    POSTGRES_PORT: "5432",
    REDIS_HOST: args.redisHost,
    REDIS_PORT: String(args.redisPort),
    BLOB_ENDPOINT: pulumi.interpolate`https://${args.storageAccountName}.blob.core.windows.net`,
    SEARCH_ENDPOINT: args.searchEndpoint,
    KEY_VAULT_URI: args.keyVaultUri,
  };
}

/**
 * Where the services find the stack's data tier: the stack declares it from its own resources, so dr's services
 * point at dr's data stores (the promoted replica, dr's Redis, storage, search and vault) with no edit on failover.
 */
export class DataEndpoints extends pulumi.ComponentResource {
  /** The ConfigMap the services mount. */
  public readonly configMap: k8s.core.v1.ConfigMap;

  constructor(name: string, args: DataEndpointsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:workloads:DataEndpoints", name, {}, opts);
    this.configMap = new k8s.core.v1.ConfigMap(
      `${name}-configmap`,
      {
        metadata: {
          name: DATA_ENDPOINTS_CONFIGMAP,
          namespace: args.namespace,
          labels: { "app.kubernetes.io/part-of": "aiwp", "app.kubernetes.io/component": "data-endpoints" },
        },
        data: dataEndpointValues(args),
      },
      { parent: this, provider: args.provider, dependsOn: args.dependsOn },
    );
    this.registerOutputs({});
  }
}
