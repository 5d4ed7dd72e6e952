import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as yaml from "js-yaml";
import type { ClusterSettings } from "../settings";

/** The Entra ID application every AKS-managed-AAD API server accepts tokens for. */
export const AKS_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630";

/** The exec block that makes kubectl (and the provider) fetch an Entra ID token through kubelogin. */
export function kubeloginExec(mode: ClusterSettings["kubeloginMode"]): Record<string, unknown> {
  return {
    apiVersion: "client.authentication.k8s.io/v1beta1",
    command: "kubelogin",
    args: ["get-token", "--login", mode, "--server-id", AKS_SERVER_ID],
    interactiveMode: "Never",
    provideClusterInfo: false,
  };
}

interface Kubeconfig {
  users?: { name: string; user: Record<string, unknown> }[];
  [key: string]: unknown;
}

/**
 * Rewrites a cluster-user kubeconfig so every user authenticates through kubelogin in `mode` (non-interactive
 * in CI). Throws on a kubeconfig that carries static credentials: the estate never uses admin credentials.
 */
export function kubeloginKubeconfig(raw: string, mode: ClusterSettings["kubeloginMode"]): string {
  const doc = yaml.load(raw) as Kubeconfig;
  if (!doc || !Array.isArray(doc.users) || doc.users.length === 0) {
    throw new Error("kubeconfig has no users to rewrite");
  }
  for (const entry of doc.users) {
    const user = entry.user ?? {};
    if (user["client-certificate-data"] || user["client-key-data"] || user.token || user.password) {
      throw new Error(
        `kubeconfig user ${entry.name} carries static credentials; only Entra ID user credentials are allowed`,
      );
    }
    entry.user = { exec: kubeloginExec(mode) };
  }
  return yaml.dump(doc, { lineWidth: -1, noRefs: true });
}

export interface KubernetesProviderArgs {
  /** Resource group of the cluster. */
  resourceGroupName: pulumi.Input<string>;
  /** Name of the AKS cluster. */
  clusterName: pulumi.Input<string>;
  /** kubelogin login mode (settings.cluster.kubeloginMode): azurecli after `az login` or the azure/login action in CI. */
  kubeloginMode: ClusterSettings["kubeloginMode"];
  /** When set, the provider writes manifests to this directory instead of applying them. */
  renderYamlToDirectory?: string;
  /**
   * The grants that authorize the provider's identity in the cluster (Cluster.adminGrants): under Azure RBAC
   * with local accounts disabled every Kubernetes call before them gets 403.
   */
  authorizedBy: pulumi.Resource[];
}

/**
 * The Kubernetes provider of the estate: the cluster-user kubeconfig (never the admin one) with its user
 * rewritten to the kubelogin exec plugin, kept as a secret.
 */
export class KubernetesProvider extends pulumi.ComponentResource {
  /** Pass this to every Kubernetes resource, Helm release and component of the platform and workloads. */
  public readonly provider: k8s.Provider;
  /** The kubeconfig the provider uses (secret). */
  public readonly kubeconfig: pulumi.Output<string>;

  constructor(name: string, args: KubernetesProviderArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:KubernetesProvider", name, {}, opts);
    const credentials = containerservice.listManagedClusterUserCredentialsOutput(
      { resourceGroupName: args.resourceGroupName, resourceName: args.clusterName, format: "exec" },
      { parent: this },
    );
    this.kubeconfig = pulumi.secret(
      credentials.kubeconfigs.apply((configs) => {
        if (!configs || configs.length === 0) throw new Error("AKS returned no user kubeconfig");
        return kubeloginKubeconfig(
          Buffer.from(configs[0].value, "base64").toString("utf8"),
          args.kubeloginMode,
        );
      }),
    );
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      {
        kubeconfig: this.kubeconfig,
        renderYamlToDirectory: args.renderYamlToDirectory,
        enableServerSideApply: true,
      },
      { parent: this, dependsOn: args.authorizedBy },
    );
    this.registerOutputs({ kubeconfig: this.kubeconfig });
  }
}
