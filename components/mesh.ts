import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { MeshSettings } from "../settings";
import {
  GATEWAY_SELECTOR,
  INGRESS_SUBNET_NAME,
  NAMESPACES,
  OTEL_COLLECTOR,
  PUBLIC_GATEWAY,
  RELEASES,
  ingressPrivateLinkServiceName,
} from "../lib/names";
import type { ClusterWiring } from "../lib/wiring/cluster";
import { dataNamespaceDenyRules, permissivePeerAuthentications } from "../lib/wiring/layers";
import { CHARTS, SYSTEM_POOL, chartSource } from "./charts";
import { PRIORITY_CLASSES } from "./priorityClasses";

/** Name of the tracing provider declared in meshConfig and selected by the mesh-wide Telemetry. */
export const TRACING_PROVIDER = "otel-tracing";

/** OTLP/gRPC endpoint the sidecars send spans to: the collector components/observability/tracing.ts deploys. */
export const TRACING_COLLECTOR = {
  service: `${OTEL_COLLECTOR.service}.${OTEL_COLLECTOR.namespace}.svc.cluster.local`,
  port: OTEL_COLLECTOR.otlpGrpcPort,
};

/** Paths the gateway serves without a JWT (Front Door's health probe and the services' own probes). */
export function publicPaths(healthProbePath: string): string[] {
  return [...new Set([healthProbePath, "/health/live", "/health/ready"])];
}

/** istiod chart values: HA from `replicas` (HPA floor and PDB), on the system pool, with the Istio CNI. */
export function istiodValues(replicas: number): Record<string, unknown> {
  return {
    autoscaleEnabled: true,
    autoscaleMin: replicas,
    autoscaleMax: Math.max(replicas * 2, 5),
    replicaCount: replicas,
    // The chart's PDB is minAvailable 1: it only protects anything with two or more replicas.
    // istiod reads its pods' priority class from global.priorityClassName (templates/deployment.yaml).
    global: {
      defaultPodDisruptionBudget: { enabled: replicas >= 2 },
      priorityClassName: PRIORITY_CLASSES.mesh.name,
    },
    nodeSelector: SYSTEM_POOL.nodeSelector,
    tolerations: SYSTEM_POOL.tolerations,
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { app: "istiod" } },
      },
    ],
    // Pods get their traffic redirection from the CNI node agent, so no NET_ADMIN init container is injected.
    pilot: { cni: { enabled: true } },
    meshConfig: {
      enablePrometheusMerge: true,
      extensionProviders: [{ name: TRACING_PROVIDER, opentelemetry: TRACING_COLLECTOR }],
    },
  };
}

/**
 * Annotations that make AKS put the gateway on an internal load balancer with a Private Link Service for Front Door.
 * The service is visible only to the subscription that hosts Front Door, the stack's own (cloud-provider-azure
 * reads azure-pls-visibility as a space-separated list of subscription IDs, "*" being every subscription).
 */
export function privateLinkAnnotations(
  prefix: string,
  loadBalancerIp: string,
  frontDoorSubscriptionId: pulumi.Input<string>,
): Record<string, pulumi.Input<string>> {
  const a = "service.beta.kubernetes.io";
  return {
    [`${a}/azure-load-balancer-internal`]: "true",
    // A fixed address lets Front Door's origin name the gateway before the Service exists.
    [`${a}/azure-load-balancer-ipv4`]: loadBalancerIp,
    [`${a}/azure-load-balancer-internal-subnet`]: INGRESS_SUBNET_NAME,
    [`${a}/azure-pls-create`]: "true",
    [`${a}/azure-pls-name`]: ingressPrivateLinkServiceName(prefix),
    [`${a}/azure-pls-ip-configuration-subnet`]: INGRESS_SUBNET_NAME,
    [`${a}/azure-pls-proxy-protocol`]: "false",
    [`${a}/azure-pls-visibility`]: frontDoorSubscriptionId,
  };
}

/** gateway chart values: internal LB + PLS, autoscaling, PDB (the chart renders it only with minReplicas > 1). */
export function gatewayValues(
  prefix: string,
  loadBalancerIp: string,
  gateway: MeshSettings["gateway"],
  frontDoorSubscriptionId: pulumi.Input<string>,
): Record<string, unknown> {
  return {
    labels: { ...GATEWAY_SELECTOR },
    service: {
      type: "LoadBalancer",
      annotations: privateLinkAnnotations(prefix, loadBalancerIp, frontDoorSubscriptionId),
      externalTrafficPolicy: "Local",
    },
    autoscaling: {
      enabled: true,
      minReplicas: gateway.minReplicas,
      maxReplicas: gateway.maxReplicas,
      targetCPUUtilizationPercentage: 70,
    },
    podDisruptionBudget: { minAvailable: 1 },
    priorityClassName: PRIORITY_CLASSES.mesh.name,
    resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2", memory: "1Gi" } },
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { ...GATEWAY_SELECTOR } },
      },
    ],
  };
}

/** The mesh-wide Telemetry: tracing at the stack's sample rate; Prometheus metrics untouched (reporter kept). */
export function telemetrySpec(tracingSamplePercent: number): Record<string, unknown> {
  return {
    tracing: [{ providers: [{ name: TRACING_PROVIDER }], randomSamplingPercentage: tracingSamplePercent }],
    metrics: [{ providers: [{ name: "prometheus" }] }],
  };
}

export interface MeshArgs {
  /** Resource name prefix of the stack, "<prefix>-<env>" (names the Private Link Service). */
  prefix: string;
  /** Static internal address of the gateway's load balancer (`ingressLoadBalancerIp(settings)`). */
  loadBalancerIp: string;
  /** The stack's mesh settings. */
  mesh: MeshSettings;
  /** Hostname the public Gateway serves (settings.edge.customDomain). */
  customDomain: string;
  /** Front Door's health probe path, served without a JWT. */
  healthProbePath: string;
  /** Secret (in NAMESPACES.ingress) holding the gateway certificate, written by cert-manager. */
  tlsSecretName: string;
  /** The cluster's wiring table: its plain-text exceptions and the data namespace's DENY rules come from it. */
  wiring: ClusterWiring;
  /** Subscription of the Front Door profile (the stack's own): the only one that sees the Private Link Service. */
  frontDoorSubscriptionId: pulumi.Input<string>;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
  /** Resources the releases wait for (the namespaces). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** Istio: base, CNI, istiod and the ingress gateway, plus the mesh-wide security and telemetry policy. */
export class Mesh extends pulumi.ComponentResource {
  /** The istiod release; workloads that need sidecars depend on it. */
  public readonly istiod: k8s.helm.v3.Release;
  /** The ingress gateway release. */
  public readonly gateway: k8s.helm.v3.Release;
  /** Name of the Private Link Service AKS creates for the gateway. */
  public readonly privateLinkServiceName: string;

  constructor(name: string, args: MeshArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:platform:Mesh", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    const base = new k8s.helm.v3.Release(
      `${name}-base`,
      {
        ...chartSource(CHARTS.istioBase),
        name: RELEASES.istioBase,
        namespace: NAMESPACES.istio,
        values: { defaultRevision: "default" },
      },
      { ...childOpts, dependsOn: args.dependsOn },
    );
    const cni = new k8s.helm.v3.Release(
      `${name}-cni`,
      {
        ...chartSource(CHARTS.istioCni),
        name: "istio-cni",
        namespace: NAMESPACES.istio,
        // The node agent's DaemonSet hard-codes system-node-critical (cni chart templates/daemonset.yaml); an
        // API server may admit that class outside kube-system only under a matching ResourceQuota, which
        // the chart creates with resourceQuotas.enabled (templates/resourcequota.yaml).
        values: { resourceQuotas: { enabled: true } },
      },
      { ...childOpts, dependsOn: [base] },
    );
    this.istiod = new k8s.helm.v3.Release(
      `${name}-istiod`,
      {
        ...chartSource(CHARTS.istiod),
        name: RELEASES.istiod,
        namespace: NAMESPACES.istio,
        values: istiodValues(args.mesh.istiodReplicas),
      },
      { ...childOpts, dependsOn: [base, cni] },
    );
    this.privateLinkServiceName = ingressPrivateLinkServiceName(args.prefix);
    this.gateway = new k8s.helm.v3.Release(
      `${name}-gateway`,
      {
        ...chartSource(CHARTS.gateway),
        name: RELEASES.gateway,
        namespace: NAMESPACES.ingress,
        values: gatewayValues(
          args.prefix,
          args.loadBalancerIp,
          args.mesh.gateway,
          args.frontDoorSubscriptionId,
        ),
      },
      { ...childOpts, dependsOn: [this.istiod] },
    );
    const crOpts = { ...childOpts, dependsOn: [base, this.istiod] };
    const cr = (
      id: string,
      apiVersion: string,
      kind: string,
      namespace: string,
      objName: string,
      spec: object,
      meta = {},
    ) =>
      new k8s.apiextensions.CustomResource(
        `${name}-${id}`,
        { apiVersion, kind, metadata: { name: objName, namespace, ...meta }, spec },
        crOpts,
      );

    const [gatewayNamespace, gatewayName] = PUBLIC_GATEWAY.split("/");
    cr("public-gateway", "networking.istio.io/v1", "Gateway", gatewayNamespace, gatewayName, {
      selector: { ...GATEWAY_SELECTOR },
      servers: [
        {
          port: { number: 443, name: "https", protocol: "HTTPS" },
          hosts: [args.customDomain],
          tls: { mode: "SIMPLE", credentialName: args.tlsSecretName, minProtocolVersion: "TLSV1_2" },
        },
        {
          port: { number: 80, name: "http", protocol: "HTTP" },
          hosts: [args.customDomain],
          tls: { httpsRedirect: true },
        },
      ],
    });

    cr("mtls-strict", "security.istio.io/v1", "PeerAuthentication", NAMESPACES.istio, "default", {
      mtls: { mode: "STRICT" },
    });
    // Plain text only where the wiring table needs it: a client without a sidecar that must reach a meshed port.
    for (const pa of permissivePeerAuthentications(args.wiring)) {
      cr(`mtls-${pa.name}`, "security.istio.io/v1", "PeerAuthentication", pa.namespace, pa.name, pa.spec, {
        labels: { "aiwp.io/mtls-exception": "true" },
        annotations: { "aiwp.io/mtls-exception-reason": pa.reason },
      });
    }

    cr(
      "telemetry",
      "telemetry.istio.io/v1",
      "Telemetry",
      NAMESPACES.istio,
      "mesh-default",
      telemetrySpec(args.mesh.tracingSamplePercent),
    );

    const gatewaySelector = { matchLabels: { ...GATEWAY_SELECTOR } };
    cr("gateway-jwt", "security.istio.io/v1", "RequestAuthentication", NAMESPACES.ingress, "gateway-jwt", {
      selector: gatewaySelector,
      jwtRules: [
        {
          issuer: args.mesh.jwt.issuer,
          jwksUri: args.mesh.jwt.jwksUri,
          audiences: args.mesh.jwt.audiences,
          forwardOriginalToken: true,
        },
      ],
    });
    // RequestAuthentication only rejects invalid tokens; this denies requests without one.
    cr(
      "gateway-require-jwt",
      "security.istio.io/v1",
      "AuthorizationPolicy",
      NAMESPACES.ingress,
      "require-jwt",
      {
        selector: gatewaySelector,
        action: "DENY",
        rules: [
          {
            from: [{ source: { notRequestPrincipals: ["*"] } }],
            to: [{ operation: { notPaths: publicPaths(args.healthProbePath) } }],
          },
        ],
      },
    );
    // Data services accept mesh identities only from the namespaces the wiring table brings there.
    cr(
      "rabbitmq-namespace-only",
      "security.istio.io/v1",
      "AuthorizationPolicy",
      NAMESPACES.rabbitmq,
      "deny-other-namespaces",
      { action: "DENY", rules: dataNamespaceDenyRules(args.wiring, NAMESPACES.rabbitmq) },
    );

    this.registerOutputs({ privateLinkServiceName: this.privateLinkServiceName });
  }
}
