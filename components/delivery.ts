import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { LOADTESTER_SERVICE_ACCOUNT, NAMESPACES, PROMETHEUS_URL, RELEASES } from "../lib/names";
import { CHARTS, SYSTEM_POOL, chartSource } from "./charts";
import { PRIORITY_CLASSES } from "./priorityClasses";

/**
 * Flagger chart values. Flagger's replica count lives under leaderElection (there is no top-level replicaCount);
 * Slack is configured per canary through the AlertProvider, so no webhook appears here.
 */
export function flaggerValues(replicas: number): Record<string, unknown> {
  return {
    meshProvider: "istio",
    metricsServer: PROMETHEUS_URL,
    leaderElection: { enabled: replicas > 1, replicaCount: replicas },
    podDisruptionBudget: { enabled: replicas > 1, minAvailable: 1 },
    podPriorityClassName: PRIORITY_CLASSES.platform.name,
    nodeSelector: SYSTEM_POOL.nodeSelector,
    tolerations: SYSTEM_POOL.tolerations,
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  };
}

/** flagger-loadtester values: it runs the canaries' load and acceptance webhooks from inside the mesh. */
export function loadtesterValues(): Record<string, unknown> {
  return {
    replicaCount: 1,
    // Services' AuthorizationPolicies name this account as the caller of canary webhooks.
    serviceAccountName: LOADTESTER_SERVICE_ACCOUNT.name,
    // istio-system is not injected; the pod label opts the load tester into the mesh so it can call STRICT mTLS services.
    podLabels: { "sidecar.istio.io/inject": "true" },
    // Without it every canary's webhooks fail and every release rolls back.
    podPriorityClassName: PRIORITY_CLASSES.platform.name,
    cmd: { timeout: "1h" },
    resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  };
}

export interface DeliveryArgs {
  /** Flagger replicas (leader election when more than one): 2 in prod-like stacks. */
  flaggerReplicas: number;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
  /** Resources the releases wait for (istiod, the Prometheus stack). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** Flagger (Istio provider, the estate's Prometheus) and flagger-loadtester. */
export class Delivery extends pulumi.ComponentResource {
  /** The Flagger release; Canaries depend on it (it installs the CRDs). */
  public readonly flagger: k8s.helm.v3.Release;
  /** The load tester release. */
  public readonly loadtester: k8s.helm.v3.Release;

  constructor(name: string, args: DeliveryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:delivery:Delivery", name, {}, opts);
    if (!Number.isInteger(args.flaggerReplicas) || args.flaggerReplicas < 1) {
      throw new Error(`Delivery ${name}: flaggerReplicas must be a whole number >= 1`);
    }
    const childOpts = { parent: this, provider: args.provider, dependsOn: args.dependsOn };
    this.flagger = new k8s.helm.v3.Release(
      `${name}-flagger`,
      {
        ...chartSource(CHARTS.flagger),
        name: RELEASES.flagger,
        namespace: NAMESPACES.flagger,
        values: flaggerValues(args.flaggerReplicas),
      },
      childOpts,
    );
    const loadtesterAccount = new k8s.core.v1.ServiceAccount(
      `${name}-loadtester-sa`,
      {
        metadata: { name: LOADTESTER_SERVICE_ACCOUNT.name, namespace: LOADTESTER_SERVICE_ACCOUNT.namespace },
      },
      childOpts,
    );
    this.loadtester = new k8s.helm.v3.Release(
      `${name}-loadtester`,
      {
        ...chartSource(CHARTS.loadtester),
        name: RELEASES.loadtester,
        namespace: NAMESPACES.flagger,
        values: loadtesterValues(),
      },
      { ...childOpts, dependsOn: [loadtesterAccount] },
    );
    this.registerOutputs({});
  }
}
