import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import type { ObservabilitySettings } from "../../settings";
import {
  ALERTMANAGER_CONFIG_SECRET,
  GRAFANA_DASHBOARD_LABEL,
  MONITORING_SELECTOR,
  NAMESPACES,
  RELEASES,
} from "../../lib/names";
import { KPS_FULLNAME } from "../../lib/telemetry";
import { CHARTS, SYSTEM_POOL, chartSource } from "../charts";
import { PRIORITY_CLASSES } from "../priorityClasses";

/** Makes the chart's object names `kps-*`, which PROMETHEUS_URL (lib/names.ts) relies on. */
export const FULLNAME_OVERRIDE = KPS_FULLNAME;

/** Secret holding the Grafana admin credentials; the chart reads it through `grafana.admin.existingSecret`. */
export const GRAFANA_ADMIN_SECRET = "grafana-admin";

/** Premium SSD CSI storage class AKS ships. */
export const STORAGE_CLASS = "managed-csi-premium";

/** Where Prometheus finds the mesh certificates its sidecar writes (see `istioCertsMount`). */
const PROM_CERTS = "/etc/prom-certs";

/**
 * TLS settings for a ServiceMonitor/PodMonitor endpoint that scrapes an injected pod directly under STRICT mTLS
 * (use with `scheme: "https"`). Prometheus presents its mesh certificate; Istio's certificates carry SPIFFE ids,
 * not DNS names, so the server name is not verified.
 */
export const ISTIO_MTLS_SCRAPE = {
  scheme: "https",
  tlsConfig: {
    caFile: `${PROM_CERTS}/root-cert.pem`,
    certFile: `${PROM_CERTS}/cert-chain.pem`,
    keyFile: `${PROM_CERTS}/key.pem`,
    insecureSkipVerify: true,
  },
} as const;

function volumeClaim(size: string): Record<string, unknown> {
  return {
    volumeClaimTemplate: {
      spec: {
        storageClassName: STORAGE_CLASS,
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: size } },
      },
    },
  };
}

/**
 * kube-prometheus-stack values. Prometheus selects rules, ServiceMonitors and PodMonitors by MONITORING_SELECTOR in
 * every namespace (the *NilUsesHelmValues flags off so the chart's own release label is not required instead).
 */
export function prometheusStackValues(
  o: Pick<ObservabilitySettings, "prometheus" | "alertmanager" | "grafana">,
): Record<string, unknown> {
  const selector = { matchLabels: { ...MONITORING_SELECTOR } };
  const [dashboardLabel, dashboardValue] = Object.entries(GRAFANA_DASHBOARD_LABEL)[0];
  return {
    fullnameOverride: FULLNAME_OVERRIDE,
    crds: { enabled: true },
    // The parent chart's own rules and monitors carry MONITORING_SELECTOR through commonLabels. Helm does not
    // pass commonLabels into subcharts: kube-state-metrics, node-exporter and Grafana label their
    // ServiceMonitors from their own values (kube-state-metrics templates/servicemonitor.yaml
    // `prometheus.monitor.additionalLabels`, prometheus-node-exporter likewise, grafana `serviceMonitor.labels`).
    commonLabels: { ...MONITORING_SELECTOR },
    prometheusOperator: {
      nodeSelector: SYSTEM_POOL.nodeSelector,
      tolerations: SYSTEM_POOL.tolerations,
      priorityClassName: PRIORITY_CLASSES.platform.name,
    },
    "kube-state-metrics": {
      priorityClassName: PRIORITY_CLASSES.platform.name,
      nodeSelector: SYSTEM_POOL.nodeSelector,
      tolerations: SYSTEM_POOL.tolerations,
      prometheus: { monitor: { additionalLabels: { ...MONITORING_SELECTOR } } },
    },
    // A DaemonSet pod must fit on nodes already full of services: it outranks them.
    "prometheus-node-exporter": {
      priorityClassName: PRIORITY_CLASSES.platform.name,
      prometheus: { monitor: { additionalLabels: { ...MONITORING_SELECTOR } } },
    },
    prometheus: {
      prometheusSpec: {
        replicas: o.prometheus.replicas,
        priorityClassName: PRIORITY_CLASSES.platform.name,
        retention: o.prometheus.retention,
        retentionSize: o.prometheus.retentionSize,
        // The canary rollback budget counts these (lib/flaggerTiming.ts): observability.prometheus settings.
        scrapeInterval: o.prometheus.scrapeInterval,
        evaluationInterval: o.prometheus.evaluationInterval,
        storageSpec: volumeClaim(o.prometheus.storage),
        podAntiAffinity: "soft",
        ruleSelectorNilUsesHelmValues: false,
        serviceMonitorSelectorNilUsesHelmValues: false,
        podMonitorSelectorNilUsesHelmValues: false,
        ruleSelector: selector,
        serviceMonitorSelector: selector,
        podMonitorSelector: selector,
        ruleNamespaceSelector: {},
        serviceMonitorNamespaceSelector: {},
        podMonitorNamespaceSelector: {},
        // A sidecar that only writes mesh certificates (no traffic capture) lets Prometheus scrape STRICT mTLS pods.
        podMetadata: {
          labels: { "sidecar.istio.io/inject": "true" },
          annotations: {
            "traffic.sidecar.istio.io/includeInboundPorts": "",
            "traffic.sidecar.istio.io/includeOutboundIPRanges": "",
            "proxy.istio.io/config": "proxyMetadata:\n  OUTPUT_CERTS: /etc/istio-output-certs\n",
            "sidecar.istio.io/userVolumeMount":
              '[{"name": "istio-certs", "mountPath": "/etc/istio-output-certs"}]',
          },
        },
        volumes: [{ name: "istio-certs", emptyDir: { medium: "Memory" } }],
        volumeMounts: [{ name: "istio-certs", mountPath: PROM_CERTS, readOnly: true }],
      },
    },
    alertmanager: {
      alertmanagerSpec: {
        replicas: o.alertmanager.replicas,
        priorityClassName: PRIORITY_CLASSES.platform.name,
        storage: volumeClaim(o.alertmanager.storage),
        podAntiAffinity: "soft",
        // The estate's configuration (routes, receivers, secrets) lives in its own Secret; the chart's is not created.
        configSecret: ALERTMANAGER_CONFIG_SECRET,
        useExistingSecret: true,
      },
    },
    grafana: {
      replicas: o.grafana.replicas,
      priorityClassName: PRIORITY_CLASSES.platform.name,
      serviceMonitor: { labels: { ...MONITORING_SELECTOR } },
      admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
      // SQLite on a ReadWriteOnce disk cannot be shared: persist only a single replica; dashboards come from ConfigMaps.
      persistence:
        o.grafana.replicas === 1
          ? {
              enabled: true,
              type: "sts",
              storageClassName: STORAGE_CLASS,
              accessModes: ["ReadWriteOnce"],
              size: o.grafana.storage,
            }
          : { enabled: false },
      sidecar: {
        dashboards: {
          enabled: true,
          label: dashboardLabel,
          labelValue: dashboardValue,
          searchNamespace: "ALL",
        },
        datasources: { enabled: true },
      },
    },
  };
}

/** PodMonitor for every sidecar's merged Envoy + application metrics (Istio's documented scrape config). */
export function envoyPodMonitorSpec(
  /** observability.prometheus.meshScrapeInterval: the canary checks' data arrive at this pace. */
  interval = "15s",
): Record<string, unknown> {
  return {
    selector: { matchExpressions: [{ key: "istio-prometheus-ignore", operator: "DoesNotExist" }] },
    namespaceSelector: { any: true },
    jobLabel: "envoy-stats",
    podMetricsEndpoints: [
      {
        path: "/stats/prometheus",
        interval,
        relabelings: [
          { action: "keep", sourceLabels: ["__meta_kubernetes_pod_container_name"], regex: "istio-proxy" },
          { action: "keep", sourceLabels: ["__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape"] },
          {
            action: "replace",
            regex: "(\\d+);(([A-Fa-f0-9]{1,4}::?){1,7}[A-Fa-f0-9]{1,4})",
            replacement: "[$2]:$1",
            sourceLabels: ["__meta_kubernetes_pod_annotation_prometheus_io_port", "__meta_kubernetes_pod_ip"],
            targetLabel: "__address__",
          },
          {
            action: "replace",
            regex: "(\\d+);((([0-9]+?)(\\.|$)){4})",
            replacement: "$2:$1",
            sourceLabels: ["__meta_kubernetes_pod_annotation_prometheus_io_port", "__meta_kubernetes_pod_ip"],
            targetLabel: "__address__",
          },
          { action: "labeldrop", regex: "__meta_kubernetes_pod_label_(.+)" },
          { action: "replace", sourceLabels: ["__meta_kubernetes_namespace"], targetLabel: "namespace" },
          { action: "replace", sourceLabels: ["__meta_kubernetes_pod_name"], targetLabel: "pod" },
        ],
      },
    ],
  };
}

export interface PrometheusStackArgs {
  /** Prometheus, Alertmanager and Grafana settings of the stack. */
  observability: Pick<ObservabilitySettings, "prometheus" | "alertmanager" | "grafana">;
  /** Grafana admin password (Pulumi secret `grafanaAdminPassword`). */
  grafanaAdminPassword: pulumi.Input<string>;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
  /** Resources the release waits for (the namespaces). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** kube-prometheus-stack with the estate's selectors, storage and Grafana credentials, plus the mesh and Flagger scrapes. */
export class PrometheusStack extends pulumi.ComponentResource {
  /** The Helm release; PrometheusRules and monitors depend on it (it installs the CRDs). */
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: PrometheusStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:observability:PrometheusStack", name, {}, opts);
    const childOpts = { parent: this, provider: args.provider };
    const adminSecret = new k8s.core.v1.Secret(
      `${name}-grafana-admin`,
      {
        metadata: { name: GRAFANA_ADMIN_SECRET, namespace: NAMESPACES.monitoring },
        type: "Opaque",
        stringData: { "admin-user": "admin", "admin-password": pulumi.secret(args.grafanaAdminPassword) },
      },
      { ...childOpts, dependsOn: args.dependsOn },
    );
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        ...chartSource(CHARTS.prometheusStack),
        name: RELEASES.prometheusStack,
        namespace: NAMESPACES.monitoring,
        values: prometheusStackValues(args.observability),
      },
      { ...childOpts, dependsOn: [adminSecret] },
    );
    const crOpts = { ...childOpts, dependsOn: [this.release] };
    const monitor = (id: string, kind: string, namespace: string, objName: string, spec: object) =>
      new k8s.apiextensions.CustomResource(
        `${name}-${id}`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind,
          metadata: { name: objName, namespace, labels: { ...MONITORING_SELECTOR } },
          spec,
        },
        crOpts,
      );
    monitor(
      "envoy",
      "PodMonitor",
      NAMESPACES.istio,
      "envoy-stats",
      envoyPodMonitorSpec(args.observability.prometheus.meshScrapeInterval),
    );
    monitor("istiod", "ServiceMonitor", NAMESPACES.istio, "istiod", {
      jobLabel: "istio",
      targetLabels: ["app"],
      selector: { matchExpressions: [{ key: "istio", operator: "In", values: ["pilot"] }] },
      namespaceSelector: { matchNames: [NAMESPACES.istio] },
      endpoints: [{ port: "http-monitoring", interval: "15s" }],
    });
    // Flagger's series name the canary's namespace in their own `namespace` label, which the target's
    // `namespace` (istio-system) would otherwise rename to `exported_namespace` (Flagger v1.44
    // pkg/metrics/recorder.go; the chart's podMonitor.honorLabels exists for the same reason).
    monitor("flagger", "PodMonitor", NAMESPACES.flagger, "flagger", {
      selector: { matchLabels: { "app.kubernetes.io/name": "flagger" } },
      namespaceSelector: { matchNames: [NAMESPACES.flagger] },
      podMetricsEndpoints: [{ port: "http", path: "/metrics", interval: "15s", honorLabels: true }],
    });
    this.registerOutputs({});
  }
}
