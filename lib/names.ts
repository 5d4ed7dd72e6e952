/**
 * Names that several components must agree on: namespaces, selector labels, in-cluster addresses.
 * A component that creates one of these objects uses the constant; one that refers to it uses it too.
 */
import type { Settings } from "../settings";

export const NAMESPACES = {
  istio: "istio-system",
  ingress: "istio-ingress",
  monitoring: "monitoring",
  /** Flagger and its load tester run next to istiod. */
  flagger: "istio-system",
  velero: "velero",
  certManager: "cert-manager",
  rabbitmq: "rabbitmq",
  rabbitmqOperator: "rabbitmq-system",
} as const;

/** The application namespace of a stack: `ai-workflow-<env>`. */
export function appNamespace(settings: Pick<Settings, "environment">): string {
  return `ai-workflow-${settings.environment}`;
}

/** Label that the estate's Prometheus uses to select PrometheusRules, ServiceMonitors and PodMonitors. */
export const MONITORING_SELECTOR = { "aiwp.io/monitoring": "estate" } as const;

/** Label the Grafana dashboard sidecar watches for dashboard ConfigMaps. */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;

/** Secret (key `alertmanager.yaml`) holding the Alertmanager configuration; kube-prometheus-stack mounts it. */
export const ALERTMANAGER_CONFIG_SECRET = "alertmanager-estate-config";

/**
 * Names of the Velero Schedules. Velero labels its backup metrics with the schedule's name (`schedule`), so the
 * RPO alert reads the hourly one by this name: a fresh daily backup must not hide a failing hourly one.
 */
export const VELERO_SCHEDULES = { hourly: "hourly", daily: "daily-full" } as const;

/** Release names, also the prefix of the objects the charts create. */
export const RELEASES = {
  prometheusStack: "kube-prometheus-stack",
  istioBase: "istio-base",
  istiod: "istiod",
  gateway: "istio-ingressgateway",
  flagger: "flagger",
  loadtester: "flagger-loadtester",
  velero: "velero",
  rabbitmqOperator: "rabbitmq-cluster-operator",
  otelCollector: "otel-collector",
} as const;

/** In-cluster address of the estate's Prometheus (kube-prometheus-stack with fullnameOverride "kps"). */
export const PROMETHEUS_URL = `http://kps-prometheus.${NAMESPACES.monitoring}:9090`;

/** In-cluster address of flagger-loadtester. */
export const LOADTESTER_URL = `http://${RELEASES.loadtester}.${NAMESPACES.flagger}/`;

/** Istio ingress gateway workload labels (selector for Gateway and AuthorizationPolicies). */
export const GATEWAY_SELECTOR = { istio: "ingressgateway" } as const;

/** Name of the ingress subnet: the gateway's internal load balancer and its Private Link Service live there. */
export const INGRESS_SUBNET_NAME = "snet-ingress";

/** The Private Link Service AKS creates for the ingress gateway's internal load balancer; Front Door connects to it. */
export function ingressPrivateLinkServiceName(prefix: string): string {
  return `${prefix}-ingress-pls`;
}

/** The Istio Gateway object that routed services attach to ("<namespace>/<name>"). */
export const PUBLIC_GATEWAY = `${NAMESPACES.ingress}/public-gateway`;

/** Critical alerts of a service carry these labels; the Flagger alert gate selects on them. */
export const ALERT_LABELS = {
  severity: "severity",
  service: "service",
  namespace: "namespace",
  team: "team",
} as const;

/** Base URL of the runbooks; every alert's runbook_url is `${RUNBOOK_BASE_URL}/<AlertName>.md`. */
export const RUNBOOK_BASE_URL = "https://github.com/aiwp/aiwp-estate/blob/main/docs/runbooks";

/** Resource name prefix of a stack: "<prefix>-<env>" (e.g. aiwp-prod). */
export function stackPrefix(settings: Pick<Settings, "prefix" | "environment">): string {
  return `${settings.prefix}-${settings.environment}`;
}

/** Tags every Azure resource carries. */
export function standardTags(settings: Pick<Settings, "tags" | "environment">): Record<string, string> {
  return { ...settings.tags, environment: settings.environment, "managed-by": "pulumi" };
}

/** The code-execution node pool: its node label (nodeSelector) and its taint (pods must tolerate it). */
export const CODE_EXECUTION_POOL = {
  label: { workload: "code-execution" },
  taint: { key: "code-execution", value: "true", effect: "NoSchedule" },
} as const;

/** Service account of the ingress gateway pods (the gateway chart names it after its release). */
export const GATEWAY_SERVICE_ACCOUNT = { namespace: NAMESPACES.ingress, name: RELEASES.gateway } as const;

/** Service account of flagger-loadtester (set by the platform's release values), caller of canary webhooks. */
export const LOADTESTER_SERVICE_ACCOUNT = {
  namespace: NAMESPACES.flagger,
  name: RELEASES.loadtester,
} as const;

/**
 * Static internal load balancer address of the ingress gateway (annotation
 * service.beta.kubernetes.io/azure-load-balancer-ipv4): the 10th address of the ingress subnet, so Front Door's
 * origin and the gateway Service agree on it before either exists.
 */
export function ingressLoadBalancerIp(settings: Pick<Settings, "network">): string {
  const [address] = settings.network.subnets.ingress.split("/");
  const octets = address.split(".").map(Number);
  const value = ((octets[0] * 256 + octets[1]) * 256 + octets[2]) * 256 + octets[3] + 10;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join(".");
}

/**
 * Secret in the application namespace whose key holds the AMQP URI (amqp://user:pass@host:5672/vhost) of
 * the workflow queue: the RabbitMQ component writes it there (the operator's `<cluster>-default-user` Secret
 * lives in the RabbitMQ namespace, out of reach of the application's KEDA TriggerAuthentication).
 */
export const AMQP_SECRET = { name: "rabbitmq-amqp", key: "host" } as const;

/** Service account of the estate's Prometheus (kube-prometheus-stack "kps"): its mesh identity scrapes services. */
export const PROMETHEUS_SERVICE_ACCOUNT = {
  namespace: NAMESPACES.monitoring,
  name: "kps-prometheus",
} as const;

/**
 * The OpenTelemetry Collector the mesh sends spans to: its Service (the chart's fullnameOverride), namespace,
 * OTLP/gRPC port and pod labels (NetworkPolicies select the collector pods by them).
 */
export const OTEL_COLLECTOR = {
  service: "otel-collector",
  namespace: NAMESPACES.monitoring,
  otlpGrpcPort: 4317,
  podLabels: { "app.kubernetes.io/instance": RELEASES.otelCollector },
} as const;
