/**
 * The enforcing layers derived from the cluster's wiring table (lib/wiring/cluster.ts): NetworkPolicies, the
 * PeerAuthentication exceptions and the AuthorizationPolicy rules. Components declare what these return; nothing
 * here declares a resource.
 */
import {
  flowPorts,
  serviceWorkload,
  type ClusterEndpoint,
  type ClusterFlow,
  type ClusterWiring,
  type Workload,
} from "./cluster";

export interface NetworkPolicyManifest {
  /** Object name, unique in its namespace. */
  name: string;
  namespace: string;
  spec: NetworkPolicySpec;
  /** Ids of the flows behind its rules, in rule order. */
  flows: string[];
}

/** A NetworkPolicy spec (networking.k8s.io/v1) with one direction's rules. */
export interface NetworkPolicySpec {
  podSelector: { matchLabels?: Record<string, string> };
  policyTypes: string[];
  ingress?: NetworkPolicyRule[];
  egress?: NetworkPolicyRule[];
}

interface NetworkPolicyPeer {
  namespaceSelector?: { matchLabels: Record<string, string> };
  podSelector?: { matchLabels: Record<string, string> };
  ipBlock?: { cidr: string; except?: string[] };
}

export interface NetworkPolicyRule {
  from?: NetworkPolicyPeer[];
  to?: NetworkPolicyPeer[];
  ports?: { protocol: string; port?: number }[];
}

/** Annotation on a derived NetworkPolicy listing the flow behind each rule, in order. */
export const FLOWS_ANNOTATION = "aiwp.io/wiring-flows";

const NS_LABEL = "kubernetes.io/metadata.name";

/** An object-name-safe form of a workload reference ("service:api-gateway" -> "service-api-gateway"). */
export function objectName(reference: string): string {
  return reference.replace(/[^a-z0-9-]/g, "-");
}

function endpointNamespace(
  end: ClusterEndpoint,
  workloads: Readonly<Record<string, Workload>>,
): string | undefined {
  if ("workload" in end) return workloads[end.workload].namespace;
  if ("namespace" in end) return end.namespace;
  return undefined;
}

function podSelector(
  end: ClusterEndpoint,
  workloads: Readonly<Record<string, Workload>>,
): NetworkPolicySpec["podSelector"] {
  return "workload" in end ? { matchLabels: { ...workloads[end.workload].labels } } : {};
}

/** The NetworkPolicy peer an endpoint stands for; undefined means every source (no `from`/`to`). */
function peerOf(
  end: ClusterEndpoint,
  workloads: Readonly<Record<string, Workload>>,
): NetworkPolicyPeer | undefined {
  if ("address" in end) {
    if (!end.cidr) return undefined;
    return { ipBlock: { cidr: end.cidr, ...(end.except?.length ? { except: [...end.except] } : {}) } };
  }
  const namespace = endpointNamespace(end, workloads)!;
  return {
    namespaceSelector: { matchLabels: { [NS_LABEL]: namespace } },
    ...("workload" in end ? { podSelector: { matchLabels: { ...workloads[end.workload].labels } } } : {}),
  };
}

function portsOf(flow: ClusterFlow): NetworkPolicyRule["ports"] {
  if (flow.ports === "any") return flow.protocol === "Any" ? undefined : [{ protocol: flow.protocol }];
  const protocols = flow.protocol === "Any" ? ["UDP", "TCP"] : [flow.protocol];
  return protocols.flatMap((protocol) => flowPorts(flow).map((port) => ({ protocol, port })));
}

/**
 * The NetworkPolicies that open the table's required flows on top of each namespace's default deny: for every
 * flow an ingress rule at its destination (in an estate namespace) and, where the source's namespace denies
 * egress, an egress rule at its source. One policy per destination (or source) workload, one rule per flow.
 */
export function networkPolicies(
  wiring: ClusterWiring,
  estateNamespaces: readonly string[],
): NetworkPolicyManifest[] {
  const { workloads } = wiring;
  const policies = new Map<string, NetworkPolicyManifest>();
  const add = (
    key: string,
    namespace: string,
    name: string,
    selector: NetworkPolicySpec["podSelector"],
    direction: "ingress" | "egress",
    rule: NetworkPolicyRule,
    flow: string,
  ) => {
    let policy = policies.get(key);
    if (!policy) {
      policy = {
        name,
        namespace,
        spec: {
          podSelector: selector,
          policyTypes: [direction === "ingress" ? "Ingress" : "Egress"],
          [direction]: [],
        },
        flows: [],
      };
      policies.set(key, policy);
    }
    policy.spec[direction]!.push(rule);
    policy.flows.push(flow);
  };
  const label = (end: ClusterEndpoint) =>
    "workload" in end ? objectName(end.workload) : "namespace" in end ? "namespace" : objectName(end.address);
  for (const flow of wiring.table.required) {
    const ports = portsOf(flow);
    const dstNs = endpointNamespace(flow.to, workloads);
    if (dstNs && estateNamespaces.includes(dstNs)) {
      const from = peerOf(flow.from, workloads);
      const name = `wiring-in-${label(flow.to)}`;
      add(
        `${dstNs}/${name}`,
        dstNs,
        name,
        podSelector(flow.to, workloads),
        "ingress",
        {
          ...(from ? { from: [from] } : {}),
          ...(ports ? { ports } : {}),
        },
        flow.id,
      );
    }
    const srcNs = endpointNamespace(flow.from, workloads);
    if (srcNs && wiring.egressDenied.includes(srcNs)) {
      const to = peerOf(flow.to, workloads);
      const name = `wiring-out-${label(flow.from)}`;
      add(
        `${srcNs}/${name}`,
        srcNs,
        name,
        podSelector(flow.from, workloads),
        "egress",
        {
          ...(to ? { to: [to] } : {}),
          ...(ports ? { ports } : {}),
        },
        flow.id,
      );
    }
  }
  return [...policies.values()];
}

/** PeerAuthentications that let a non-mesh client reach a meshed server: port-level PERMISSIVE where a port is named. */
export function permissivePeerAuthentications(
  wiring: ClusterWiring,
): { name: string; namespace: string; spec: Record<string, unknown>; workload: string; reason: string }[] {
  return wiring.permissive.map((p) => ({
    name: `permissive-${objectName(p.workload)}`,
    namespace: p.namespace,
    workload: p.workload,
    reason: p.reason,
    spec: {
      selector: { matchLabels: { ...p.labels } },
      ...(p.port === undefined
        ? { mtls: { mode: "PERMISSIVE" } }
        : { portLevelMtls: { [String(p.port)]: { mode: "PERMISSIVE" } } }),
    },
  }));
}

/** The AuthorizationPolicy source of a flow's client: its principal, or its namespace for a namespace-wide flow. */
function sourceOf(
  end: ClusterEndpoint,
  workloads: Readonly<Record<string, Workload>>,
  appNamespace: string,
): Record<string, unknown> | undefined {
  if ("workload" in end) {
    const wl = workloads[end.workload];
    // A catalogue service unknown to the given workloads still runs as its own account in the app namespace.
    const [namespace, account] = wl
      ? [wl.namespace, wl.serviceAccount]
      : [appNamespace, end.workload.replace(/^service:/, "")];
    return { principals: [`cluster.local/ns/${namespace}/sa/${account}`] };
  }
  if ("namespace" in end) return { namespaces: [end.namespace] };
  return undefined;
}

/**
 * ALLOW rules for a workload from the flows that reach it: one rule per flow, its client's principal (or
 * namespace) and the operations the flow is granted.
 */
export function authorizationRules(
  flows: readonly ClusterFlow[],
  workloads: Readonly<Record<string, Workload>>,
  appNamespace: string,
): Record<string, unknown>[] {
  const rules: Record<string, unknown>[] = [];
  for (const flow of flows) {
    const source = sourceOf(flow.from, workloads, appNamespace);
    if (!source) continue;
    const to = (flow.allow ?? []).map((op) => ({
      operation: {
        ...(op.methods.length ? { methods: [...op.methods] } : {}),
        ...(op.paths.length ? { paths: [...op.paths] } : {}),
      },
    }));
    rules.push({ from: [{ source }], ...(to.length ? { to } : {}) });
  }
  return rules;
}

/** The required flows whose destination is a catalogue service. */
export function flowsTo(wiring: Pick<ClusterWiring, "table">, workload: string): ClusterFlow[] {
  return wiring.table.required.filter((f) => "workload" in f.to && f.to.workload === workload);
}

export { serviceWorkload };

/**
 * DENY rules for a data namespace: mesh identities from namespaces that no required flow brings there are denied;
 * on the ports that accept plain text (permissive exceptions), only clients that present another namespace's
 * identity are (a plain-text client has none; NetworkPolicy decides who reaches those ports).
 */
export function dataNamespaceDenyRules(wiring: ClusterWiring, namespace: string): Record<string, unknown>[] {
  const { workloads } = wiring;
  const allowed = new Set<string>([namespace]);
  for (const flow of wiring.table.required) {
    if (!("workload" in flow.to) || workloads[flow.to.workload].namespace !== namespace) continue;
    const from = flow.from;
    if ("workload" in from && (workloads[from.workload].sidecar || flow.clientCertificate))
      allowed.add(workloads[from.workload].namespace);
    if ("namespace" in from && wiring.injectedNamespaces.includes(from.namespace))
      allowed.add(from.namespace);
  }
  const notNamespaces = [...allowed].sort();
  const plainPorts = [
    ...new Set(
      wiring.permissive
        .filter((p) => p.namespace === namespace && p.port !== undefined)
        .map((p) => String(p.port)),
    ),
  ].sort();
  if (plainPorts.length === 0) return [{ from: [{ source: { notNamespaces } }] }];
  return [
    { from: [{ source: { notNamespaces } }], to: [{ operation: { notPorts: plainPorts } }] },
    { from: [{ source: { principals: ["*"], notNamespaces } }], to: [{ operation: { ports: plainPorts } }] },
  ];
}
