import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { DataSettings } from "../settings";
import { AMQP_SECRET, MONITORING_SELECTOR, NAMESPACES, RELEASES } from "../lib/names";
import { CHARTS, IMAGES, SYSTEM_POOL, chartSource } from "./charts";
import { PRIORITY_CLASSES } from "./priorityClasses";
import { ISTIO_MTLS_SCRAPE, STORAGE_CLASS } from "./observability/prometheusStack";

/** Name of the workflow queue's RabbitmqCluster (also its Service and `<name>-default-user` Secret). */
export const RABBITMQ_CLUSTER = "workflow-queue";

/** The application's RabbitMQ user: the topology operator's User CR, named like the user it creates. */
export const APP_USER = "workflow-app";

/** Secret in the RabbitMQ namespace the User CR imports its username and password from. */
export const APP_USER_CREDENTIALS = `${APP_USER}-credentials`;

/** In-cluster AMQP host and port of the workflow queue's Service. */
export const AMQP_ENDPOINT = {
  host: `${RABBITMQ_CLUSTER}.${NAMESPACES.rabbitmq}.svc.cluster.local`,
  port: 5672,
} as const;

/**
 * AMQP URI of the application user on the default vhost. User and password are percent-encoded; the vhost "/"
 * is written "%2F" (an empty path would name the vhost "" under the AMQP URI specification).
 */
export function amqpUri(user: string, password: string, endpoint: { host: string; port: number }): string {
  const enc = encodeURIComponent;
  return `amqp://${enc(user)}:${enc(password)}@${endpoint.host}:${endpoint.port}/%2F`;
}

/**
 * The application user's permissions on the default vhost: each of its queues and the queues derived from it
 * by name (`<queue>.<suffix>`, e.g. a dead-letter queue), plus publishing through the default exchange
 * (amq.default), which is how a producer addresses a queue by name. No queues: no permissions.
 */
export function queuePermissions(queues: readonly string[]): {
  configure: string;
  write: string;
  read: string;
} {
  if (queues.length === 0) return { configure: "", write: "", read: "" };
  const names = [...new Set(queues)].map((q) => q.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|");
  const own = `^(${names})(\\..+)?$`;
  return { configure: own, write: `${own}|^amq\\.default$`, read: own };
}

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
      priorityClassName: PRIORITY_CLASSES.platform.name,
      nodeSelector: SYSTEM_POOL.nodeSelector,
      tolerations: SYSTEM_POOL.tolerations,
    },
    // The topology operator creates the application's user and permissions (User and Permission CRs).
    msgTopologyOperator: {
      enabled: true,
      image: image(IMAGES.rabbitmqTopologyOperator),
      // Without a command the chart runs `manager` (templates/messaging-topology-operator/deployment.yaml);
      // the upstream image is FROM scratch with its binary at /manager and no PATH (messaging-topology-operator
      // Dockerfile, ENTRYPOINT ["/manager"]), so the bare name never resolves.
      command: ["/manager"],
      // The operator runs in the mesh, but the API server calls its admission webhook without a mesh identity.
      podAnnotations: { "traffic.sidecar.istio.io/excludeInboundPorts": "9443" },
      priorityClassName: PRIORITY_CLASSES.platform.name,
      nodeSelector: SYSTEM_POOL.nodeSelector,
      tolerations: SYSTEM_POOL.tolerations,
    },
    // The chart signs the topology operator's webhook certificate itself (and keeps it across upgrades).
    useCertManager: false,
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
    // The operator merges the override into the StatefulSet it generates (containers by name, so naming its
    // `rabbitmq` container changes nothing there; the CRD requires the list).
    override: {
      statefulSet: {
        spec: {
          template: {
            spec: { priorityClassName: PRIORITY_CLASSES.platform.name, containers: [{ name: "rabbitmq" }] },
          },
        },
      },
    },
  };
}

export interface RabbitMQArgs {
  /** RabbitMQ settings of the stack (settings.data.rabbitmq). */
  rabbitmq: DataSettings["rabbitmq"];
  /** Whether the cluster spans availability zones (spread replicas across them). */
  zoned: boolean;
  /** Password of the application's RabbitMQ user (stack secret `rabbitmqPassword`). */
  appPassword: pulumi.Input<string>;
  /** The application namespace, where the AMQP URI Secret (AMQP_SECRET) is written for KEDA and the services. */
  appNamespace: string;
  /** Queues the application uses (the KEDA services' `queue.name`); its permissions cover these. Default: none. */
  queues?: string[];
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
  /** Resources the operator waits for (the namespaces, the Prometheus stack for ServiceMonitor CRDs). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/**
 * The RabbitMQ operators and the workflow queue's RabbitmqCluster with its ServiceMonitor, plus the application's
 * user: its password comes from the stack's secrets, the topology operator creates it in RabbitMQ, and its AMQP
 * URI is written to a Secret in the application namespace (KEDA's TriggerAuthentication cannot read the RabbitMQ
 * namespace).
 */
export class RabbitMQ extends pulumi.ComponentResource {
  /** In-cluster AMQP host of the queue. */
  public readonly host: string;
  /** Name of the Secret (in the application namespace) holding the AMQP URI under AMQP_SECRET.key. */
  public readonly amqpSecretName: pulumi.Output<string>;

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
    const cluster = new k8s.apiextensions.CustomResource(
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

    const password = pulumi.secret(args.appPassword);
    const k8sOpts = { parent: this, provider: args.provider };
    const credentials = new k8s.core.v1.Secret(
      `${name}-app-credentials`,
      {
        metadata: { name: APP_USER_CREDENTIALS, namespace: NAMESPACES.rabbitmq },
        type: "Opaque",
        stringData: { username: APP_USER, password },
      },
      k8sOpts,
    );
    const clusterReference = { name: RABBITMQ_CLUSTER };
    // The operator imports the credentials when it creates the user; a later password change needs the User
    // recreated (the import is ignored once the user exists).
    const user = new k8s.apiextensions.CustomResource(
      `${name}-app-user`,
      {
        apiVersion: "rabbitmq.com/v1beta1",
        kind: "User",
        metadata: { name: APP_USER, namespace: NAMESPACES.rabbitmq },
        spec: {
          rabbitmqClusterReference: clusterReference,
          importCredentialsSecret: { name: APP_USER_CREDENTIALS },
        },
      },
      { ...k8sOpts, dependsOn: [operator, cluster, credentials] },
    );
    new k8s.apiextensions.CustomResource(
      `${name}-app-permission`,
      {
        apiVersion: "rabbitmq.com/v1beta1",
        kind: "Permission",
        metadata: { name: `${APP_USER}-default-vhost`, namespace: NAMESPACES.rabbitmq },
        spec: {
          vhost: "/",
          userReference: { name: APP_USER },
          permissions: queuePermissions(args.queues ?? []),
          rabbitmqClusterReference: clusterReference,
        },
      },
      { ...k8sOpts, dependsOn: [user] },
    );
    const amqpSecret = new k8s.core.v1.Secret(
      `${name}-amqp`,
      {
        metadata: { name: AMQP_SECRET.name, namespace: args.appNamespace },
        type: "Opaque",
        stringData: {
          [AMQP_SECRET.key]: pulumi.secret(
            pulumi.output(password).apply((p) => amqpUri(APP_USER, p, AMQP_ENDPOINT)),
          ),
        },
      },
      k8sOpts,
    );

    this.host = AMQP_ENDPOINT.host;
    this.amqpSecretName = amqpSecret.metadata.name;
    this.registerOutputs({ host: this.host, amqpSecretName: this.amqpSecretName });
  }
}
