import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { NAMESPACES } from "../lib/names";
import type { ClusterWiring } from "../lib/wiring/cluster";
import { FLOWS_ANNOTATION, networkPolicies } from "../lib/wiring/layers";

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
      podSecurity: "privileged",
      reason:
        "Velero's node agent (DaemonSet) mounts the kubelet's pod volumes through hostPath to back them up with Kopia",
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

export interface NamespacesArgs {
  /** The application namespace, `appNamespace(settings)`. */
  appNamespace: string;
  /** The cluster's wiring table (`clusterWiring(settings)`): its required flows become the NetworkPolicies. */
  wiring: ClusterWiring;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
}

/**
 * The estate's namespaces with Pod Security Admission labels and Istio injection, each denying by default, with
 * the NetworkPolicies the wiring table derives on top (lib/wiring/layers.ts networkPolicies).
 */
export class Namespaces extends pulumi.ComponentResource {
  /** Namespace objects by name, for `dependsOn`. */
  public readonly namespaces: Record<string, k8s.core.v1.Namespace>;
  /** Names of the namespaces declared. */
  public readonly names: string[];

  constructor(name: string, args: NamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:platform:Namespaces", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    this.namespaces = {};
    const plans = namespacePlan(args.appNamespace);
    for (const plan of plans) {
      // The table derives egress and mTLS rules from these two facts: the plan must say the same.
      if (plan.injection !== args.wiring.injectedNamespaces.includes(plan.name))
        throw new Error(`Namespaces ${name}: ${plan.name}'s injection disagrees with the wiring table`);
      if (plan.denyEgress !== args.wiring.egressDenied.includes(plan.name))
        throw new Error(`Namespaces ${name}: ${plan.name}'s egress default disagrees with the wiring table`);
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
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${plan.name}-default-deny`,
        {
          metadata: { name: "default-deny", namespace: plan.name },
          spec: { podSelector: {}, policyTypes: plan.denyEgress ? ["Ingress", "Egress"] : ["Ingress"] },
        },
        { ...childOpts, dependsOn: [ns] },
      );
    }
    for (const policy of networkPolicies(
      args.wiring,
      plans.map((p) => p.name),
    )) {
      new k8s.networking.v1.NetworkPolicy(
        `${name}-${policy.namespace}-${policy.name}`,
        {
          metadata: {
            name: policy.name,
            namespace: policy.namespace,
            annotations: { [FLOWS_ANNOTATION]: policy.flows.join(", ") },
          },
          spec: policy.spec,
        },
        { ...childOpts, dependsOn: [this.namespaces[policy.namespace]] },
      );
    }
    this.names = Object.keys(this.namespaces);
    this.registerOutputs({ names: this.names });
  }
}
