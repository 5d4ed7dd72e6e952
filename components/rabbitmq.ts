import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { DataSettings } from "../settings";
import { MONITORING_SELECTOR, NAMESPACES, RELEASES } from "../lib/names";
import { CHARTS, IMAGES, SYSTEM_POOL, chartSource } from "./charts";
import { ISTIO_MTLS_SCRAPE, STORAGE_CLASS } from "./observability/prometheusStack";

/** Name of the workflow queue's RabbitmqCluster (also its Service and `<name>-default-user` Secret). */
export const RABBITMQ_CLUSTER = "workflow-queue";

/** Operator chart values: the upstream operator images instead of the chart's unpublished Bitnami ones. */
export function operatorValues(): Record<string, unknown> {
  const image = (i: { registry: string; repository: string; tag: string }) => ({
    registry: i.registry,
    repository: i.repository,
    tag: i.tag,
  });
  return {
    // The chart refuses images outside its own catalogue unless told otherwise.
    global: { security: { allowInsecureImages: true } },
    rabbitmqImage: image(IMAGES.rabbitmq),
    credentialUpdaterImage: image(IMAGES.rabbitmqCredentialUpdater),
    clusterOperator: {
      image: image(IMAGES.rabbitmqClusterOperator),
      // The upstream image's binary is /manager (Bitnami's image puts it on PATH under another directory).
      command: ["/manager"],
      nodeSelector: SYSTEM_POOL.nodeSelector,
      tolerations: SYSTEM_POOL.tolerations,
    },
    // Queues are declared by the services themselves; the topology operator is not needed.
    msgTopologyOperator: { enabled: false },
  };
}

/** RabbitmqCluster spec: replicas, persistence and resources from settings, one replica per zone where possible. */
export function rabbitmqClusterSpec(r: DataSettings["rabbitmq"], zoned: boolean): Record<string, unknown> {
  const { registry, repository, tag } = IMAGES.rabbitmq;
  return {
    replicas: r.replicas,
    image: `${registry}/${repository}:${tag}`,
    persistence: { storageClassName: STORAGE_CLASS, storage: r.storage },
    resources: { requests: { cpu: r.cpu, memory: r.memory }, limits: { cpu: r.cpu, memory: r.memory } },
    affinity: {
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [
          {
            weight: 100,
            podAffinityTerm: {
              topologyKey: zoned ? "topology.kubernetes.io/zone" : "kubernetes.io/hostname",
              labelSelector: { matchLabels: { "app.kubernetes.io/name": RABBITMQ_CLUSTER } },
            },
          },
        ],
      },
    },
    rabbitmq: { additionalPlugins: ["rabbitmq_prometheus"] },
    service: { type: "ClusterIP" },
  };
}

export interface RabbitMQArgs {
  /** RabbitMQ settings of the stack (settings.data.rabbitmq). */
  rabbitmq: DataSettings["rabbitmq"];
  /** Whether the cluster spans availability zones (spread replicas across them). */
  zoned: boolean;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
  /** Resources the operator waits for (the namespaces, the Prometheus stack for ServiceMonitor CRDs). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** The RabbitMQ cluster operator and the workflow queue's RabbitmqCluster with its ServiceMonitor. */
export class RabbitMQ extends pulumi.ComponentResource {
  /** In-cluster AMQP host of the queue. */
  public readonly host: string;

  constructor(name: string, args: RabbitMQArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:data:RabbitMQ", name, {}, opts);
    const operator = new k8s.helm.v3.Release(
      `${name}-operator`,
      {
        ...chartSource(CHARTS.rabbitmqOperator),
        name: RELEASES.rabbitmqOperator,
        namespace: NAMESPACES.rabbitmqOperator,
        values: operatorValues(),
      },
      { parent: this, provider: args.provider, dependsOn: args.dependsOn },
    );
    const crOpts = { parent: this, provider: args.provider, dependsOn: [operator] };
    new k8s.apiextensions.CustomResource(
      `${name}-cluster`,
      {
        apiVersion: "rabbitmq.com/v1beta1",
        kind: "RabbitmqCluster",
        metadata: { name: RABBITMQ_CLUSTER, namespace: NAMESPACES.rabbitmq },
        spec: rabbitmqClusterSpec(args.rabbitmq, args.zoned),
      },
      crOpts,
    );
    new k8s.apiextensions.CustomResource(
      `${name}-monitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: {
          name: RABBITMQ_CLUSTER,
          namespace: NAMESPACES.rabbitmq,
          labels: { ...MONITORING_SELECTOR },
        },
        spec: {
          selector: { matchLabels: { "app.kubernetes.io/name": RABBITMQ_CLUSTER } },
          namespaceSelector: { matchNames: [NAMESPACES.rabbitmq] },
          // The pods are in the mesh under STRICT mTLS: Prometheus scrapes with its mesh certificate.
          endpoints: [{ port: "prometheus", path: "/metrics", interval: "15s", ...ISTIO_MTLS_SCRAPE }],
        },
      },
      crOpts,
    );
    this.host = `${RABBITMQ_CLUSTER}.${NAMESPACES.rabbitmq}.svc.cluster.local`;
    this.registerOutputs({ host: this.host });
  }
}
