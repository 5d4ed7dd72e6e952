/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML, and every field is read defensively */
/**
 * Evaluates the cluster's wiring table against the estate as it would run: the program's objects together with
 * every chart's rendered objects (and the pods the operators create from their custom resources). Pure: no
 * Pulumi, no cluster. Each flow is decided per pair of pods and per port by each layer with its own rules:
 *
 * - NetworkPolicy (networking.k8s.io/v1): a pod that no policy of a type selects is open for that type; egress is
 *   checked at the source, ingress at the destination; rules are ORed, a rule's peers and ports must both match;
 *   podSelector alone is the policy's namespace, namespaceSelector alone every pod of the selected namespaces,
 *   both together their intersection; ports by number or by the destination container's port name, with endPort;
 *   protocol defaults to TCP. Assumptions (Cilium, AKS): ipBlock never selects pod addresses, and host-network
 *   pods are not subject to NetworkPolicy; a source with no known address (the API server through konnectivity)
 *   is admitted only by a rule without peers.
 * - Sidecar injection as istiod 1.29's webhook decides (istiod chart templates/mutatingwebhook.yaml): the
 *   webhooks' namespace and object selectors as rendered (built in when the object set carries none), never for
 *   host-network pods or kube-system/kube-public (pkg/kube/inject/webhook.go injectRequired), and the pod's
 *   `sidecar.istio.io/inject` label or annotation.
 * - PeerAuthentication: workload selector over namespace over mesh-wide (root namespace istio-system), portLevelMtls
 *   on the destination container port; STRICT refuses a client that presents no mesh certificate. Ports outside the
 *   sidecar's inbound capture (15020, 15021, 15090, excludeInboundPorts, includeInboundPorts) bypass it.
 * - AuthorizationPolicy: CUSTOM, then DENY, then ALLOW; a workload selected by any ALLOW policy denies what none
 *   matches; principals and namespaces need mTLS (a plain-text peer has neither, so notNamespaces matches it);
 *   HTTP fields on a TCP flow void an ALLOW rule and are ignored in a DENY rule. `when`, request principals, IP
 *   blocks and hosts are not evaluated: such a condition counts as matching wherever that is the pessimistic
 *   reading (DENY for a required flow, ALLOW for a forbidden one), and the decision says so.
 */
import {
  KUBE_APISERVER,
  MESH_ROOT_NAMESPACE,
  SIDECAR_PORTS,
  flowPorts,
  type ClusterEndpoint,
  type ClusterFlow,
  type ClusterWiring,
  type Workload,
} from "./cluster";
import type { Decision } from "./types";

/** One object of the estate: the manifest and where it comes from (program, or the chart release). */
export interface ClusterObject {
  source: string;
  manifest: any;
}

type Labels = Record<string, string>;

/** A pod template as it will run. */
export interface PodTemplate {
  /** "<Kind> <namespace>/<name>" of the object that creates the pods. */
  ref: string;
  source: string;
  namespace: string;
  labels: Labels;
  annotations: Labels;
  serviceAccount: string;
  hostNetwork: boolean;
  /** Whether the pods get a Kubernetes API token (the pod's automountServiceAccountToken, else its account's). */
  token: boolean;
  ports: { name?: string; port: number; protocol: string }[];
  /** Pods created by a controller from a custom resource, or declared by the table (managed add-ons). */
  derived?: string;
}

/** The layers a flow crosses, in order. */
export const LAYERS = ["egress", "ingress", "mtls", "authz", "token"] as const;
export type Layer = (typeof LAYERS)[number];

export interface LayerDecision extends Decision {
  layer: Layer;
}

/** One source pod to one destination pod on one port. */
export interface FlowCase {
  from: string;
  to: string;
  port: number;
  protocol: "TCP" | "UDP";
  layers: LayerDecision[];
  allowed: boolean;
}

export interface FlowVerdict {
  flow: ClusterFlow;
  kind: "required" | "forbidden";
  cases: FlowCase[];
  /** Required: every case allowed. Forbidden: every case blocked. */
  ok: boolean;
  /** Why the flow could not be evaluated (an endpoint matching no pod). */
  error?: string;
}

export interface ClusterReport {
  verdicts: FlowVerdict[];
  /** Required flows with a blocked case. */
  blocked: FlowVerdict[];
  /** Forbidden flows with an allowed case. */
  allowed: FlowVerdict[];
  /** Declarations the object set contradicts (a workload without pods, a sidecar that is or is not injected). */
  mismatches: string[];
  ok: boolean;
}

// ---------------------------------------------------------------- selectors

interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label selector semantics; an empty selector selects everything. */
export function selectorMatches(selector: LabelSelector | undefined | null, labels: Labels): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case "In":
        if (!has || !values.includes(labels[e.key])) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[e.key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------- CIDRs

function parseCidr(text: string): { base: number; bits: number } {
  const [addr, len] = text.split("/");
  const octets = addr.split(".").map(Number);
  const bits = len === undefined ? 32 : Number(len);
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { base: value - (value % size), bits };
}
function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return (
    i.bits >= o.bits && Math.floor(i.base / 2 ** (32 - o.bits)) === Math.floor(o.base / 2 ** (32 - o.bits))
  );
}
function cidrsOverlap(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** Whether an ipBlock covers every address of the endpoint (its cidr minus its exceptions). */
function ipBlockCovers(
  block: { cidr: string; except?: string[] },
  address: { cidr?: string; except?: readonly string[] },
): boolean {
  if (!address.cidr || !cidrContains(block.cidr, address.cidr)) return false;
  return (block.except ?? []).every(
    (ex) => !cidrsOverlap(ex, address.cidr!) || (address.except ?? []).some((own) => cidrContains(own, ex)),
  );
}

// ---------------------------------------------------------------- the object set

interface Index {
  namespaces: Map<string, Labels>;
  pods: PodTemplate[];
  networkPolicies: ClusterObject[];
  peerAuthentications: ClusterObject[];
  authorizationPolicies: ClusterObject[];
  injectors: { name: string; namespaceSelector?: LabelSelector; objectSelector?: LabelSelector }[];
}

const ns = (o: ClusterObject): string => o.manifest?.metadata?.namespace ?? "default";
const nameOf = (o: ClusterObject): string => `${o.manifest.kind} ${ns(o)}/${o.manifest.metadata?.name}`;
const group = (apiVersion: string | undefined) => (apiVersion ?? "").split("/")[0];

function containerPorts(spec: any): PodTemplate["ports"] {
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].flatMap((c: any) =>
    (c.ports ?? []).map((p: any) => ({ name: p.name, port: p.containerPort, protocol: p.protocol ?? "TCP" })),
  );
}

/**
 * The pods of the object set: workload controllers' templates, plus the pods operators create from custom
 * resources: prometheus-operator's Prometheus and Alertmanager StatefulSets (pkg/prometheus/server/statefulset.go,
 * pkg/alertmanager/statefulset.go labels), the RabbitMQ cluster operator's StatefulSet (internal/metadata/label.go)
 * and Flagger's `<target>-primary` Deployment (pkg/canary/deployment_controller.go: the template is copied and its
 * `app` selector label becomes `<target>-primary`).
 */
export function podsOf(objects: readonly ClusterObject[]): PodTemplate[] {
  const pods: PodTemplate[] = [];
  const accounts = new Map<string, boolean | undefined>();
  for (const o of objects)
    if (o.manifest?.kind === "ServiceAccount")
      accounts.set(`${ns(o)}/${o.manifest.metadata?.name}`, o.manifest.automountServiceAccountToken);
  // Kubernetes mounts a token unless the pod, or else its service account, says false.
  const token = (namespace: string, spec: any) =>
    (spec?.automountServiceAccountToken ??
      accounts.get(`${namespace}/${spec?.serviceAccountName ?? "default"}`)) !== false;
  const deployments = new Map<string, ClusterObject>();
  for (const o of objects) {
    const m = o.manifest;
    if (!m?.kind) continue;
    const namespace = ns(o);
    const name = m.metadata?.name;
    // The pod template of any workload kind (a CronJob's sits one level deeper; a Pod is its own).
    const template =
      m.kind === "CronJob"
        ? m.spec?.jobTemplate?.spec?.template
        : m.kind === "Pod"
          ? { metadata: m.metadata, spec: m.spec }
          : ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].includes(m.kind)
            ? m.spec?.template
            : undefined;
    // Helm hooks (tests, pre-install jobs) are not part of the running estate.
    const hook = m.metadata?.annotations?.["helm.sh/hook"];
    if (template && !hook) {
      if (m.kind === "Deployment") deployments.set(`${namespace}/${name}`, o);
      const t = template;
      pods.push({
        ref: nameOf(o),
        source: o.source,
        namespace,
        labels: { ...(t.metadata?.labels ?? {}) },
        annotations: { ...(t.metadata?.annotations ?? {}) },
        serviceAccount: t.spec?.serviceAccountName ?? "default",
        hostNetwork: !!t.spec?.hostNetwork,
        token: token(namespace, t.spec),
        ports: containerPorts(t.spec),
      });
    } else if (
      group(m.apiVersion) === "monitoring.coreos.com" &&
      (m.kind === "Prometheus" || m.kind === "Alertmanager")
    ) {
      const prometheus = m.kind === "Prometheus";
      const app = prometheus ? "prometheus" : "alertmanager";
      pods.push({
        ref: `StatefulSet ${namespace}/${app}-${name}`,
        source: o.source,
        namespace,
        labels: {
          "app.kubernetes.io/name": app,
          "app.kubernetes.io/instance": name,
          "app.kubernetes.io/managed-by": "prometheus-operator",
          [app]: name,
          ...(prometheus ? { "operator.prometheus.io/name": name, "operator.prometheus.io/shard": "0" } : {}),
          ...(m.spec?.podMetadata?.labels ?? {}),
        },
        annotations: { ...(m.spec?.podMetadata?.annotations ?? {}) },
        serviceAccount: m.spec?.serviceAccountName ?? "default",
        hostNetwork: false,
        token: true,
        ports: prometheus
          ? [
              { name: "web", port: 9090, protocol: "TCP" },
              { name: "reloader-web", port: 8080, protocol: "TCP" },
            ]
          : [
              { name: "web", port: 9093, protocol: "TCP" },
              { name: "mesh-tcp", port: 9094, protocol: "TCP" },
              { name: "mesh-udp", port: 9094, protocol: "UDP" },
              { name: "reloader-web", port: 8080, protocol: "TCP" },
            ],
        derived: `prometheus-operator from ${nameOf(o)}`,
      });
    } else if (group(m.apiVersion) === "rabbitmq.com" && m.kind === "RabbitmqCluster") {
      pods.push({
        ref: `StatefulSet ${namespace}/${name}-server`,
        source: o.source,
        namespace,
        labels: {
          "app.kubernetes.io/name": name,
          "app.kubernetes.io/component": "rabbitmq",
          "app.kubernetes.io/part-of": "rabbitmq",
        },
        annotations: {},
        serviceAccount: `${name}-server`,
        hostNetwork: false,
        token: true,
        ports: [
          { name: "amqp", port: 5672, protocol: "TCP" },
          { name: "management", port: 15672, protocol: "TCP" },
          { name: "prometheus", port: 15692, protocol: "TCP" },
          { name: "epmd", port: 4369, protocol: "TCP" },
          { name: "cluster-links", port: 25672, protocol: "TCP" },
        ],
        derived: `RabbitMQ cluster operator from ${nameOf(o)}`,
      });
    }
  }
  for (const o of objects) {
    const m = o.manifest;
    if (group(m?.apiVersion) !== "flagger.app" || m.kind !== "Canary") continue;
    const target = deployments.get(`${ns(o)}/${m.spec?.targetRef?.name}`);
    if (!target) continue;
    const primary = `${m.spec.targetRef.name}-primary`;
    const t = target.manifest.spec.template;
    const labels = { ...(t.metadata?.labels ?? {}) };
    if ("app" in labels) labels.app = primary;
    pods.push({
      ref: `Deployment ${ns(o)}/${primary}`,
      source: o.source,
      namespace: ns(o),
      labels,
      annotations: { ...(t.metadata?.annotations ?? {}) },
      serviceAccount: t.spec?.serviceAccountName ?? "default",
      hostNetwork: !!t.spec?.hostNetwork,
      token: token(ns(o), t.spec),
      ports: containerPorts(t.spec),
      derived: `Flagger from ${nameOf(o)}`,
    });
  }
  return pods;
}

/** The webhooks of istiod 1.29's istio-sidecar-injector (default revision), as its chart renders them. */
const DEFAULT_INJECTORS: Index["injectors"] = [
  {
    name: "rev.namespace.sidecar-injector.istio.io",
    namespaceSelector: {
      matchExpressions: [
        { key: "istio.io/rev", operator: "In", values: ["default"] },
        { key: "istio-injection", operator: "DoesNotExist" },
      ],
    },
    objectSelector: {
      matchExpressions: [{ key: "sidecar.istio.io/inject", operator: "NotIn", values: ["false"] }],
    },
  },
  {
    name: "rev.object.sidecar-injector.istio.io",
    namespaceSelector: {
      matchExpressions: [
        { key: "istio.io/rev", operator: "DoesNotExist" },
        { key: "istio-injection", operator: "DoesNotExist" },
      ],
    },
    objectSelector: {
      matchExpressions: [
        { key: "sidecar.istio.io/inject", operator: "NotIn", values: ["false"] },
        { key: "istio.io/rev", operator: "In", values: ["default"] },
      ],
    },
  },
  {
    name: "namespace.sidecar-injector.istio.io",
    namespaceSelector: {
      matchExpressions: [{ key: "istio-injection", operator: "In", values: ["enabled"] }],
    },
    objectSelector: {
      matchExpressions: [{ key: "sidecar.istio.io/inject", operator: "NotIn", values: ["false"] }],
    },
  },
  {
    name: "object.sidecar-injector.istio.io",
    namespaceSelector: {
      matchExpressions: [
        { key: "istio-injection", operator: "DoesNotExist" },
        { key: "istio.io/rev", operator: "DoesNotExist" },
      ],
    },
    objectSelector: {
      matchExpressions: [
        { key: "sidecar.istio.io/inject", operator: "In", values: ["true"] },
        { key: "istio.io/rev", operator: "DoesNotExist" },
      ],
    },
  },
];

const indexes = new WeakMap<readonly ClusterObject[], Index>();

function indexOf(objects: readonly ClusterObject[]): Index {
  const cached = indexes.get(objects);
  if (cached) return cached;
  const of = (g: string, kind: string) =>
    objects.filter((o) => o.manifest?.kind === kind && group(o.manifest.apiVersion) === g);
  const namespaces = new Map<string, Labels>();
  for (const o of objects) {
    if (o.manifest?.kind !== "Namespace") continue;
    const name = o.manifest.metadata.name;
    namespaces.set(name, { ...(o.manifest.metadata.labels ?? {}), "kubernetes.io/metadata.name": name });
  }
  const injectors = objects
    .filter((o) => o.manifest?.kind === "MutatingWebhookConfiguration")
    .flatMap((o) => (o.manifest.webhooks ?? []) as any[])
    .filter((hook) => String(hook.name).endsWith("sidecar-injector.istio.io"))
    .map((hook) => ({
      name: hook.name,
      namespaceSelector: hook.namespaceSelector,
      objectSelector: hook.objectSelector,
    }));
  const index: Index = {
    namespaces,
    pods: podsOf(objects),
    networkPolicies: of("networking.k8s.io", "NetworkPolicy"),
    peerAuthentications: of("security.istio.io", "PeerAuthentication"),
    authorizationPolicies: of("security.istio.io", "AuthorizationPolicy"),
    injectors: injectors.length > 0 ? injectors : DEFAULT_INJECTORS,
  };
  indexes.set(objects, index);
  return index;
}

function namespaceLabels(index: Index, namespace: string): Labels {
  return index.namespaces.get(namespace) ?? { "kubernetes.io/metadata.name": namespace };
}

// ---------------------------------------------------------------- sidecars

/** Whether istiod's injector gives the pod a sidecar, and which webhook (or rule) decides. */
export function sidecarOf(objects: readonly ClusterObject[], pod: PodTemplate): Decision {
  const index = indexOf(objects);
  if (pod.hostNetwork) return { allowed: false, decidedBy: "hostNetwork pods are never injected" };
  if (["kube-system", "kube-public"].includes(pod.namespace))
    return { allowed: false, decidedBy: `istiod never injects ${pod.namespace}` };
  if (pod.derived?.startsWith("table"))
    return { allowed: false, decidedBy: `${pod.ref} is a managed add-on outside the mesh` };
  const nsLabels = namespaceLabels(index, pod.namespace);
  const hook = index.injectors.find(
    (h) => selectorMatches(h.namespaceSelector, nsLabels) && selectorMatches(h.objectSelector, pod.labels),
  );
  if (!hook)
    return {
      allowed: false,
      decidedBy: `no sidecar-injector webhook selects namespace ${pod.namespace} and the pod's labels`,
    };
  const opt = pod.labels["sidecar.istio.io/inject"] ?? pod.annotations["sidecar.istio.io/inject"];
  if (opt !== undefined && !["true", "y", "yes", "on"].includes(opt.toLowerCase()))
    return { allowed: false, decidedBy: `sidecar.istio.io/inject=${opt}` };
  return { allowed: true, decidedBy: `webhook ${hook.name}` };
}

function portList(text: string | undefined): number[] {
  return (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => /^\d+$/.test(s))
    .map(Number);
}

/** Whether the sidecar captures inbound traffic to the port (Istio's traffic.sidecar.istio.io annotations). */
function inboundCaptured(pod: PodTemplate, port: number): boolean {
  if ((Object.values(SIDECAR_PORTS) as number[]).includes(port)) return false;
  const include = pod.annotations["traffic.sidecar.istio.io/includeInboundPorts"];
  if (include !== undefined && include.trim() !== "*" && !portList(include).includes(port)) return false;
  return !portList(pod.annotations["traffic.sidecar.istio.io/excludeInboundPorts"]).includes(port);
}

/** Whether the client's sidecar captures its outbound traffic to the port (includeOutboundIPRanges, excludeOutboundPorts). */
function outboundCaptured(pod: PodTemplate, port: number): boolean {
  if (pod.annotations["traffic.sidecar.istio.io/includeOutboundIPRanges"] === "") return false;
  return !portList(pod.annotations["traffic.sidecar.istio.io/excludeOutboundPorts"]).includes(port);
}

const isGateway = (pod: PodTemplate) => pod.annotations["inject.istio.io/templates"] === "gateway";

// ---------------------------------------------------------------- NetworkPolicy

type Kind = "required" | "forbidden";
type Peer =
  { pod: PodTemplate } | { address: { address: string; cidr?: string; except?: readonly string[] } };

function resolvePort(p: any, dst: PodTemplate | undefined, protocol: string): number | undefined {
  if (typeof p === "number") return p;
  if (/^\d+$/.test(String(p))) return Number(p);
  return dst?.ports.find((c) => c.name === p && c.protocol === protocol)?.port;
}

function npPortMatches(
  rulePorts: any[] | undefined,
  port: number,
  protocol: string,
  dst?: PodTemplate,
): boolean {
  if (!rulePorts || rulePorts.length === 0) return true;
  return rulePorts.some((rp) => {
    if ((rp.protocol ?? "TCP") !== protocol) return false;
    if (rp.port === undefined || rp.port === null) return true;
    const start = resolvePort(rp.port, dst, protocol);
    if (start === undefined) return false;
    return rp.endPort ? port >= start && port <= rp.endPort : port === start;
  });
}

function npPeerMatches(index: Index, policyNamespace: string, peer: any, other: Peer, kind: Kind): boolean {
  if (peer.ipBlock) {
    if (!("address" in other)) return false;
    // An address the table cannot name (the API server's) may lie in any block: a forbidden flow assumes it does.
    if (!other.address.cidr) return kind === "forbidden";
    return ipBlockCovers(peer.ipBlock, other.address);
  }
  if (!("pod" in other)) return false;
  if (!peer.podSelector && !peer.namespaceSelector) return false;
  const nsOk = peer.namespaceSelector
    ? selectorMatches(peer.namespaceSelector, namespaceLabels(index, other.pod.namespace))
    : other.pod.namespace === policyNamespace;
  return nsOk && selectorMatches(peer.podSelector ?? {}, other.pod.labels);
}

function policyTypes(spec: any): string[] {
  if (spec?.policyTypes?.length) return spec.policyTypes;
  return ["Ingress", ...(spec?.egress ? ["Egress"] : [])];
}

function networkPolicyDecision(
  index: Index,
  pod: PodTemplate,
  direction: "Ingress" | "Egress",
  other: Peer,
  port: number,
  protocol: string,
  dst: PodTemplate | undefined,
  kind: Kind,
): Decision {
  const layer = direction === "Ingress" ? "ingress" : "egress";
  if (pod.hostNetwork)
    return { allowed: true, decidedBy: `${pod.ref} runs on the host network (no NetworkPolicy applies)` };
  const selecting = index.networkPolicies.filter(
    (o) =>
      ns(o) === pod.namespace &&
      policyTypes(o.manifest.spec).includes(direction) &&
      selectorMatches(o.manifest.spec?.podSelector ?? {}, pod.labels),
  );
  if (selecting.length === 0)
    return { allowed: true, decidedBy: `no NetworkPolicy selects ${pod.ref} for ${layer}` };
  for (const o of selecting) {
    const rules: any[] = (direction === "Ingress" ? o.manifest.spec.ingress : o.manifest.spec.egress) ?? [];
    for (const [i, rule] of rules.entries()) {
      const peers: any[] | undefined = direction === "Ingress" ? rule?.from : rule?.to;
      const peerOk =
        !peers || peers.length === 0 || peers.some((p) => npPeerMatches(index, ns(o), p, other, kind));
      if (peerOk && npPortMatches(rule?.ports, port, protocol, dst))
        return { allowed: true, decidedBy: `${nameOf(o)} ${layer}[${i}]` };
    }
  }
  return {
    allowed: false,
    decidedBy: `${selecting.map(nameOf).join(", ")} (no ${layer} rule admits it)`,
  };
}

// ---------------------------------------------------------------- PeerAuthentication

function peerAuthenticationMode(index: Index, pod: PodTemplate, port: number): { mode: string; by: string } {
  const pas = index.peerAuthentications;
  const workload = pas.filter(
    (o) =>
      ns(o) === pod.namespace &&
      o.manifest.spec?.selector &&
      selectorMatches(o.manifest.spec.selector, pod.labels),
  );
  for (const o of workload) {
    const level = o.manifest.spec?.portLevelMtls?.[String(port)]?.mode;
    if (level && level !== "UNSET") return { mode: level, by: `${nameOf(o)} portLevelMtls ${port}` };
  }
  for (const o of workload) {
    const mode = o.manifest.spec?.mtls?.mode;
    if (mode && mode !== "UNSET") return { mode, by: nameOf(o) };
  }
  const namespaceWide = pas.find((o) => ns(o) === pod.namespace && !o.manifest.spec?.selector);
  const nsMode = namespaceWide?.manifest.spec?.mtls?.mode;
  if (namespaceWide && nsMode && nsMode !== "UNSET") return { mode: nsMode, by: nameOf(namespaceWide) };
  const meshWide = pas.find((o) => ns(o) === MESH_ROOT_NAMESPACE && !o.manifest.spec?.selector);
  const meshMode = meshWide?.manifest.spec?.mtls?.mode;
  if (meshWide && meshMode && meshMode !== "UNSET") return { mode: meshMode, by: nameOf(meshWide) };
  return { mode: "PERMISSIVE", by: "Istio's default (PERMISSIVE)" };
}

// ---------------------------------------------------------------- AuthorizationPolicy

type Tri = "yes" | "no" | "maybe";
const and = (...xs: Tri[]): Tri => (xs.includes("no") ? "no" : xs.includes("maybe") ? "maybe" : "yes");
const or = (xs: Tri[]): Tri => (xs.includes("yes") ? "yes" : xs.includes("maybe") ? "maybe" : "no");
const bool = (b: boolean): Tri => (b ? "yes" : "no");

/** Istio string match: exact, prefix ("abc*"), suffix ("*abc") or any ("*"). */
function istioMatch(pattern: string, value: string): boolean {
  if (pattern === "*") return value !== "";
  if (pattern.endsWith("*")) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith("*")) return value.endsWith(pattern.slice(1));
  return pattern === value;
}

interface Request {
  /** SPIFFE principal without "spiffe://", when the client presents a mesh certificate. */
  principal?: string;
  namespace?: string;
  serviceAccount?: string;
  port: number;
  http?: { method: string; path: string };
}

const UNEVALUATED_SOURCE = [
  "requestPrincipals",
  "notRequestPrincipals",
  "ipBlocks",
  "notIpBlocks",
  "remoteIpBlocks",
  "notRemoteIpBlocks",
];
const HTTP_FIELDS = ["methods", "notMethods", "paths", "notPaths", "hosts", "notHosts"];

function sourceMatches(source: any, r: Request, notes: Set<string>): Tri {
  const parts: Tri[] = [];
  const listed = (field: string, value: string | undefined, negated: boolean) => {
    const list: string[] | undefined = source[field];
    if (!list) return;
    const hit = value !== undefined && list.some((p) => istioMatch(p, value));
    parts.push(bool(negated ? !hit : hit));
  };
  listed("principals", r.principal, false);
  listed("notPrincipals", r.principal, true);
  listed("namespaces", r.namespace, false);
  listed("notNamespaces", r.namespace, true);
  const sa = r.namespace && r.serviceAccount ? `${r.namespace}/${r.serviceAccount}` : undefined;
  listed("serviceAccounts", sa, false);
  listed("notServiceAccounts", sa, true);
  for (const field of UNEVALUATED_SOURCE)
    if (source[field]) {
      notes.add(`source.${field} not evaluated`);
      parts.push("maybe");
    }
  return and(...parts);
}

function operationMatches(op: any, r: Request, action: string, notes: Set<string>): Tri {
  const parts: Tri[] = [];
  if (op.ports) parts.push(bool(op.ports.map(String).includes(String(r.port))));
  if (op.notPorts) parts.push(bool(!op.notPorts.map(String).includes(String(r.port))));
  const httpFields = HTTP_FIELDS.filter((f) => op[f]);
  if (httpFields.length > 0 && !r.http) {
    // Istio on TCP traffic: an ALLOW rule with HTTP-only fields never matches; a DENY rule ignores them.
    if (action === "ALLOW") return "no";
    return and(...parts);
  }
  if (r.http) {
    const http = r.http;
    if (op.methods) parts.push(bool(op.methods.includes(http.method)));
    if (op.notMethods) parts.push(bool(!op.notMethods.includes(http.method)));
    if (op.paths) parts.push(bool(op.paths.some((p: string) => istioMatch(p, http.path))));
    if (op.notPaths) parts.push(bool(!op.notPaths.some((p: string) => istioMatch(p, http.path))));
    if (op.hosts || op.notHosts) {
      notes.add("operation hosts not evaluated");
      parts.push("maybe");
    }
  }
  return and(...parts);
}

function ruleMatches(rule: any, r: Request, action: string, notes: Set<string>): Tri {
  const from: any[] | undefined = rule?.from;
  const to: any[] | undefined = rule?.to;
  const f = from && from.length ? or(from.map((s) => sourceMatches(s?.source ?? {}, r, notes))) : "yes";
  const t =
    to && to.length ? or(to.map((o) => operationMatches(o?.operation ?? {}, r, action, notes))) : "yes";
  let w: Tri = "yes";
  if (rule?.when?.length) {
    notes.add("`when` conditions not evaluated");
    w = "maybe";
  }
  return and(f, t, w);
}

function authorizationDecision(
  index: Index,
  pod: PodTemplate,
  r: Request,
  kind: "required" | "forbidden",
): Decision {
  const applicable = index.authorizationPolicies.filter((o) => {
    const spec = o.manifest.spec ?? {};
    if (spec.targetRef || spec.targetRefs) return false;
    if (!spec.selector) return ns(o) === MESH_ROOT_NAMESPACE || ns(o) === pod.namespace;
    return ns(o) === pod.namespace && selectorMatches(spec.selector, pod.labels);
  });
  const notes = new Set<string>();
  // Pessimistic reading: for a required flow an uncertain DENY denies and an uncertain ALLOW does not allow;
  // for a forbidden flow the reverse.
  const counts = (t: Tri, action: "DENY" | "ALLOW" | "CUSTOM") =>
    t === "yes" || (t === "maybe" && (kind === "required" ? action !== "ALLOW" : action === "ALLOW"));
  const conservative = () => (notes.size ? ` (conservative: ${[...notes].join("; ")})` : "");
  const matchingRule = (o: ClusterObject, action: "DENY" | "ALLOW" | "CUSTOM") =>
    ((o.manifest.spec?.rules ?? []) as any[]).findIndex((rule) =>
      counts(ruleMatches(rule, r, action, notes), action),
    );
  for (const action of ["CUSTOM", "DENY"] as const) {
    for (const o of applicable.filter((p) => (p.manifest.spec?.action ?? "ALLOW") === action)) {
      const i = matchingRule(o, action);
      if (i >= 0)
        return {
          allowed: false,
          decidedBy: `${nameOf(o)} ${action} rules[${i}]${action === "CUSTOM" ? " (external authorizer: not evaluated)" : ""}${conservative()}`,
        };
    }
  }
  const allows = applicable.filter((p) => (p.manifest.spec?.action ?? "ALLOW") === "ALLOW");
  if (allows.length === 0)
    return {
      allowed: true,
      decidedBy: `no AuthorizationPolicy denies it and none ALLOWs selectively${conservative()}`,
    };
  for (const o of allows) {
    const i = matchingRule(o, "ALLOW");
    if (i >= 0) return { allowed: true, decidedBy: `${nameOf(o)} ALLOW rules[${i}]${conservative()}` };
  }
  return {
    allowed: false,
    decidedBy: `${allows.map(nameOf).join(", ")}: no ALLOW rule matches${conservative()}`,
  };
}

// ---------------------------------------------------------------- flows

type Side =
  { pods: PodTemplate[] } | { address: { address: string; cidr?: string; except?: readonly string[] } };

function managedPod(name: string, wl: Workload): PodTemplate {
  return {
    ref: `${wl.managedBy ?? "managed"} ${wl.namespace}/${name}`,
    source: "wiring table",
    namespace: wl.namespace,
    labels: { ...wl.labels },
    annotations: {},
    serviceAccount: wl.serviceAccount,
    hostNetwork: false,
    token: true,
    ports: Object.entries(wl.ports).map(([n, port]) => ({ name: n, port, protocol: "TCP" })),
    derived: `table: ${wl.managedBy}`,
  };
}

function resolveSide(
  index: Index,
  end: ClusterEndpoint,
  workloads: Readonly<Record<string, Workload>>,
): Side | string {
  if ("address" in end) return { address: end };
  if (!("workload" in end)) {
    const pods = index.pods.filter((p) => p.namespace === end.namespace);
    return pods.length ? { pods } : `namespace ${end.namespace} has no pods in the object set`;
  }
  const wl = workloads[end.workload];
  if (!wl) return `unknown workload "${end.workload}"`;
  const pods = index.pods.filter(
    (p) => p.namespace === wl.namespace && selectorMatches({ matchLabels: { ...wl.labels } }, p.labels),
  );
  if (pods.length) return { pods };
  if (wl.managedBy) return { pods: [managedPod(end.workload, wl)] };
  return `workload "${end.workload}" (${wl.namespace}, ${JSON.stringify(wl.labels)}) matches no pod in the object set`;
}

const principalOf = (pod: PodTemplate) => `cluster.local/ns/${pod.namespace}/sa/${pod.serviceAccount}`;

function evaluateCase(
  objects: readonly ClusterObject[],
  index: Index,
  flow: ClusterFlow,
  src: Peer,
  dst: Peer,
  port: number,
  protocol: "TCP" | "UDP",
  kind: "required" | "forbidden",
): FlowCase {
  const layers: LayerDecision[] = [];
  const label = (p: Peer) => ("pod" in p ? p.pod.ref : `address ${p.address.address}`);
  const dstPod = "pod" in dst ? dst.pod : undefined;
  if ("pod" in src)
    layers.push({
      layer: "egress",
      ...networkPolicyDecision(index, src.pod, "Egress", dst, port, protocol, dstPod, kind),
    });
  if (dstPod)
    layers.push({
      layer: "ingress",
      ...networkPolicyDecision(index, dstPod, "Ingress", src, port, protocol, dstPod, kind),
    });
  // Calling the Kubernetes API takes a token: a pod that mounts none cannot use the API even where it can reach it.
  if ("address" in dst && dst.address.address === KUBE_APISERVER && "pod" in src)
    layers.push({
      layer: "token",
      allowed: src.pod.token,
      decidedBy: src.pod.token
        ? `${src.pod.ref} mounts a service-account token`
        : `${src.pod.ref} mounts no service-account token (automountServiceAccountToken: false)`,
    });
  // A flow on "any" port states reachability only: the mesh layers decide per port.
  if (dstPod && protocol === "TCP" && port !== 0) {
    const serverSidecar = sidecarOf(objects, dstPod).allowed;
    const gateway =
      serverSidecar && isGateway(dstPod) && !(Object.values(SIDECAR_PORTS) as number[]).includes(port);
    const captured = serverSidecar && !gateway && inboundCaptured(dstPod, port);
    if (captured || gateway) {
      const { mode, by } = peerAuthenticationMode(index, dstPod, port);
      let principal: string | undefined;
      let why = "the client presents no mesh certificate";
      if ("pod" in src) {
        const clientSidecar = sidecarOf(objects, src.pod);
        const ownCerts =
          flow.clientCertificate &&
          clientSidecar.allowed &&
          (src.pod.annotations["proxy.istio.io/config"] ?? "").includes("OUTPUT_CERTS");
        if (ownCerts) principal = principalOf(src.pod);
        else if (clientSidecar.allowed && outboundCaptured(src.pod, port) && !gateway && mode !== "DISABLE")
          principal = principalOf(src.pod);
        else if (clientSidecar.allowed && gateway) why = "a gateway listener takes the client's own TLS";
        else
          why = clientSidecar.allowed
            ? "the client's sidecar does not capture its outbound traffic"
            : `the client has no sidecar (${clientSidecar.decidedBy})`;
      }
      if (captured) {
        const refused = mode === "STRICT" && !principal;
        layers.push({
          layer: "mtls",
          allowed: !refused,
          decidedBy: refused
            ? `${by} (STRICT): ${why}`
            : `${by} (${mode}${principal ? ", mutual TLS" : ", plain text"})`,
        });
      }
      const request: Request = {
        port,
        principal,
        namespace: principal && "pod" in src ? src.pod.namespace : undefined,
        serviceAccount: principal && "pod" in src ? src.pod.serviceAccount : undefined,
        http: flow.request,
      };
      layers.push({ layer: "authz", ...authorizationDecision(index, dstPod, request, kind) });
    }
  }
  return {
    from: label(src),
    to: dstPod ? dstPod.ref : label(dst),
    port,
    protocol,
    layers,
    allowed: layers.every((l) => l.allowed),
  };
}

/**
 * Evaluates one flow over the object set: every source pod to every destination pod, on every port and
 * protocol. `kind` chooses the pessimistic reading of conditions the verifier cannot evaluate.
 */
export function evaluateFlow(
  objects: readonly ClusterObject[],
  flow: ClusterFlow,
  workloads: Readonly<Record<string, Workload>> = {},
  kind: "required" | "forbidden" = "required",
): FlowVerdict {
  const index = indexOf(objects);
  const from = resolveSide(index, flow.from, workloads);
  const to = resolveSide(index, flow.to, workloads);
  if (typeof from === "string" || typeof to === "string")
    return { flow, kind, cases: [], ok: false, error: `${flow.id}: ${typeof from === "string" ? from : to}` };
  const peers = (s: Side): Peer[] =>
    "pods" in s ? s.pods.map((pod) => ({ pod })) : [{ address: s.address }];
  const ports = flowPorts(flow);
  const protocols: ("TCP" | "UDP")[] = flow.protocol === "Any" ? ["TCP", "UDP"] : [flow.protocol];
  const cases: FlowCase[] = [];
  for (const src of peers(from))
    for (const dst of peers(to)) {
      for (const port of ports.length ? ports : [0])
        for (const protocol of protocols)
          cases.push(evaluateCase(objects, index, flow, src, dst, port, protocol, kind));
    }
  const ok = kind === "required" ? cases.every((c) => c.allowed) : cases.every((c) => !c.allowed);
  return { flow, kind, cases, ok };
}

/**
 * Verifies the whole table: each required flow allowed in every case, each forbidden flow blocked in every case,
 * and the table's declarations (workloads with pods, sidecars as declared) true of the object set.
 */
export function verifyCluster(
  objects: readonly ClusterObject[],
  wiring: Pick<ClusterWiring, "table" | "workloads">,
): ClusterReport {
  const index = indexOf(objects);
  const mismatches: string[] = [];
  for (const [name, wl] of Object.entries(wiring.workloads)) {
    const side = resolveSide(index, { workload: name }, wiring.workloads);
    if (typeof side === "string") {
      mismatches.push(side);
      continue;
    }
    if (!("pods" in side)) continue;
    for (const pod of side.pods) {
      const sidecar = sidecarOf(objects, pod);
      if (sidecar.allowed !== wl.sidecar)
        mismatches.push(
          `${name}: declared ${wl.sidecar ? "with" : "without"} a sidecar, but ${pod.ref} ${sidecar.allowed ? "gets one" : "gets none"} (${sidecar.decidedBy})`,
        );
    }
  }
  const verdicts = [
    ...wiring.table.required.map((f) => evaluateFlow(objects, f, wiring.workloads, "required")),
    ...wiring.table.forbidden.map((f) => evaluateFlow(objects, f, wiring.workloads, "forbidden")),
  ];
  const blocked = verdicts.filter((v) => v.kind === "required" && !v.ok);
  const allowed = verdicts.filter((v) => v.kind === "forbidden" && !v.ok);
  return {
    verdicts,
    blocked,
    allowed,
    mismatches,
    ok: blocked.length === 0 && allowed.length === 0 && mismatches.length === 0,
  };
}

const mark = (d: LayerDecision | undefined) => (d === undefined ? "-" : d.allowed ? "allow" : "DENY");

/**
 * A truth table of the verdicts: one line per case (only the wrong ones with `onlyWrong`), and under a wrong case
 * the layers and objects that decided it.
 */
export function truthTable(verdicts: readonly FlowVerdict[], onlyWrong = false): string {
  const lines = [
    `${"flow".padEnd(48)} ${"case".padEnd(90)} ${LAYERS.map((l) => l.padEnd(7)).join(" ")} result`,
  ];
  for (const v of verdicts) {
    if (v.error) {
      lines.push(`${v.flow.id.padEnd(48)} ERROR ${v.error}`);
      continue;
    }
    for (const c of v.cases) {
      const cells = LAYERS.map((l) => mark(c.layers.find((d) => d.layer === l)).padEnd(7)).join(" ");
      const expect = v.kind === "required" ? "required" : "forbidden";
      const good = v.kind === "required" ? c.allowed : !c.allowed;
      if (onlyWrong && good) continue;
      lines.push(
        `${v.flow.id.padEnd(48)} ${`${c.from} -> ${c.to}:${c.port}/${c.protocol}`.padEnd(90)} ${cells} ${c.allowed ? "allowed" : "blocked"} (${expect}${good ? "" : ", WRONG"})`,
      );
      if (!good)
        for (const d of c.layers)
          if (v.kind === "required" ? !d.allowed : d.allowed) lines.push(`    ${d.layer}: ${d.decidedBy}`);
    }
  }
  return lines.join("\n");
}

/** A short report of what is wrong, for a test failure. */
export function describeFailures(report: ClusterReport): string {
  const parts: string[] = [];
  if (report.mismatches.length) parts.push(`declarations:\n  ${report.mismatches.join("\n  ")}`);
  if (report.blocked.length) parts.push(`required flows blocked:\n${truthTable(report.blocked, true)}`);
  if (report.allowed.length) parts.push(`forbidden flows allowed:\n${truthTable(report.allowed, true)}`);
  return parts.join("\n\n");
}
