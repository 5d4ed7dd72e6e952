/**
 * Reading Kubernetes objects as Pulumi registers them: the type token is `kubernetes:<group>/<version>:<Kind>`
 * (core objects use the group `core`; typed custom resources use their own group) and the props are the object.
 */

import type { Props } from "./props";

export type { Props };

/** Group and kind of a Kubernetes type token, or undefined for anything else. */
export function kindOf(type: string): { group: string; version: string; kind: string } | undefined {
  const match = /^kubernetes:([^:/]+)\/([^:/]+):([A-Za-z]+)$/.exec(type);
  if (!match) return undefined;
  return { group: match[1], version: match[2], kind: match[3] };
}

/** Whether `type` is the Kubernetes kind `group/kind`, whatever its version. */
export function isKind(type: string, group: string, kind: string): boolean {
  const parsed = kindOf(type);
  return parsed !== undefined && parsed.group === group && parsed.kind === kind;
}

/** Workload kinds that carry a pod template, with the path to it. */
const POD_TEMPLATES: Record<string, (props: Props) => Props | undefined> = {
  "apps/Deployment": (p) => p.spec?.template?.spec,
  "apps/StatefulSet": (p) => p.spec?.template?.spec,
  "apps/DaemonSet": (p) => p.spec?.template?.spec,
  "apps/ReplicaSet": (p) => p.spec?.template?.spec,
  "batch/Job": (p) => p.spec?.template?.spec,
  "batch/CronJob": (p) => p.spec?.jobTemplate?.spec?.template?.spec,
  "core/Pod": (p) => p.spec,
};

/** Long-running workloads: the ones that must have probes and replicas. */
export const SERVING_KINDS = ["apps/Deployment", "apps/StatefulSet", "apps/DaemonSet"];

function key(type: string): string | undefined {
  const parsed = kindOf(type);
  return parsed && `${parsed.group}/${parsed.kind}`;
}

/** Whether the type is a workload with a pod template. */
export function isWorkload(type: string): boolean {
  const k = key(type);
  return k !== undefined && k in POD_TEMPLATES;
}

/** Whether the type is a long-running workload (Deployment, StatefulSet, DaemonSet). */
export function isServingWorkload(type: string): boolean {
  const k = key(type);
  return k !== undefined && SERVING_KINDS.includes(k);
}

export interface Container {
  name?: string;
  image?: string;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  securityContext?: Props;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
}

/** The pod spec of a workload, or undefined when the type has none. */
export function podSpecOf(type: string, props: Props): Props | undefined {
  const k = key(type);
  return k && POD_TEMPLATES[k] ? POD_TEMPLATES[k](props) : undefined;
}

/** Every container of a pod spec, regular and init, each with what it is. */
export function containersOf(podSpec: Props | undefined): { container: Container; init: boolean }[] {
  if (!podSpec) return [];
  return [
    ...((podSpec.initContainers ?? []) as Container[]).map((container) => ({ container, init: true })),
    ...((podSpec.containers ?? []) as Container[]).map((container) => ({ container, init: false })),
  ];
}

/** "<namespace>/<name>" of an object (namespace "default" when unset). */
export function objectRef(props: Props): string {
  return `${props.metadata?.namespace ?? "default"}/${props.metadata?.name ?? "?"}`;
}

/** Whether a label selector (matchLabels and matchExpressions) selects the given labels. */
export function selects(selector: Props | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  const matchLabels = (selector.matchLabels ?? {}) as Record<string, string>;
  const expressions = (selector.matchExpressions ?? []) as {
    key: string;
    operator: string;
    values?: string[];
  }[];
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return true;
  for (const [k, v] of Object.entries(matchLabels)) if (have[k] !== v) return false;
  for (const e of expressions) {
    const value = have[e.key];
    const values = e.values ?? [];
    if (e.operator === "In" && (value === undefined || !values.includes(value))) return false;
    if (e.operator === "NotIn" && value !== undefined && values.includes(value)) return false;
    if (e.operator === "Exists" && value === undefined) return false;
    if (e.operator === "DoesNotExist" && value !== undefined) return false;
  }
  return true;
}

/** A declared Kubernetes object in a stack check. */
export interface K8sObject {
  urn: string;
  props: Props;
  /** "<namespace>/<name>" */
  ref: string;
  namespace: string;
  name: string;
}

/** The stack's objects of one kind (any version). */
export function objectsOf(
  resources: { type: string; urn: string; props: Props }[],
  group: string,
  kind: string,
): K8sObject[] {
  return resources
    .filter((r) => isKind(r.type, group, kind))
    .map((r) => ({
      urn: r.urn,
      props: r.props,
      ref: objectRef(r.props),
      namespace: r.props.metadata?.namespace ?? "default",
      name: r.props.metadata?.name ?? "?",
    }));
}

/** Labels Flagger uses to identify a workload; it appends "-primary" to the first one present on the primary. */
const FLAGGER_SELECTOR_LABELS = ["app", "name", "app.kubernetes.io/name"];

/**
 * The pod labels that serve traffic for a workload. For a Deployment that a Flagger Canary targets, traffic
 * is served by the `<name>-primary` copy whose selector label value carries the `-primary` suffix.
 */
export function servingPodLabels(workload: K8sObject, canaried: boolean): Record<string, string> {
  const labels = { ...((workload.props.spec?.template?.metadata?.labels ?? {}) as Record<string, string>) };
  if (canaried) {
    const key = FLAGGER_SELECTOR_LABELS.find((k) => labels[k] !== undefined);
    if (key) labels[key] = `${labels[key]}-primary`;
  }
  return labels;
}

/** "<namespace>/<name>" of every Deployment a Flagger Canary targets. */
export function canaryTargets(resources: { type: string; urn: string; props: Props }[]): Set<string> {
  const targets = new Set<string>();
  for (const canary of objectsOf(resources, "flagger.app", "Canary")) {
    const target = canary.props.spec?.targetRef;
    if (target?.name && (target.kind ?? "Deployment") === "Deployment")
      targets.add(`${canary.namespace}/${target.name}`);
  }
  return targets;
}

/** Whether a PodDisruptionBudget in the workload's namespace selects the pods that serve its traffic. */
export function hasPdb(
  resources: { type: string; urn: string; props: Props }[],
  workload: K8sObject,
  canaried: boolean,
): boolean {
  const labels = servingPodLabels(workload, canaried);
  return objectsOf(resources, "policy", "PodDisruptionBudget").some(
    (pdb) => pdb.namespace === workload.namespace && selects(pdb.props.spec?.selector, labels),
  );
}

/** The autoscalers (HPA or KEDA ScaledObject) that target a workload. */
export function autoscalersOf(
  resources: { type: string; urn: string; props: Props }[],
  workload: K8sObject,
  kind: string,
): K8sObject[] {
  const hpas = objectsOf(resources, "autoscaling", "HorizontalPodAutoscaler").filter((h) => {
    const ref = h.props.spec?.scaleTargetRef ?? {};
    return h.namespace === workload.namespace && ref.kind === kind && ref.name === workload.name;
  });
  const scaled = objectsOf(resources, "keda.sh", "ScaledObject").filter((s) => {
    const ref = s.props.spec?.scaleTargetRef ?? {};
    return (
      s.namespace === workload.namespace && (ref.kind ?? "Deployment") === kind && ref.name === workload.name
    );
  });
  return [...hpas, ...scaled];
}

/** The Canaries of a stack with the Deployment each targets (which may be missing). */
export function canaries(
  resources: { type: string; urn: string; props: Props }[],
): { canary: K8sObject; target?: K8sObject }[] {
  const deployments = objectsOf(resources, "apps", "Deployment");
  return objectsOf(resources, "flagger.app", "Canary").map((canary) => ({
    canary,
    target: deployments.find(
      (d) => d.namespace === canary.namespace && d.name === canary.props.spec?.targetRef?.name,
    ),
  }));
}
