/**
 * The estate's pod priorities: which pods the scheduler keeps, and which it preempts, when a pool runs out
 * of room. One table: the component declares each class, services and chart values refer to it by name.
 *
 * Order, highest first: the mesh every request crosses (istiod, the ingress gateway), the platform that
 * runs, observes, releases and protects the services (monitoring, Flagger and its load tester,
 * cert-manager, Velero, RabbitMQ, the tracing collector), the revenue path (api-gateway, auth-service),
 * then the other services. Pods of DaemonSets on every node (node-exporter) are platform pods, so they
 * can still land on a node full of services.
 *
 * None is `globalDefault`: a pod nobody classified (an ad-hoc Job, a debug pod) keeps priority 0 and is
 * the first to go, rather than silently competing with the catalogue.
 *
 * The classes are user classes (value below 1e9), admitted in any namespace. The built-in
 * `system-cluster-critical` and `system-node-critical` are left to the cluster's own add-ons: an API
 * server can limit them to namespaces that hold a matching ResourceQuota (ResourceQuota admission
 * `limitedResources`, "Limit Priority Class consumption by default" in the Kubernetes docs), which
 * is why the mesh's CNI release, whose DaemonSet hard-codes system-node-critical (istio cni chart
 * 1.29 templates/daemonset.yaml), brings its own quota (`resourceQuotas.enabled`).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { ServiceSettings } from "../settings";

export interface PriorityClassSpec {
  /** Object name, referenced by `priorityClassName`. */
  name: string;
  /** Priority value; higher preempts lower. */
  value: number;
  /** What the class is for (shown by `kubectl get priorityclass`). */
  description: string;
}

/** The estate's PriorityClasses, highest first. */
export const PRIORITY_CLASSES = {
  mesh: {
    name: "aiwp-mesh-critical",
    value: 1_000_000,
    description: "Istio control plane and ingress gateway: every request and every new pod depends on them.",
  },
  platform: {
    name: "aiwp-platform",
    value: 900_000,
    description:
      "Platform services: monitoring, progressive delivery, certificates, backups, the workflow queue, tracing.",
  },
  revenue: {
    name: "aiwp-revenue",
    value: 500_000,
    description: "The revenue path of the catalogue: api-gateway and auth-service.",
  },
  standard: {
    name: "aiwp-service",
    value: 100_000,
    description: "The other services of the catalogue.",
  },
} as const satisfies Record<string, PriorityClassSpec>;

/** Highest value a user-defined PriorityClass may have (larger values are reserved for system classes). */
export const MAX_USER_PRIORITY = 1_000_000_000;

/** The PriorityClass of a catalogue service. */
export function servicePriorityClass(svc: Pick<ServiceSettings, "priority">): string {
  return PRIORITY_CLASSES[svc.priority].name;
}

export interface PriorityClassesArgs {
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
}

/** Declares every class of PRIORITY_CLASSES (cluster-scoped). */
export class PriorityClasses extends pulumi.ComponentResource {
  /** Class names by tier. */
  public readonly names: Record<keyof typeof PRIORITY_CLASSES, string>;

  constructor(name: string, args: PriorityClassesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:platform:PriorityClasses", name, {}, opts);
    for (const [tier, spec] of Object.entries(PRIORITY_CLASSES)) {
      if (spec.value > MAX_USER_PRIORITY || spec.name.startsWith("system-")) {
        throw new Error(
          `PriorityClasses ${name}: ${tier} must be a user class (value <= 1e9, no system- prefix)`,
        );
      }
      new k8s.scheduling.v1.PriorityClass(
        `${name}-${tier}`,
        {
          metadata: { name: spec.name },
          value: spec.value,
          globalDefault: false,
          preemptionPolicy: "PreemptLowerPriority",
          description: spec.description,
        },
        { parent: this, provider: args.provider },
      );
    }
    this.names = Object.fromEntries(
      Object.entries(PRIORITY_CLASSES).map(([tier, spec]) => [tier, spec.name]),
    ) as Record<keyof typeof PRIORITY_CLASSES, string>;
    this.registerOutputs({ names: this.names });
  }
}
