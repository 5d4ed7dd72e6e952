import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type * as k8sInput from "@pulumi/kubernetes/types/input";
import { NAMESPACES, OTEL_COLLECTOR } from "../lib/names";

/** Pod Security Admission levels (https://kubernetes.io/docs/concepts/security/pod-security-standards/). */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** How one namespace of the estate is set up. */
export interface NamespacePlan {
  name: string;
  /** PSA level enforced (and audited and warned) in the namespace. */
  podSecurity: PodSecurityLevel;
  /** Why the level is lower than restricted. */
  reason?: string;
  /** Istio sidecar injection for every pod. */
  injection: boolean;
  /** Egress is denied by default too (data-plane namespaces); system controllers keep egress (see below). */
  denyEgress: boolean;
}

/**
 * The estate's namespaces. System namespaces deny ingress by default but keep egress: their controllers call
 * the Kubernetes API server and Azure APIs, whose addresses are not known to the program. Injected pods need the
 * Istio CNI node agent instead of the NET_ADMIN init container, which is what lets them run under restricted.
 */
export function namespacePlan(appNamespace: string): NamespacePlan[] {
  return [
    {
      name: NAMESPACES.istio,
      podSecurity: "privileged",
      reason: "the Istio CNI node agent (DaemonSet) needs hostPath mounts and privileged containers",
      injection: false,
      denyEgress: false,
    },
    {
      name: NAMESPACES.ingress,
      podSecurity: "baseline",
      reason: "the gateway chart binds ports 80/443 through the net.ipv4.ip_unprivileged_port_start sysctl",
      injection: false,
      denyEgress: false,
    },
    {
      name: NAMESPACES.monitoring,
      podSecurity: "privileged",
      reason: "node-exporter reads the host through hostNetwork, hostPID and hostPath",
      injection: false,
      denyEgress: false,
    },
    {
      name: NAMESPACES.velero,
      podSecurity: "baseline",
      reason:
        "the chart's pods do not set the restricted securityContext (seccomp, runAsNonRoot); no node agent runs, so nothing needs privileged",
      injection: false,
      denyEgress: false,
    },
    { name: NAMESPACES.certManager, podSecurity: "restricted", injection: false, denyEgress: false },
    // In the mesh: the operators call the queue's management API, which accepts only mutual TLS.
    { name: NAMESPACES.rabbitmqOperator, podSecurity: "restricted", injection: true, denyEgress: false },
    {
      name: NAMESPACES.rabbitmq,
      podSecurity: "baseline",
      reason: "the operator's RabbitMQ pods set no seccomp profile and keep default capabilities",
      injection: true,
      denyEgress: true,
    },
    { name: appNamespace, podSecurity: "restricted", injection: true, denyEgress: true },
  ];
}

/** Labels of a namespace: PSA enforce/audit/warn at its level, and Istio injection when planned. */
export function namespaceLabels(plan: NamespacePlan): Record<string, string> {
  const labels: Record<string, string> = {
    "pod-security.kubernetes.io/enforce": plan.podSecurity,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/audit": plan.podSecurity,
    "pod-security.kubernetes.io/warn": plan.podSecurity,
  };
  if (plan.injection) labels["istio-injection"] = "enabled";
  return labels;
}

/** A NetworkPolicy peer matching every pod of a namespace (by the label Kubernetes sets on each namespace). */
export function namespacePeer(
  namespace: string,
  podLabels?: Record<string, string>,
): k8sInput.networking.v1.NetworkPolicyPeer {
  return {
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } },
    ...(podLabels ? { podSelector: { matchLabels: podLabels } } : {}),
  };
}

const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP", port }));

/** DNS to CoreDNS in kube-system. */
export const DNS_EGRESS: k8sInput.networking.v1.NetworkPolicyEgressRule = {
  to: [namespacePeer("kube-system", { "k8s-app": "kube-dns" })],
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};

/** Sidecars fetch configuration and certificates from istiod (xDS on 15012; 15017 is its injection webhook). */
export const ISTIOD_EGRESS: k8sInput.networking.v1.NetworkPolicyEgressRule = {
  to: [namespacePeer(NAMESPACES.istio, { app: "istiod" })],
  ports: tcp(15012, 15017),
};

/** One allowance added to a namespace's default deny. */
export interface TrafficAllowance {
  /** Policy name suffix, unique within the namespace. */
  name: string;
  /** Namespace the policy lives in. */
  namespace: string;
  /** Pods the policy applies to; default: all pods of the namespace. */
  podSelector?: Record<string, string>;
  /** Allowed incoming traffic. */
  ingress?: k8sInput.networking.v1.NetworkPolicyIngressRule[];
  /** Allowed outgoing traffic. */
  egress?: k8sInput.networking.v1.NetworkPolicyEgressRule[];
}

/**
 * Declares a NetworkPolicy that opens `allowance` on top of a namespace's default deny. Other components use
 * it for their namespace-specific flows (e.g. a service that must reach an external endpoint).
 */
export function allowTraffic(
  resourceName: string,
  allowance: TrafficAllowance,
  opts: pulumi.CustomResourceOptions,
): k8s.networking.v1.NetworkPolicy {
  const policyTypes = [...(allowance.ingress ? ["Ingress"] : []), ...(allowance.egress ? ["Egress"] : [])];
  if (policyTypes.length === 0) throw new Error(`allowTraffic ${resourceName}: give ingress or egress rules`);
  return new k8s.networking.v1.NetworkPolicy(
    resourceName,
    {
      metadata: { name: `allow-${allowance.name}`, namespace: allowance.namespace },
      spec: {
        podSelector: allowance.podSelector ? { matchLabels: allowance.podSelector } : {},
        policyTypes,
        ...(allowance.ingress ? { ingress: allowance.ingress } : {}),
        ...(allowance.egress ? { egress: allowance.egress } : {}),
      },
    },
    opts,
  );
}

/** The allowances every estate namespace gets on top of its default deny. */
export function baselineAllowances(plan: NamespacePlan, appNamespace: string): TrafficAllowance[] {
  const ns = plan.name;
  const allowances: TrafficAllowance[] = [
    { name: "same-namespace", namespace: ns, ingress: [{ from: [{ podSelector: {} }] }] },
    // Prometheus scrapes every namespace's exporters and sidecars (merged metrics on 15020).
    { name: "monitoring-scrape", namespace: ns, ingress: [{ from: [namespacePeer(NAMESPACES.monitoring)] }] },
  ];
  if (plan.denyEgress) {
    allowances.push({
      name: "egress-dns-mesh-same-namespace",
      namespace: ns,
      egress: [DNS_EGRESS, ISTIOD_EGRESS, { to: [{ podSelector: {} }] }],
    });
  }
  if (plan.denyEgress && plan.injection) {
    // Sidecars send their spans to the OpenTelemetry Collector (the mesh's tracing provider).
    allowances.push({
      name: "egress-tracing",
      namespace: ns,
      egress: [
        {
          to: [namespacePeer(OTEL_COLLECTOR.namespace, { ...OTEL_COLLECTOR.podLabels })],
          ports: tcp(OTEL_COLLECTOR.otlpGrpcPort),
        },
      ],
    });
  }
  if (ns === OTEL_COLLECTOR.namespace) {
    // OTLP/gRPC spans from the mesh: the application's and RabbitMQ's sidecars and the ingress gateway.
    allowances.push({
      name: "otlp-from-mesh",
      namespace: ns,
      podSelector: { ...OTEL_COLLECTOR.podLabels },
      ingress: [
        {
          from: [appNamespace, NAMESPACES.rabbitmq, NAMESPACES.ingress, NAMESPACES.rabbitmqOperator].map(
            (n) => namespacePeer(n),
          ),
          ports: tcp(OTEL_COLLECTOR.otlpGrpcPort),
        },
      ],
    });
  }
  if (ns === NAMESPACES.rabbitmqOperator) {
    // The API server calls the messaging topology operator's admission webhook (container port 9443).
    allowances.push({
      name: "topology-webhook",
      namespace: ns,
      podSelector: { "app.kubernetes.io/component": "messaging-topology-operator" },
      ingress: [{ ports: tcp(9443) }],
    });
  }
  if (ns === NAMESPACES.istio) {
    // The API server (no pod identity) calls istiod's webhook on 15017; sidecars everywhere connect to 15012.
    allowances.push({
      name: "istiod",
      namespace: ns,
      podSelector: { app: "istiod" },
      ingress: [{ ports: tcp(15012, 15017, 15014) }],
    });
  }
  if (ns === NAMESPACES.ingress) {
    // Front Door reaches the gateway through the Private Link Service: sources are NATed addresses of the ingress subnet.
    allowances.push({
      name: "gateway-traffic",
      namespace: ns,
      ingress: [{ ports: tcp(80, 443, 8080, 8443, 15021) }],
    });
  }
  if (ns === NAMESPACES.certManager) {
    // The API server calls cert-manager's admission webhook.
    allowances.push({
      name: "webhook",
      namespace: ns,
      podSelector: { "app.kubernetes.io/component": "webhook" },
      ingress: [{ ports: tcp(10250) }],
    });
  }
  if (ns === appNamespace) {
    allowances.push(
      { name: "ingress-gateway", namespace: ns, ingress: [{ from: [namespacePeer(NAMESPACES.ingress)] }] },
      // flagger-loadtester drives canary load and acceptance tests against the services.
      {
        name: "loadtester",
        namespace: ns,
        ingress: [{ from: [namespacePeer(NAMESPACES.flagger, { app: "loadtester" })] }],
      },
      {
        name: "egress-rabbitmq",
        namespace: ns,
        egress: [{ to: [namespacePeer(NAMESPACES.rabbitmq)], ports: tcp(5672, 5671) }],
      },
    );
  }
  if (ns === NAMESPACES.rabbitmq) {
    allowances.push(
      {
        name: "app-clients",
        namespace: ns,
        ingress: [{ from: [namespacePeer(appNamespace)], ports: tcp(5672, 5671) }],
      },
      // The cluster operator reconciles users and plugins through the management API.
      {
        name: "operator",
        namespace: ns,
        ingress: [{ from: [namespacePeer(NAMESPACES.rabbitmqOperator)], ports: tcp(15672) }],
      },
    );
  }
  return allowances;
}

export interface NamespacesArgs {
  /** The application namespace, `appNamespace(settings)`. */
  appNamespace: string;
  /** Outgoing flows of the application namespace beyond DNS, the mesh and RabbitMQ (data tier, Azure APIs). */
  appEgress: k8sInput.networking.v1.NetworkPolicyEgressRule[];
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
}

/** The estate's namespaces with Pod Security Admission labels, Istio injection and default-deny NetworkPolicies. */
export class Namespaces extends pulumi.ComponentResource {
  /** Namespace objects by name, for `dependsOn`. */
  public readonly namespaces: Record<string, k8s.core.v1.Namespace>;
  /** Names of the namespaces declared. */
  public readonly names: string[];

  constructor(name: string, args: NamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:platform:Namespaces", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    this.namespaces = {};
    for (const plan of namespacePlan(args.appNamespace)) {
      const ns = new k8s.core.v1.Namespace(
        `${name}-${plan.name}`,
        {
          metadata: {
            name: plan.name,
            labels: namespaceLabels(plan),
            ...(plan.reason ? { annotations: { "aiwp.io/pod-security-reason": plan.reason } } : {}),
          },
        },
        childOpts,
      );
      this.namespaces[plan.name] = ns;
      const nsOpts = { ...childOpts, dependsOn: [ns] };
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${plan.name}-default-deny`,
        {
          metadata: { name: "default-deny", namespace: plan.name },
          spec: { podSelector: {}, policyTypes: plan.denyEgress ? ["Ingress", "Egress"] : ["Ingress"] },
        },
        nsOpts,
      );
      for (const allowance of baselineAllowances(plan, args.appNamespace)) {
        allowTraffic(`${name}-${plan.name}-${allowance.name}`, allowance, nsOpts);
      }
      if (plan.name === args.appNamespace && args.appEgress.length > 0) {
        allowTraffic(
          `${name}-${plan.name}-egress-platform`,
          { name: "egress-platform", namespace: plan.name, egress: args.appEgress },
          nsOpts,
        );
      }
    }
    this.names = Object.keys(this.namespaces);
    this.registerOutputs({ names: this.names });
  }
}

/**
 * Outgoing flows of the application namespace to the data tier and Azure: HTTPS anywhere outside the cluster's
 * own ranges (Entra ID token exchange, Key Vault, Storage, AI Search through private endpoints), PostgreSQL and
 * Redis inside the VNet.
 */
export function appEgressRules(
  vnet: string,
  clusterRanges: string[],
): k8sInput.networking.v1.NetworkPolicyEgressRule[] {
  return [
    { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: clusterRanges } }], ports: tcp(443) },
    { to: [{ ipBlock: { cidr: vnet } }], ports: tcp(5432, 6380, 10000) },
  ];
}
