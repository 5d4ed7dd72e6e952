/**
 * Reading Kubernetes objects as Pulumi registers them: the type token is `kubernetes:<group>/<version>:<Kind>`
 * (core objects use the group `core`; typed custom resources use their own group) and the props are the object.
 */

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
const POD_TEMPLATES: Record<string, (props: any) => any> = {
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
  securityContext?: Record<string, any>;
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  startupProbe?: unknown;
}

/** The pod spec of a workload, or undefined when the type has none. */
export function podSpecOf(type: string, props: Record<string, any>): Record<string, any> | undefined {
  const k = key(type);
  return k && POD_TEMPLATES[k] ? POD_TEMPLATES[k](props) : undefined;
}

/** Every container of a pod spec, regular and init, each with what it is. */
export function containersOf(podSpec: Record<string, any> | undefined): { container: Container; init: boolean }[] {
  if (!podSpec) return [];
  return [
    ...((podSpec.initContainers ?? []) as Container[]).map((container) => ({ container, init: true })),
    ...((podSpec.containers ?? []) as Container[]).map((container) => ({ container, init: false })),
  ];
}

/** "<namespace>/<name>" of an object (namespace "default" when unset). */
export function objectRef(props: Record<string, any>): string {
  return `${props.metadata?.namespace ?? "default"}/${props.metadata?.name ?? "?"}`;
}

/** Whether a label selector (matchLabels and matchExpressions) selects the given labels. */
export function selects(selector: Record<string, any> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const have = labels ?? {};
  const matchLabels = (selector.matchLabels ?? {}) as Record<string, string>;
  const expressions = (selector.matchExpressions ?? []) as { key: string; operator: string; values?: string[] }[];
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
