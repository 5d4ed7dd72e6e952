/**
 * The telemetry contract: every metric that a rule, recording rule, dashboard panel or Flagger MetricTemplate
 * reads, the workload that exports it (port and path), the monitor that scrapes it, and the label set as the
 * estate's Prometheus stores it after the Prometheus Operator's relabelling.
 *
 * One `SELECTORS` block names each source's scrape (in the manner of kubernetes-mixin's `_config`): rules,
 * dashboards and MetricTemplates read their selectors from it, and the tests check it against the monitors
 * the charts and the program render (test/telemetry/scrape.test.ts) and generate their input series from
 * `storedSeries` (test/support/ruleTests.ts), never from the queries under test.
 *
 * Target labels follow prometheus-operator pkg/prometheus/promcfg.go:
 * - ServiceMonitor: `namespace`, `service`, `pod`, `container` of the endpoint, `job` = the Service's name, or
 *   the value of its `jobLabel` label, `endpoint` = the endpoint's port name; `node` for Node endpoints.
 * - PodMonitor: `namespace`, `container`, `pod`, `job` = "<monitor namespace>/<monitor name>", or the pod's
 *   `jobLabel` label, `endpoint` = the endpoint's port name when it names one.
 * - `honor_labels: false` (the default) keeps the target's label on a clash and stores the scraped one as
 *   `exported_<name>`; `honorLabels: true` keeps the scraped one.
 * Prometheus 3 stores a classic histogram's `le` in OpenMetrics float form (prometheus/prometheus
 * docs/migration.md, "le and quantile label values"): `le="250.0"`, not `le="250"`.
 */
import { NAMESPACES, RELEASES } from "./names";

/** How Prometheus finds the exporter's targets. */
export type ScrapeKind = "ServiceMonitor" | "PodMonitor" | "rule-evaluation" | "scrape-target";

/** One source of series: the exporting workload and the scrape that reaches it. */
export interface Exporter {
  /** Key in EXPORTERS. */
  id: string;
  /** The exporting workload, as a person reads it. */
  workload: string;
  /** `clusterObjects` source of the monitor: "program" or "chart:<release>"; absent for synthetic series. */
  monitorSource?: string;
  /** The monitor that scrapes it; absent for series Prometheus makes itself. */
  scrape?: {
    kind: "ServiceMonitor" | "PodMonitor";
    namespace: string;
    name: string;
    /** Path of the monitor endpoint that carries the series (a monitor may list several). */
    path: string;
  };
  /**
   * The exporting pods: their namespace (`"<app>"` for the stack's application namespace) and the container
   * port that is scraped (for the sidecar, the port its `prometheus.io/port` annotation names).
   */
  pods?: { namespace: string; container: string; port: number; portName?: string };
  /** The Service a ServiceMonitor selects, and the Service port its endpoint names. */
  service?: {
    namespace: string;
    name: string;
    port: string;
    /** Set when the Service is made by an operator at run time, not rendered by a chart (why). */
    managedBy?: string;
  };
  /** Whether the scrape keeps the exporter's own labels on a clash with target labels (honor_labels). */
  honorLabels: boolean;
  /**
   * Labels the operator attaches to every series of the target, as stored. Per-target values that tests
   * choose (pod names, addresses) are examples and may be overridden; `job`, `endpoint`, `service`,
   * `container` and `metrics_path` are fixed by the monitor and checked against the rendered objects.
   */
  target: Record<string, string>;
  /** Where the labels are decided upstream. */
  source: string;
}

/** The stack's application namespace stands for itself in the contract as this placeholder. */
export const APP_NAMESPACE = "<app>";

/**
 * kube-prometheus-stack's `fullnameOverride`: its own objects are named `kps-*` (PROMETHEUS_URL in lib/names.ts
 * relies on it too); its subcharts' objects keep the release name.
 */
export const KPS_FULLNAME = "kps";
const KPS = KPS_FULLNAME;
/** Name prefix of kube-prometheus-stack's subcharts' objects (release name + subchart name). */
const KPS_SUB = RELEASES.prometheusStack;

/**
 * Prometheus or Alertmanager, as the operator runs it (StatefulSet `<component>-<KPS>-<component>`) and the
 * chart's ServiceMonitor `<KPS>-<component>` scrapes it on its Service's `http-web` port.
 */
function operatorStatefulSet(
  component: "prometheus" | "alertmanager",
  instance: string,
  source: string,
): Exporter {
  const name = `${KPS}-${component}`;
  const label = component === "prometheus" ? "Prometheus" : "Alertmanager";
  return {
    id: component,
    workload: `${label} (StatefulSet ${NAMESPACES.monitoring}/${component}-${name}, made by the operator)`,
    monitorSource: `chart:${RELEASES.prometheusStack}`,
    scrape: { kind: "ServiceMonitor", namespace: NAMESPACES.monitoring, name, path: "/metrics" },
    service: { namespace: NAMESPACES.monitoring, name, port: "http-web" },
    honorLabels: false,
    target: {
      namespace: NAMESPACES.monitoring,
      service: name,
      pod: `${component}-${name}-0`,
      container: component,
      job: name,
      endpoint: "http-web",
      instance,
    },
    source,
  };
}

/**
 * One of the kubelet's metrics paths on every node (port 10250), scraped by the chart's kubelet
 * ServiceMonitor `<KPS>-kubelet` through the Service the operator keeps in kube-system.
 */
function kubeletEndpoint(id: string, what: string, path: string, source: string): Exporter {
  const name = `${KPS}-kubelet`;
  return {
    id,
    workload: `${what} on every node (port 10250, ${path})`,
    monitorSource: `chart:${RELEASES.prometheusStack}`,
    scrape: { kind: "ServiceMonitor", namespace: NAMESPACES.monitoring, name, path },
    service: {
      namespace: "kube-system",
      name,
      port: "https-metrics",
      managedBy:
        "the Prometheus Operator's kubelet controller (--kubelet-service), prometheus-operator pkg/kubelet/controller.go",
    },
    honorLabels: true,
    target: {
      namespace: "kube-system",
      service: name,
      node: "aks-application-12345678-vmss000000",
      job: "kubelet",
      endpoint: "https-metrics",
      metrics_path: path,
      instance: "10.224.0.4:10250",
    },
    source,
  };
}

export const EXPORTERS = {
  istioProxy: {
    id: "istioProxy",
    workload: "istio-proxy sidecar of every injected pod (Envoy and agent metrics merged on 15020)",
    monitorSource: "program",
    scrape: {
      kind: "PodMonitor",
      namespace: NAMESPACES.istio,
      name: "envoy-stats",
      path: "/stats/prometheus",
    },
    pods: { namespace: APP_NAMESPACE, container: "istio-proxy", port: 15020 },
    honorLabels: false,
    target: {
      namespace: APP_NAMESPACE,
      pod: "api-gateway-5d8f7c9b6-x7k2p",
      container: "istio-proxy",
      job: `${NAMESPACES.istio}/envoy-stats`,
      instance: "10.244.1.17:15020",
    },
    source:
      "istio.io docs/reference/config/metrics (standard labels); sidecar injector prometheus.io annotations (metrics merging, port 15020)",
  },
  kubeStateMetrics: {
    id: "kubeStateMetrics",
    workload: `kube-state-metrics (Deployment ${NAMESPACES.monitoring}/${KPS_SUB}-kube-state-metrics)`,
    monitorSource: `chart:${RELEASES.prometheusStack}`,
    scrape: {
      kind: "ServiceMonitor",
      namespace: NAMESPACES.monitoring,
      name: `${KPS_SUB}-kube-state-metrics`,
      path: "/metrics",
    },
    pods: { namespace: NAMESPACES.monitoring, container: "kube-state-metrics", port: 8080, portName: "http" },
    service: { namespace: NAMESPACES.monitoring, name: `${KPS_SUB}-kube-state-metrics`, port: "http" },
    honorLabels: true,
    target: {
      namespace: NAMESPACES.monitoring,
      service: `${KPS_SUB}-kube-state-metrics`,
      pod: `${KPS_SUB}-kube-state-metrics-6c9f8d7b5-q4w2e`,
      container: "kube-state-metrics",
      job: "kube-state-metrics",
      endpoint: "http",
      instance: "10.244.0.21:8080",
    },
    source:
      "kube-state-metrics docs/metrics (v2.19); kube-prometheus-stack 88.4.0 kube-state-metrics ServiceMonitor",
  },
  cadvisor: kubeletEndpoint(
    "cadvisor",
    "kubelet's cAdvisor",
    "/metrics/cadvisor",
    "cAdvisor docs/storage/prometheus.md; kube-prometheus-stack 88.4.0 kubelet ServiceMonitor",
  ),
  kubelet: kubeletEndpoint(
    "kubelet",
    "kubelet",
    "/metrics",
    "kubernetes pkg/kubelet/metrics/collectors/volume_stats.go; kube-prometheus-stack 88.4.0 kubelet ServiceMonitor",
  ),
  flagger: {
    id: "flagger",
    workload: `Flagger (Deployment ${NAMESPACES.flagger}/${RELEASES.flagger})`,
    monitorSource: "program",
    scrape: { kind: "PodMonitor", namespace: NAMESPACES.flagger, name: "flagger", path: "/metrics" },
    pods: { namespace: NAMESPACES.flagger, container: "flagger", port: 8080, portName: "http" },
    honorLabels: true,
    target: {
      namespace: NAMESPACES.flagger,
      pod: "flagger-7b9c6d5f4-h8j2k",
      container: "flagger",
      job: `${NAMESPACES.flagger}/flagger`,
      endpoint: "http",
      instance: "10.244.0.33:8080",
    },
    source: "Flagger v1.44 pkg/metrics/recorder.go",
  },
  velero: {
    id: "velero",
    workload: `Velero server (Deployment ${NAMESPACES.velero}/${RELEASES.velero})`,
    monitorSource: `chart:${RELEASES.velero}`,
    scrape: { kind: "ServiceMonitor", namespace: NAMESPACES.velero, name: RELEASES.velero, path: "/metrics" },
    pods: { namespace: NAMESPACES.velero, container: "velero", port: 8085, portName: "http-monitoring" },
    service: { namespace: NAMESPACES.velero, name: RELEASES.velero, port: "http-monitoring" },
    honorLabels: false,
    target: {
      namespace: NAMESPACES.velero,
      service: RELEASES.velero,
      pod: "velero-6f7d8c9b5-m3n4p",
      container: "velero",
      job: RELEASES.velero,
      endpoint: "http-monitoring",
      instance: "10.244.0.45:8085",
    },
    source: "velero pkg/metrics/metrics.go; velero chart 12.1.0 templates/servicemonitor.yaml",
  },
  prometheus: operatorStatefulSet(
    "prometheus",
    "10.244.0.50:9090",
    "prometheus rules/manager.go; kube-prometheus-stack 88.4.0 Prometheus ServiceMonitor",
  ),
  alertmanager: operatorStatefulSet(
    "alertmanager",
    "10.244.0.51:9093",
    "alertmanager notify/notify.go; kube-prometheus-stack 88.4.0 Alertmanager ServiceMonitor",
  ),
  ruleEvaluation: {
    id: "ruleEvaluation",
    workload: "Prometheus's rule evaluation (one ALERTS series per pending or firing alert)",
    honorLabels: true,
    target: {},
    source: "prometheus rules/alerting.go (ALERTS{alertname, alertstate, <rule and series labels>})",
  },
  scrapeTarget: {
    id: "scrapeTarget",
    workload: "Prometheus's scrape of every target (`up` carries the target's labels)",
    honorLabels: true,
    target: {},
    source: "prometheus docs/concepts/jobs_instances (automatically generated series)",
  },
} as const satisfies Record<string, Exporter>;

export type ExporterId = keyof typeof EXPORTERS;

/** One metric of the contract. */
export interface ContractMetric {
  name: string;
  type: "counter" | "gauge" | "histogram_bucket" | "synthetic";
  exporter: ExporterId;
  /** Labels the exporter writes on the series (before the scrape adds target labels). */
  labels: readonly string[];
  /** Whether any label set is possible (ALERTS and `up` carry the labels of their rule or target). */
  openLabels?: boolean;
}

/** Istio's standard labels on request metrics (istio.io docs/reference/config/metrics). */
const ISTIO_LABELS = [
  "reporter",
  "source_workload",
  "source_workload_namespace",
  "source_principal",
  "source_app",
  "source_version",
  "source_cluster",
  "source_canonical_service",
  "source_canonical_revision",
  "destination_workload",
  "destination_workload_namespace",
  "destination_principal",
  "destination_app",
  "destination_version",
  "destination_service",
  "destination_service_name",
  "destination_service_namespace",
  "destination_cluster",
  "destination_canonical_service",
  "destination_canonical_revision",
  "request_protocol",
  "response_code",
  "grpc_response_status",
  "response_flags",
  "connection_security_policy",
] as const;

/** cAdvisor's container labels as the kubelet exposes them (cAdvisor docs/storage/prometheus.md). */
const CADVISOR_LABELS = ["container", "id", "image", "name", "namespace", "pod"] as const;

const metric = (
  name: string,
  type: ContractMetric["type"],
  exporter: ExporterId,
  labels: readonly string[],
  openLabels?: boolean,
): ContractMetric => ({ name, type, exporter, labels, ...(openLabels ? { openLabels } : {}) });

/** Every metric the estate's rules, dashboards and MetricTemplates read. */
export const CONTRACT_METRICS: readonly ContractMetric[] = [
  metric("istio_requests_total", "counter", "istioProxy", ISTIO_LABELS),
  metric("istio_request_duration_milliseconds_bucket", "histogram_bucket", "istioProxy", [
    ...ISTIO_LABELS,
    "le",
  ]),
  metric("kube_deployment_status_replicas_available", "gauge", "kubeStateMetrics", [
    "namespace",
    "deployment",
  ]),
  metric("kube_deployment_spec_replicas", "gauge", "kubeStateMetrics", ["namespace", "deployment"]),
  metric("kube_pod_container_status_restarts_total", "counter", "kubeStateMetrics", [
    "namespace",
    "pod",
    "uid",
    "container",
  ]),
  metric("kube_pod_container_resource_limits", "gauge", "kubeStateMetrics", [
    "namespace",
    "pod",
    "uid",
    "container",
    "node",
    "resource",
    "unit",
  ]),
  metric("kube_node_status_condition", "gauge", "kubeStateMetrics", ["node", "condition", "status"]),
  metric("container_cpu_usage_seconds_total", "counter", "cadvisor", CADVISOR_LABELS),
  metric("container_memory_working_set_bytes", "gauge", "cadvisor", CADVISOR_LABELS),
  metric("kubelet_volume_stats_available_bytes", "gauge", "kubelet", ["namespace", "persistentvolumeclaim"]),
  metric("kubelet_volume_stats_capacity_bytes", "gauge", "kubelet", ["namespace", "persistentvolumeclaim"]),
  metric("flagger_canary_status", "gauge", "flagger", ["name", "namespace"]),
  metric("flagger_canary_weight", "gauge", "flagger", ["workload", "namespace"]),
  metric("velero_backup_last_successful_timestamp", "gauge", "velero", ["schedule"]),
  metric("velero_backup_failure_total", "counter", "velero", ["schedule"]),
  metric("prometheus_rule_evaluation_failures_total", "counter", "prometheus", ["rule_group"]),
  metric("alertmanager_notifications_failed_total", "counter", "alertmanager", ["integration", "reason"]),
  metric("ALERTS", "synthetic", "ruleEvaluation", ["alertname", "alertstate"], true),
  metric("up", "synthetic", "scrapeTarget", [], true),
];

/** The contract entry of a metric name; throws for a name outside the contract. */
export function contractMetric(name: string): ContractMetric {
  const found = CONTRACT_METRICS.find((m) => m.name === name);
  if (!found) throw new Error(`${name} is not in the telemetry contract (lib/telemetry.ts CONTRACT_METRICS)`);
  return found;
}

/** The exporter of a contract metric. */
export function exporterOf(name: string): Exporter {
  return EXPORTERS[contractMetric(name).exporter];
}

/**
 * Each source's selector, read by every rule, dashboard and MetricTemplate (kubernetes-mixin's `_config`):
 * a relabelled job is a one-line change here.
 */
export const SELECTORS = {
  /** Istio request metrics as the server-side proxy reports them (one report per request). */
  istio: 'reporter="destination"',
  kubeStateMetrics: `job="${EXPORTERS.kubeStateMetrics.target.job}"`,
  cadvisor: `job="${EXPORTERS.cadvisor.target.job}", metrics_path="${EXPORTERS.cadvisor.target.metrics_path}"`,
  kubelet: `job="${EXPORTERS.kubelet.target.job}", metrics_path="${EXPORTERS.kubelet.target.metrics_path}"`,
  flagger: `job="${EXPORTERS.flagger.target.job}"`,
  velero: `job="${EXPORTERS.velero.target.job}"`,
  prometheus: `job="${EXPORTERS.prometheus.target.job}"`,
  alertmanager: `job="${EXPORTERS.alertmanager.target.job}"`,
} as const;

/**
 * Label on every canary alert, kept on its ALERTS series: the alert concerns the canary alone, so Flagger's
 * alert gate counts it. The service-wide SLO burn alerts, computed over primary and canary together, do not
 * carry it, so a primary burning its budget never rolls back the canary that carries the fix.
 */
export const CANARY_SCOPE = { label: "scope", value: "canary" } as const;

/**
 * A float label value as Prometheus 3 stores `le` and `quantile` (OpenMetrics form; prometheus
 * model/labels FormatOpenMetricsFloat): Go's shortest `%g`, with ".0" appended when neither "." nor "e" is in
 * it. 250 -> "250.0", 0.5 -> "0.5", 1800000 -> "1.8e+06".
 */
export function openMetricsFloat(f: number): string {
  if (f === Infinity) return "+Inf";
  if (f === -Infinity) return "-Inf";
  if (Number.isNaN(f)) return "NaN";
  if (f === 0) return "0.0";
  const [mantissa, e] = f.toExponential().split("e");
  const exp = Number(e);
  // Go's strconv 'g' with the shortest precision uses the exponent form below 1e-4 and from 1e6 (eprec 6).
  let s: string;
  if (exp < -4 || exp >= 6) {
    s = `${mantissa}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  } else {
    s = String(f);
  }
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** Labels of one stored series: exporter's own labels plus target labels, after honor_labels. */
export type StoredLabels = Record<string, string>;

/**
 * The label set a series has in Prometheus: `own` are the labels the exporter writes (each must be one of the
 * contract's labels for the metric, or this throws), `target` overrides per-target example values (pod,
 * instance, namespace of the scraped pod). Clashes are resolved as honor_labels decides: with honorLabels the
 * exporter's label is kept, without it the target's is kept and the exporter's is stored as `exported_<name>`.
 * `le` values are normalised to Prometheus 3's float form.
 */
export function storedLabels(
  name: string,
  own: Record<string, string | number>,
  target: Record<string, string> = {},
  appNamespace?: string,
): StoredLabels {
  const m = contractMetric(name);
  const exp = EXPORTERS[m.exporter] as Exporter;
  for (const key of Object.keys(own))
    if (!m.openLabels && !m.labels.includes(key))
      throw new Error(`${name} has no label "${key}" (its labels: ${m.labels.join(", ")})`);
  const resolve = (v: string) => (appNamespace !== undefined ? v.replace(APP_NAMESPACE, appNamespace) : v);
  const targetLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...exp.target, ...target })) targetLabels[k] = resolve(v);
  const ownLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries(own))
    ownLabels[k] =
      k === "le" || k === "quantile" ? (typeof v === "number" ? openMetricsFloat(v) : v) : String(v);
  const out: Record<string, string> = { ...targetLabels };
  for (const [k, v] of Object.entries(ownLabels)) {
    if (k in targetLabels && !exp.honorLabels) out[`exported_${k}`] = v;
    else out[k] = v;
  }
  return out;
}

/** `name{a="b", ...}` in PromQL series notation (promtool input_series). */
export function seriesNotation(name: string, labels: StoredLabels): string {
  const body = Object.entries(labels)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`)
    .join(", ");
  return `${name}{${body}}`;
}

/** A stored series of a contract metric, in series notation. */
export function storedSeries(
  name: string,
  own: Record<string, string | number>,
  target: Record<string, string> = {},
  appNamespace?: string,
): string {
  return seriesNotation(name, storedLabels(name, own, target, appNamespace));
}

/**
 * Every label name a contract metric can carry when stored (exporter labels, target labels and their
 * `exported_` renames); undefined for metrics with open label sets.
 */
export function storedLabelNames(name: string): Set<string> | undefined {
  const m = contractMetric(name);
  if (m.openLabels) return undefined;
  const exp = EXPORTERS[m.exporter] as Exporter;
  const names = new Set<string>([...Object.keys(exp.target), ...m.labels]);
  if (!exp.honorLabels) for (const l of m.labels) if (l in exp.target) names.add(`exported_${l}`);
  return names;
}

/**
 * Target labels whose value the monitor fixes for every series of the metric (a selector that names one
 * of them with another value selects nothing). Labels the exporter itself writes win under honor_labels and
 * are not fixed.
 */
export function fixedTargetLabels(name: string): Record<string, string> {
  const m = contractMetric(name);
  const exp = EXPORTERS[m.exporter] as Exporter;
  const fixed: Record<string, string> = {};
  for (const key of ["job", "endpoint", "service", "container", "metrics_path"]) {
    const v = (exp.target as Record<string, string>)[key];
    if (v === undefined) continue;
    if (exp.honorLabels && m.labels.includes(key)) continue;
    fixed[key] = v;
  }
  return fixed;
}
