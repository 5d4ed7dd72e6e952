/**
 * Checks the telemetry contract against a stack's full object set (the program's objects plus every chart's
 * rendered objects): each exporter's monitor exists, the estate's Prometheus CR selects it (its monitor
 * selectors and namespace selectors as the chart renders them), the monitor's selector matches the exporting
 * Service or pods and port, and the target labels the Prometheus Operator would attach (job, endpoint,
 * service, metrics_path, honor_labels) are the ones the contract stores (prometheus-operator
 * pkg/prometheus/promcfg.go, generateServiceMonitorConfig and generatePodMonitorConfig).
 */
import { APP_NAMESPACE, EXPORTERS, type Exporter } from "../../lib/telemetry";

export interface ClusterObject {
  source: string;
  manifest: Record<string, any>;
}

type Labels = Record<string, string>;
interface LabelSelector {
  matchLabels?: Labels;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Kubernetes label-selector semantics (an empty selector selects everything; null selects nothing). */
export function matches(selector: LabelSelector | null | undefined, labels: Labels = {}): boolean {
  if (selector === null || selector === undefined) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const inValues = has && (e.values ?? []).includes(labels[e.key]);
    if (e.operator === "In" && !inValues) return false;
    if (e.operator === "NotIn" && inValues) return false;
    if (e.operator === "Exists" && !has) return false;
    if (e.operator === "DoesNotExist" && has) return false;
  }
  return true;
}

/** A pod template and the workload that owns it. */
interface PodTemplate {
  ref: string;
  namespace: string;
  labels: Labels;
  containers: { name: string; ports?: { name?: string; containerPort: number }[] }[];
}

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]);

function podTemplates(objects: readonly ClusterObject[]): PodTemplate[] {
  return objects
    .map((o) => o.manifest)
    .filter((m) => WORKLOAD_KINDS.has(m.kind) && m.spec?.template)
    .map((m) => ({
      ref: `${m.kind} ${m.metadata.namespace}/${m.metadata.name}`,
      namespace: m.metadata.namespace,
      labels: m.spec.template.metadata?.labels ?? {},
      containers: m.spec.template.spec?.containers ?? [],
    }));
}

/** The namespaces a Prometheus-side namespace selector admits (operator: nil means its own namespace only). */
function namespacesOf(
  selector: LabelSelector | null | undefined,
  own: string,
  namespaces: { name: string; labels: Labels }[],
): (ns: string) => boolean {
  if (selector === null || selector === undefined) return (ns) => ns === own;
  return (ns) =>
    matches(selector, namespaces.find((n) => n.name === ns)?.labels ?? { "kubernetes.io/metadata.name": ns });
}

/** The namespaces a monitor's own `namespaceSelector` admits (absent: the monitor's namespace). */
function monitorNamespaces(monitor: Record<string, any>): (ns: string) => boolean {
  const sel = monitor.spec?.namespaceSelector;
  if (sel?.any) return () => true;
  if (sel?.matchNames?.length) return (ns) => sel.matchNames.includes(ns);
  return (ns) => ns === monitor.metadata.namespace;
}

/** The estate's Prometheus CR, as kube-prometheus-stack renders it. */
export function prometheusCR(objects: readonly ClusterObject[]): Record<string, any> {
  const found = objects.filter((o) => o.manifest.kind === "Prometheus").map((o) => o.manifest);
  if (found.length !== 1) throw new Error(`expected one Prometheus object, found ${found.length}`);
  return found[0];
}

/** Labels the operator's kubelet controller gives the kubelet Service (prometheus-operator pkg/kubelet/controller.go). */
const KUBELET_SERVICE_LABELS: Labels = {
  "k8s-app": "kubelet",
  "app.kubernetes.io/name": "kubelet",
  "app.kubernetes.io/managed-by": "prometheus-operator",
};

export interface ScrapeFinding {
  exporter: string;
  problems: string[];
  /** The object and port a flow from Prometheus must reach, where pods are declared. */
  reaches?: { namespace: string; port: number };
}

/** Checks one exporter of the contract against the object set; `appNamespace` replaces APP_NAMESPACE. */
export function checkExporter(
  objects: readonly ClusterObject[],
  exporter: Exporter,
  appNamespace: string,
): ScrapeFinding {
  const problems: string[] = [];
  const finding: ScrapeFinding = { exporter: exporter.id, problems };
  const scrape = exporter.scrape;
  if (!scrape) return finding;
  const ns = (v: string) => v.replace(APP_NAMESPACE, appNamespace);
  const prom = prometheusCR(objects);
  const promNs = prom.metadata.namespace;
  const namespaces = objects
    .filter((o) => o.manifest.kind === "Namespace")
    .map((o) => ({ name: o.manifest.metadata.name, labels: o.manifest.metadata.labels ?? {} }));
  const isService = scrape.kind === "ServiceMonitor";
  const selector = isService ? prom.spec.serviceMonitorSelector : prom.spec.podMonitorSelector;
  const nsSelector = isService
    ? prom.spec.serviceMonitorNamespaceSelector
    : prom.spec.podMonitorNamespaceSelector;
  const name = `${scrape.kind} ${scrape.namespace}/${scrape.name}`;

  const monitorObj = objects.find(
    (o) =>
      o.manifest.kind === scrape.kind &&
      o.manifest.metadata?.name === scrape.name &&
      (o.manifest.metadata?.namespace ?? scrape.namespace) === scrape.namespace,
  );
  if (!monitorObj) {
    problems.push(`${name} does not exist in the object set`);
    return finding;
  }
  const monitor = monitorObj.manifest;
  if (exporter.monitorSource && monitorObj.source !== exporter.monitorSource)
    problems.push(`${name} comes from ${monitorObj.source}, the contract says ${exporter.monitorSource}`);
  if (!matches(selector, monitor.metadata.labels ?? {}))
    problems.push(
      `Prometheus ${promNs}/${prom.metadata.name} does not select ${name}: its ${isService ? "serviceMonitorSelector" : "podMonitorSelector"} ${JSON.stringify(selector)} misses labels ${JSON.stringify(monitor.metadata.labels ?? {})}`,
    );
  if (!namespacesOf(nsSelector, promNs, namespaces)(scrape.namespace))
    problems.push(
      `Prometheus's ${isService ? "serviceMonitor" : "podMonitor"}NamespaceSelector excludes ${scrape.namespace}`,
    );

  const endpoints: Record<string, any>[] = isService
    ? (monitor.spec.endpoints ?? [])
    : (monitor.spec.podMetricsEndpoints ?? []);
  const ep = endpoints.find((e) => (e.path ?? "/metrics") === scrape.path);
  if (!ep) {
    problems.push(`${name} has no endpoint with path ${scrape.path}`);
    return finding;
  }
  if (Boolean(ep.honorLabels) !== exporter.honorLabels)
    problems.push(
      `${name} path ${scrape.path}: honorLabels is ${Boolean(ep.honorLabels)}, the contract stores labels as if ${exporter.honorLabels}`,
    );
  const target = exporter.target as Labels;
  const expectLabel = (label: string, actual: string | undefined) => {
    if (target[label] !== undefined && target[label] !== actual)
      problems.push(
        `${name}: the operator stores ${label}="${actual}", the contract says ${label}="${target[label]}"`,
      );
  };
  const inScope = monitorNamespaces(monitor);

  if (isService) {
    const svcRef = exporter.service!;
    if (svcRef.managedBy) {
      // The kubelet Service is the operator's: check the operator is told to make it, and the selector fits it.
      const operator = objects
        .map((o) => o.manifest)
        .find(
          (m) =>
            m.kind === "Deployment" &&
            (m.spec?.template?.spec?.containers ?? []).some((c: any) =>
              (c.args ?? []).includes(`--kubelet-service=${svcRef.namespace}/${svcRef.name}`),
            ),
        );
      if (!operator)
        problems.push(
          `no Prometheus Operator runs with --kubelet-service=${svcRef.namespace}/${svcRef.name}`,
        );
      if (!matches(monitor.spec.selector, KUBELET_SERVICE_LABELS))
        problems.push(`${name} selector does not match the operator's kubelet Service labels`);
      if (!inScope(svcRef.namespace)) problems.push(`${name} does not look in ${svcRef.namespace}`);
      const jobLabel = monitor.spec.jobLabel;
      expectLabel(
        "job",
        jobLabel && KUBELET_SERVICE_LABELS[jobLabel] ? KUBELET_SERVICE_LABELS[jobLabel] : svcRef.name,
      );
      expectLabel("service", svcRef.name);
      expectLabel("endpoint", ep.port);
      if (ep.port !== svcRef.port)
        problems.push(`${name} scrapes port ${ep.port}, the contract says ${svcRef.port}`);
    } else {
      const services = objects
        .map((o) => o.manifest)
        .filter(
          (m) =>
            m.kind === "Service" &&
            inScope(m.metadata.namespace) &&
            matches(monitor.spec.selector, m.metadata.labels ?? {}),
        );
      const svc = services.find(
        (m) => m.metadata.name === svcRef.name && m.metadata.namespace === ns(svcRef.namespace),
      );
      if (!svc) {
        problems.push(
          `${name} selects no Service ${svcRef.namespace}/${svcRef.name} (it selects: ${services.map((m) => `${m.metadata.namespace}/${m.metadata.name}`).join(", ") || "nothing"})`,
        );
        return finding;
      }
      const port = (svc.spec.ports ?? []).find((p: any) => p.name === ep.port);
      if (!port) problems.push(`Service ${svcRef.name} has no port named ${ep.port}`);
      const jobLabel = monitor.spec.jobLabel;
      expectLabel("job", (jobLabel && svc.metadata.labels?.[jobLabel]) || svc.metadata.name);
      expectLabel("service", svc.metadata.name);
      expectLabel("endpoint", ep.port);
      if (exporter.pods && port) {
        const pods = podTemplates(objects).filter(
          (p) =>
            p.namespace === svc.metadata.namespace && matches({ matchLabels: svc.spec.selector }, p.labels),
        );
        const container = pods.flatMap((p) => p.containers).find((c) => c.name === exporter.pods!.container);
        if (!container)
          problems.push(`Service ${svcRef.name} selects no pod with container ${exporter.pods.container}`);
        else {
          const tp = port.targetPort ?? port.port;
          const cp = (container.ports ?? []).find((p) =>
            typeof tp === "string" ? p.name === tp : p.containerPort === tp,
          );
          if (!cp)
            problems.push(
              `container ${container.name} has no port ${tp} (Service ${svcRef.name} port ${ep.port})`,
            );
          else if (cp.containerPort !== exporter.pods.port)
            problems.push(
              `${svcRef.name} reaches port ${cp.containerPort}, the contract says ${exporter.pods.port}`,
            );
          else finding.reaches = { namespace: svc.metadata.namespace, port: cp.containerPort };
        }
      }
    }
    const pathRelabel = (ep.relabelings ?? []).find(
      (r: any) => (r.sourceLabels ?? []).includes("__metrics_path__") && r.targetLabel === "metrics_path",
    );
    if (target.metrics_path !== undefined && !pathRelabel)
      problems.push(`${name} does not store metrics_path`);
    if (pathRelabel) expectLabel("metrics_path", ep.path ?? "/metrics");
  } else {
    const podRef = exporter.pods!;
    const pods = podTemplates(objects).filter(
      (p) =>
        p.namespace === ns(podRef.namespace) &&
        inScope(p.namespace) &&
        matches(monitor.spec.selector, p.labels),
    );
    if (pods.length === 0) {
      problems.push(`${name} selects no pods in ${ns(podRef.namespace)}`);
      return finding;
    }
    const jobLabel = monitor.spec.jobLabel;
    const jobs = new Set(
      pods.map(
        (p) => (jobLabel && p.labels[jobLabel]) || `${monitor.metadata.namespace}/${monitor.metadata.name}`,
      ),
    );
    for (const job of jobs) expectLabel("job", job);
    if (ep.port) {
      expectLabel("endpoint", ep.port);
      for (const p of pods) {
        const cp = p.containers
          .flatMap((c) => (c.ports ?? []).map((port) => ({ c, port })))
          .find((x) => x.port.name === ep.port);
        if (!cp) problems.push(`${p.ref} has no container port named ${ep.port}`);
        else if (cp.port.containerPort !== podRef.port || cp.c.name !== podRef.container)
          problems.push(
            `${p.ref} port ${ep.port} is ${cp.c.name}:${cp.port.containerPort}, the contract says ${podRef.container}:${podRef.port}`,
          );
      }
    } else {
      // No port: the endpoint's relabelings must keep the contract's container and take the address from the
      // pod's prometheus.io/port annotation (written by Istio's injector for the sidecar).
      const keepsContainer = (ep.relabelings ?? []).some(
        (r: any) =>
          r.action === "keep" &&
          (r.sourceLabels ?? []).includes("__meta_kubernetes_pod_container_name") &&
          r.regex === podRef.container,
      );
      if (!keepsContainer) problems.push(`${name} does not keep container ${podRef.container}`);
      const addressFromAnnotation = (ep.relabelings ?? []).some(
        (r: any) =>
          r.targetLabel === "__address__" &&
          (r.sourceLabels ?? []).includes("__meta_kubernetes_pod_annotation_prometheus_io_port"),
      );
      if (!addressFromAnnotation)
        problems.push(`${name} does not scrape the prometheus.io/port annotation's port`);
    }
    finding.reaches = { namespace: ns(podRef.namespace), port: podRef.port };
  }
  return finding;
}

/** Every exporter of the contract that Prometheus scrapes. */
export function scrapedExporters(): Exporter[] {
  return (Object.values(EXPORTERS) as Exporter[]).filter((e) => e.scrape !== undefined);
}
