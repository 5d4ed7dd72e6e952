/**
 * The cluster's wiring contract (ESTATE section 4): every in-cluster flow the estate needs and every flow it
 * must never allow, as one table built from a stack's settings. The NetworkPolicies (components/namespaces.ts),
 * the PeerAuthentication exceptions (components/mesh.ts) and the AuthorizationPolicies (components/mesh.ts,
 * components/service.ts) are derived from it; lib/wiring/verify.ts checks it against the estate as it runs.
 *
 * Workloads are named references: a namespace and the labels its pods really carry (taken from the charts'
 * rendered pod templates, the operators' pod labels and the program's own Deployments).
 */
import type { Settings, ServiceSettings } from "../../settings";
import { effectiveAnalysis } from "../../settings/rules";
import {
  GATEWAY_SELECTOR,
  GATEWAY_SERVICE_ACCOUNT,
  LOADTESTER_SERVICE_ACCOUNT,
  NAMESPACES,
  OTEL_COLLECTOR,
  PROMETHEUS_SERVICE_ACCOUNT,
  appNamespace,
} from "../names";
import type { Flow, FlowTable, PortSpec, Protocol } from "./types";

/** Label on service pods (canary and Flagger's primary alike); components/service.ts sets it. */
const SERVICE_LABEL = "aiwp.io/service";

/** Istio's mesh root namespace: mesh-wide PeerAuthentication and AuthorizationPolicies live there. */
export const MESH_ROOT_NAMESPACE = NAMESPACES.istio;

/** Ports every injected pod's sidecar serves itself, outside its inbound capture (Istio's port reference). */
export const SIDECAR_PORTS = { envoyStats: 15090, agent: 15020, health: 15021 } as const;

/** A pod group the table names. */
export interface Workload {
  namespace: string;
  /** Labels that select the workload's pods (a subset of what they carry). */
  labels: Readonly<Record<string, string>>;
  /** Service account (the pods' mesh identity). */
  serviceAccount: string;
  /** Whether the pods run an Istio sidecar; the verifier checks this against istiod's injection webhook. */
  sidecar: boolean;
  /** Ports the pods listen on, by name. Injected pods also serve SIDECAR_PORTS. */
  ports: Readonly<Record<string, number>>;
  /**
   * Inbound ports the sidecar does not capture (traffic.sidecar.istio.io/excludeInboundPorts, or "all" for
   * includeInboundPorts ""): mTLS and AuthorizationPolicies do not apply to them.
   */
  uncaptured?: readonly number[] | "all";
  /** The pods are an Istio gateway (its listeners are not a sidecar's inbound: PeerAuthentication does not apply). */
  gateway?: boolean;
  /**
   * Set for pods that no object of the estate declares (AKS add-ons): where their labels come from. The
   * verifier takes the reference itself as the pod.
   */
  managedBy?: string;
}

/** One end of an in-cluster flow. */
export type ClusterEndpoint =
  /** The pods of a named workload. */
  | { workload: string }
  /** Every pod of a namespace. */
  | { namespace: string }
  /**
   * An address outside the pod network. `cidr` is what a NetworkPolicy ipBlock would have to cover; without
   * it (the API server, whose webhook calls arrive through AKS' konnectivity tunnel) only a rule that admits
   * every source admits it.
   */
  | { address: string; cidr?: string; except?: readonly string[] };

/** An HTTP request that stands for the flow in AuthorizationPolicy checks. */
export interface HttpRequest {
  method: string;
  path: string;
}

/** A row of the cluster table. */
export interface ClusterFlow extends Flow<ClusterEndpoint> {
  /** The request the flow makes (HTTP flows); without it the flow is plain TCP to the mesh. */
  request?: HttpRequest;
  /**
   * The operations an AuthorizationPolicy grants the flow at its destination (each entry an Istio operation's
   * methods and paths; empty lists mean any). Absent: the flow is granted whatever it sends.
   */
  allow?: readonly { methods: readonly string[]; paths: readonly string[] }[];
  /**
   * The client presents its mesh certificate itself (Prometheus scrapes with the certificates its
   * output-only sidecar writes) rather than through a capturing sidecar.
   */
  clientCertificate?: boolean;
}

export interface ClusterTable extends FlowTable<ClusterEndpoint> {
  required: readonly ClusterFlow[];
  forbidden: readonly ClusterFlow[];
}

/** The table and the workloads it names. */
export interface ClusterWiring {
  workloads: Readonly<Record<string, Workload>>;
  table: ClusterTable;
  /** Namespaces whose pods get an Istio sidecar (namespace label istio-injection=enabled). */
  injectedNamespaces: readonly string[];
  /** Namespaces that deny egress by default (only the table's flows leave them). */
  egressDenied: readonly string[];
  /** Plain-text exceptions to mesh-wide STRICT mTLS (settings.mesh.permissiveExceptions), resolved to workloads. */
  permissive: readonly PermissiveException[];
}

/** A workload port that accepts plain text. */
export interface PermissiveException {
  workload: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  /** The container port; absent: every port of the workload. */
  port?: number;
  reason: string;
}

/** Workload reference of a catalogue service (its canary pods and Flagger's primary pods). */
export function serviceWorkload(name: string): string {
  return `service:${name}`;
}

/** The platform's workloads (labels from the charts' and operators' pod templates). */
export function platformWorkloads(): Record<string, Workload> {
  return {
    istiod: {
      namespace: NAMESPACES.istio,
      labels: { app: "istiod" },
      serviceAccount: "istiod",
      sidecar: false,
      ports: {
        "http-debug": 8080,
        "grpc-xds": 15010,
        "tls-xds": 15012,
        "https-webhook": 15017,
        "http-monitoring": 15014,
      },
    },
    flagger: {
      namespace: NAMESPACES.flagger,
      labels: { "app.kubernetes.io/name": "flagger" },
      serviceAccount: "flagger",
      sidecar: false,
      ports: { http: 8080 },
    },
    loadtester: {
      namespace: NAMESPACES.flagger,
      labels: { app: "loadtester" },
      serviceAccount: LOADTESTER_SERVICE_ACCOUNT.name,
      sidecar: true,
      ports: { http: 8080 },
    },
    "ingress-gateway": {
      namespace: NAMESPACES.ingress,
      labels: { ...GATEWAY_SELECTOR },
      serviceAccount: GATEWAY_SERVICE_ACCOUNT.name,
      sidecar: true,
      gateway: true,
      ports: { http2: 80, https: 443 },
    },
    prometheus: {
      // prometheus-operator's StatefulSet pod labels (pkg/prometheus/server/statefulset.go).
      namespace: NAMESPACES.monitoring,
      labels: { "app.kubernetes.io/name": "prometheus", "operator.prometheus.io/name": "kps-prometheus" },
      serviceAccount: PROMETHEUS_SERVICE_ACCOUNT.name,
      sidecar: true,
      // The sidecar only writes mesh certificates (prometheusStack.ts podMetadata): nothing is captured.
      uncaptured: "all",
      ports: { web: 9090, "reloader-web": 8080 },
    },
    alertmanager: {
      namespace: NAMESPACES.monitoring,
      labels: { "app.kubernetes.io/name": "alertmanager", alertmanager: "kps-alertmanager" },
      serviceAccount: "kps-alertmanager",
      sidecar: false,
      ports: { web: 9093, "mesh-tcp": 9094, "reloader-web": 8080 },
    },
    grafana: {
      namespace: NAMESPACES.monitoring,
      labels: { "app.kubernetes.io/name": "grafana" },
      serviceAccount: "kube-prometheus-stack-grafana",
      sidecar: false,
      ports: { grafana: 3000 },
    },
    "kube-state-metrics": {
      namespace: NAMESPACES.monitoring,
      labels: { "app.kubernetes.io/name": "kube-state-metrics" },
      serviceAccount: "kube-prometheus-stack-kube-state-metrics",
      sidecar: false,
      ports: { http: 8080 },
    },
    "node-exporter": {
      namespace: NAMESPACES.monitoring,
      labels: { "app.kubernetes.io/name": "prometheus-node-exporter" },
      serviceAccount: "kube-prometheus-stack-prometheus-node-exporter",
      sidecar: false,
      ports: { "http-metrics": 9100 },
    },
    "prometheus-operator": {
      namespace: NAMESPACES.monitoring,
      labels: { app: "kube-prometheus-stack-operator" },
      serviceAccount: "kps-operator",
      sidecar: false,
      ports: { https: 10250 },
    },
    "otel-collector": {
      namespace: OTEL_COLLECTOR.namespace,
      labels: { ...OTEL_COLLECTOR.podLabels },
      serviceAccount: OTEL_COLLECTOR.service,
      sidecar: false,
      ports: { otlp: OTEL_COLLECTOR.otlpGrpcPort },
    },
    velero: {
      namespace: NAMESPACES.velero,
      labels: { "app.kubernetes.io/name": "velero" },
      serviceAccount: "velero",
      sidecar: false,
      ports: { "http-monitoring": 8085 },
    },
    "cert-manager-webhook": {
      namespace: NAMESPACES.certManager,
      labels: { "app.kubernetes.io/name": "webhook", "app.kubernetes.io/component": "webhook" },
      serviceAccount: "cert-manager-webhook",
      sidecar: false,
      ports: { https: 10250 },
    },
    "rabbitmq-cluster-operator": {
      namespace: NAMESPACES.rabbitmqOperator,
      labels: { "app.kubernetes.io/component": "rabbitmq-operator" },
      serviceAccount: "rabbitmq-cluster-operator",
      sidecar: true,
      ports: { http: 9782 },
    },
    "topology-operator": {
      namespace: NAMESPACES.rabbitmqOperator,
      labels: { "app.kubernetes.io/component": "messaging-topology-operator" },
      serviceAccount: "rabbitmq-cluster-operator-rabbitmq-messaging-topology-operator",
      sidecar: true,
      // rabbitmq.ts excludes the webhook port from capture: the API server has no mesh identity.
      uncaptured: [9443],
      ports: { "https-webhook": 9443, "http-metrics": 8080 },
    },
    "workflow-queue": {
      // cluster-operator's pod labels for a RabbitmqCluster (internal/metadata/label.go) and its ports.
      namespace: NAMESPACES.rabbitmq,
      labels: { "app.kubernetes.io/name": "workflow-queue" },
      serviceAccount: "workflow-queue-server",
      sidecar: true,
      ports: { amqp: 5672, management: 15672, prometheus: 15692, epmd: 4369, "cluster-links": 25672 },
    },
    "kube-dns": {
      namespace: "kube-system",
      labels: { "k8s-app": "kube-dns" },
      serviceAccount: "coredns",
      sidecar: false,
      ports: { dns: 53, metrics: 9153 },
      managedBy: "AKS CoreDNS (the kps chart's coredns ServiceMonitor selects k8s-app=kube-dns)",
    },
    keda: {
      // The AKS KEDA add-on runs in kube-system (learn.microsoft.com/azure/aks/keda-deploy-add-on-cli); its
      // operator, which polls the scalers' sources, carries KEDA's upstream pod label (config/manager/manager.yaml).
      namespace: "kube-system",
      labels: { app: "keda-operator" },
      serviceAccount: "keda-operator",
      sidecar: false,
      ports: { http: 8080 },
      managedBy: "AKS KEDA add-on (workloadAutoScalerProfile.keda)",
    },
  };
}

/** Namespaces of platform charts, which keep traffic between their own pods. */
const PLATFORM_NAMESPACES = [
  NAMESPACES.istio,
  NAMESPACES.ingress,
  NAMESPACES.monitoring,
  NAMESPACES.velero,
  NAMESPACES.certManager,
  NAMESPACES.rabbitmqOperator,
];

/** The address name of the Kubernetes API server (webhook caller; destination of pods that use the API). */
export const KUBE_APISERVER = "kube-apiserver";
const API_SERVER: ClusterEndpoint = { address: KUBE_APISERVER };
const w = (workload: string): ClusterEndpoint => ({ workload });
const tcp = (ports: readonly PortSpec[]): { ports: readonly PortSpec[]; protocol: Protocol } => ({
  ports,
  protocol: "TCP",
});

/** The flows into one service: the gateway's route, the callers, Prometheus' scrape and the load tester. */
export function serviceInboundFlows(name: string, svc: ServiceSettings): ClusterFlow[] {
  const to = w(serviceWorkload(name));
  const flows: ClusterFlow[] = [];
  if (svc.exposed) {
    flows.push({
      id: `gateway-to-${name}`,
      from: w("ingress-gateway"),
      to,
      ...tcp([svc.port]),
      request: { method: "GET", path: svc.route === "/" ? "/" : `${svc.route}/` },
      ...(svc.route === "/" ? {} : { allow: [{ methods: [], paths: [svc.route, `${svc.route}/*`] }] }),
      why: `the ingress gateway routes ${svc.route} to ${name}`,
    });
  }
  if (svc.callers.length > 0) {
    const allow = svc.allowedPaths.map((p) => ({ methods: p.methods, paths: p.paths }));
    const request: HttpRequest = {
      method: svc.allowedPaths[0]?.methods[0] ?? "GET",
      path: svc.allowedPaths[0]?.paths[0]?.replace(/\*$/, "x") ?? svc.route,
    };
    for (const caller of svc.callers) {
      flows.push({
        id: `${caller}-to-${name}`,
        from: w(serviceWorkload(caller)),
        to,
        ...tcp([svc.port]),
        request,
        ...(allow.length ? { allow } : {}),
        why: `${caller} is listed in services.${name}.callers`,
      });
    }
  }
  flows.push({
    id: `prometheus-scrapes-${name}`,
    from: w("prometheus"),
    to,
    ...tcp([svc.port]),
    request: { method: "GET", path: "/metrics" },
    allow: [{ methods: ["GET"], paths: ["/metrics"] }],
    clientCertificate: true,
    why: `the ${name} ServiceMonitor scrapes /metrics over mTLS with Prometheus' mesh certificate`,
  });
  if (svc.strategy !== "rolling") {
    flows.push({
      id: `loadtester-to-${name}`,
      from: w("loadtester"),
      to,
      ...tcp([svc.port]),
      request: { method: "GET", path: "/health/ready" },
      allow: [{ methods: ["GET", "HEAD"], paths: [] }],
      why: `Flagger's acceptance and load-test webhooks call ${name}-canary (and the primary after promotion)`,
    });
  }
  return flows;
}

/** Sidecars in every injected workload; what each of them needs from the mesh. */
function sidecarFlows(name: string): ClusterFlow[] {
  const label = name.replace(/^service:/, "");
  return [
    {
      id: `${label}-to-istiod`,
      from: w(name),
      to: w("istiod"),
      ...tcp([15012]),
      why: "the sidecar fetches its configuration and certificates from istiod (xDS over TLS)",
    },
    {
      id: `prometheus-scrapes-${label}-envoy`,
      from: w("prometheus"),
      to: w(name),
      ...tcp([SIDECAR_PORTS.agent, SIDECAR_PORTS.envoyStats]),
      why: "the envoy-stats PodMonitor scrapes the sidecar's merged metrics (15020) and Envoy's own (15090)",
    },
  ];
}

/**
 * The stack's wiring table. Throws, naming the entry, when a flow names an unknown workload or port, when a
 * forbidden flow is also required, or when a required flow would need a plain-text exception that
 * settings.mesh.permissiveExceptions does not grant.
 */
export function clusterWiring(settings: Settings): ClusterWiring {
  const app = appNamespace(settings);
  const workloads: Record<string, Workload> = platformWorkloads();
  const services = Object.entries(settings.services);
  for (const [name, svc] of services) {
    workloads[serviceWorkload(name)] = {
      namespace: app,
      labels: { [SERVICE_LABEL]: name },
      serviceAccount: name,
      sidecar: true,
      ports: { http: svc.port },
    };
  }
  const dingtalk = settings.observability.receivers.dingtalk.enabled;
  if (dingtalk) {
    workloads["dingtalk-bridge"] = {
      namespace: NAMESPACES.monitoring,
      labels: { "app.kubernetes.io/name": "prometheus-webhook-dingtalk" },
      serviceAccount: "default",
      sidecar: false,
      ports: { http: 8060 },
    };
  }
  const meshed = Object.keys(workloads).filter((n) => workloads[n].sidecar);
  const keda = services.some(([, s]) => s.autoscaler === "keda");
  const holds = services.some(
    ([, s]) =>
      s.strategy === "canary" &&
      Object.keys(effectiveAnalysis(settings.delivery.canary, s.canary).holds ?? {}).length > 0,
  );
  const { network } = settings;
  const clusterRanges = [network.podCidr, network.serviceCidr];
  const required: ClusterFlow[] = [
    // Admission webhooks the API server calls (their configurations come with the charts).
    ...(
      [
        [
          "istiod",
          15017,
          "istiod's sidecar injector and config validation (failurePolicy Fail for injection)",
        ],
        [
          "cert-manager-webhook",
          10250,
          "cert-manager's validating and mutating webhooks (failurePolicy Fail)",
        ],
        [
          "prometheus-operator",
          10250,
          "the Prometheus Operator's PrometheusRule and AlertmanagerConfig webhooks",
        ],
        [
          "topology-operator",
          9443,
          "the messaging topology operator's webhooks for User and Permission (failurePolicy Fail)",
        ],
      ] as const
    ).map(([target, port, why]): ClusterFlow => ({
      id: `apiserver-to-${target}-webhook`,
      from: API_SERVER,
      to: w(target),
      ...tcp([port]),
      why,
    })),
    // Progressive delivery.
    {
      id: "flagger-to-prometheus",
      from: w("flagger"),
      to: w("prometheus"),
      ...tcp([9090]),
      request: { method: "GET", path: "/api/v1/query" },
      why: "Flagger runs every MetricTemplate query against the estate's Prometheus; a failed query fails the check",
    },
    {
      id: "flagger-to-loadtester",
      from: w("flagger"),
      to: w("loadtester"),
      ...tcp([8080]),
      request: { method: "POST", path: "/" },
      why: "Flagger calls the pre-rollout and rollout webhooks on the load tester",
    },
    ...services.flatMap(([name, svc]) => serviceInboundFlows(name, svc)),
    // Per-step holds: the gate runs in the load tester and reads the Canary's status with kubectl.
    ...(holds
      ? [
          {
            id: "loadtester-to-kubernetes-api",
            from: w("loadtester"),
            to: API_SERVER,
            ...tcp([443]),
            why: "the hold gate reads each Canary's weight and records when it was first seen (components/holdGate.ts)",
          },
        ]
      : []),
    // Autoscaling on backlog and request rate.
    ...(keda
      ? [
          {
            id: "keda-to-rabbitmq",
            from: w("keda"),
            to: w("workflow-queue"),
            ...tcp([5672]),
            why: "KEDA's rabbitmq trigger reads the queue length over AMQP",
          },
          {
            id: "keda-to-prometheus",
            from: w("keda"),
            to: w("prometheus"),
            ...tcp([9090]),
            request: { method: "GET", path: "/api/v1/query" },
            why: "KEDA's prometheus trigger reads the request rate",
          },
        ]
      : []),
    // The application and its queue.
    {
      id: "app-to-rabbitmq",
      from: { namespace: app },
      to: w("workflow-queue"),
      ...tcp([5672]),
      why: "the services publish and consume workflow tasks",
    },
    {
      id: "rabbitmq-peers",
      from: w("workflow-queue"),
      to: w("workflow-queue"),
      ...tcp([4369, 25672, 5672, 15672]),
      why: "the queue's replicas form one cluster (epmd, inter-node links) and forward to each other",
    },
    {
      id: "cluster-operator-to-rabbitmq",
      from: w("rabbitmq-cluster-operator"),
      to: w("workflow-queue"),
      ...tcp([15672]),
      request: { method: "GET", path: "/api/overview" },
      why: "the cluster operator reconciles plugins and users through the management API",
    },
    {
      id: "topology-operator-to-rabbitmq",
      from: w("topology-operator"),
      to: w("workflow-queue"),
      ...tcp([15672]),
      request: { method: "PUT", path: "/api/users/workflow-app" },
      why: "the topology operator creates the application's user and permissions through the management API",
    },
    // Observability.
    ...(
      [
        ["istiod", [15014], "istiod's control-plane metrics (ServiceMonitor istiod)"],
        ["kube-state-metrics", [8080], "object state for the canary and platform alerts"],
        ["node-exporter", [9100], "node metrics for the node alerts"],
        ["flagger", [8080], "flagger_canary_* metrics (PodMonitor flagger)"],
        ["velero", [8085], "velero_backup_* metrics for the backup alerts"],
        ["workflow-queue", [15692], "the queue's rabbitmq_prometheus metrics"],
        ["grafana", [3000], "Grafana's own metrics (chart ServiceMonitor)"],
        ["alertmanager", [9093, 8080], "Alertmanager and its config reloader (chart ServiceMonitor)"],
        ["prometheus-operator", [10250], "the operator's metrics (chart ServiceMonitor)"],
        ["kube-dns", [9153], "CoreDNS metrics (chart ServiceMonitor)"],
      ] as const
    ).map(([target, ports, why]): ClusterFlow => ({
      id: `prometheus-scrapes-${target}`,
      from: w("prometheus"),
      to: w(target),
      ...tcp(ports),
      ...(target === "workflow-queue" ? { clientCertificate: true } : {}),
      why,
    })),
    {
      id: "prometheus-to-alertmanager",
      from: w("prometheus"),
      to: w("alertmanager"),
      ...tcp([9093]),
      why: "Prometheus delivers firing alerts",
    },
    {
      id: "grafana-to-prometheus",
      from: w("grafana"),
      to: w("prometheus"),
      ...tcp([9090]),
      request: { method: "GET", path: "/api/v1/query_range" },
      why: "the dashboards' datasource",
    },
    {
      id: "alertmanager-to-receivers",
      from: w("alertmanager"),
      to: { address: "internet", cidr: "0.0.0.0/0", except: clusterRanges },
      ...tcp([443]),
      why: "Alertmanager posts to Slack, PagerDuty, Teams and the other receivers over HTTPS",
    },
    ...(dingtalk
      ? [
          {
            id: "alertmanager-to-dingtalk-bridge",
            from: w("alertmanager"),
            to: w("dingtalk-bridge"),
            ...tcp([8060]),
            why: "DingTalk alerts go through the webhook bridge",
          },
        ]
      : []),
    ...[app, NAMESPACES.rabbitmq, NAMESPACES.ingress, NAMESPACES.rabbitmqOperator].map((ns): ClusterFlow => ({
      id: `otlp-from-${ns}`,
      from: { namespace: ns },
      to: w("otel-collector"),
      ...tcp([OTEL_COLLECTOR.otlpGrpcPort]),
      why: "sidecars export their spans to the OpenTelemetry Collector (the mesh's tracing provider)",
    })),
    // Mesh control plane and DNS.
    ...meshed.flatMap(sidecarFlows),
    ...[app, NAMESPACES.rabbitmq].map((ns): ClusterFlow => ({
      id: `dns-from-${ns}`,
      from: { namespace: ns },
      to: w("kube-dns"),
      ports: [53],
      protocol: "Any",
      why: "name resolution through CoreDNS (UDP, and TCP for large answers)",
    })),
    // Platform namespaces keep traffic between their own components (chart internals: Alertmanager's gossip,
    // cert-manager's controller and webhook, istiod and its agents); the data and application namespaces do not.
    ...PLATFORM_NAMESPACES.map((ns): ClusterFlow => ({
      id: `within-${ns}`,
      from: { namespace: ns },
      to: { namespace: ns },
      ports: "any",
      protocol: "Any",
      why: "the chart's own components talk to each other inside their namespace",
    })),
    // The edge and the application's outbound calls.
    {
      id: "frontdoor-to-gateway",
      from: { address: "front-door-private-link", cidr: network.subnets.ingress },
      to: w("ingress-gateway"),
      ...tcp([443, 80]),
      request: { method: "GET", path: settings.edge.healthProbePath },
      why: "Front Door reaches the gateway through the Private Link Service, NATed from the ingress subnet",
    },
    {
      id: "app-to-azure-apis",
      from: { namespace: app },
      to: { address: "azure-apis", cidr: "0.0.0.0/0", except: clusterRanges },
      ...tcp([443]),
      why: "Entra ID token exchange, Key Vault, Storage and AI Search over HTTPS",
    },
    {
      id: "app-to-data-tier",
      from: { namespace: app },
      to: { address: "vnet", cidr: network.addressSpace },
      ...tcp([5432, 6380, 10000]),
      why: "PostgreSQL and Redis inside the VNet",
    },
  ];

  const forbidden: ClusterFlow[] = [];
  const codeExec = services.filter(([, s]) => s.pool === "codeExecution").map(([n]) => n);
  for (const target of codeExec) {
    const svc = settings.services[target];
    const execute = svc.allowedPaths[0];
    const request = {
      method: execute?.methods[0] ?? "POST",
      path: execute?.paths[0]?.replace(/\*$/, "x") ?? `${svc.route}/execute`,
    };
    const callers = new Set(svc.callers);
    for (const [name] of services) {
      if (name === target || callers.has(name)) continue;
      forbidden.push({
        id: `${name}-must-not-call-${target}`,
        from: w(serviceWorkload(name)),
        to: w(serviceWorkload(target)),
        ...tcp([svc.port]),
        request,
        why: `only ${[...callers].join(", ") || "no service"} may call ${target}`,
      });
    }
    for (const outsider of ["ingress-gateway", "loadtester"]) {
      forbidden.push({
        id: `${outsider}-must-not-execute-on-${target}`,
        from: w(outsider),
        to: w(serviceWorkload(target)),
        ...tcp([svc.port]),
        request,
        why: `${target} runs code only for its listed callers`,
      });
    }
  }
  for (const outsider of [
    "ingress-gateway",
    "grafana",
    "velero",
    "flagger",
    "loadtester",
    "cert-manager-webhook",
  ]) {
    forbidden.push({
      id: `${outsider}-must-not-reach-rabbitmq`,
      from: w(outsider),
      to: w("workflow-queue"),
      ...tcp([5672, 15672]),
      why: "the data services accept only the application namespace (and their operators)",
    });
  }
  forbidden.push(
    {
      id: "app-must-not-reach-istiod-debug",
      from: { namespace: app },
      to: w("istiod"),
      ...tcp([8080, 15010, 15014]),
      why: "istiod's debug, plain-text xDS and monitoring ports expose the whole mesh's configuration",
    },
    {
      id: "app-must-not-reach-prometheus-operator",
      from: { namespace: app },
      to: w("prometheus-operator"),
      ...tcp([10250]),
      why: "the operator's webhook and metrics are for the API server and Prometheus",
    },
    {
      id: "app-must-not-reach-flagger",
      from: { namespace: app },
      to: w("flagger"),
      ...tcp([8080]),
      why: "Flagger is a control-plane component",
    },
    {
      id: "app-must-not-use-kubernetes-api",
      from: { namespace: app },
      to: API_SERVER,
      ...tcp([443]),
      why: "no service needs the Kubernetes API: its pods mount no service-account token",
    },
    {
      id: "app-must-not-reach-istiod-webhook",
      from: { namespace: app },
      to: w("istiod"),
      ...tcp([15017]),
      why: "the injection webhook is for the API server",
    },
  );

  const table: ClusterTable = { required, forbidden };
  const permissive = resolvePermissive(settings, workloads);
  const wiring: ClusterWiring = {
    workloads,
    table,
    injectedNamespaces: [NAMESPACES.rabbitmqOperator, NAMESPACES.rabbitmq, app],
    egressDenied: [NAMESPACES.rabbitmq, app],
    permissive,
  };
  validateClusterWiring(wiring);
  return wiring;
}

/** settings.mesh.permissiveExceptions resolved to the workloads whose `app` (or app.kubernetes.io/name) they name. */
function resolvePermissive(settings: Settings, workloads: Record<string, Workload>): PermissiveException[] {
  return settings.mesh.permissiveExceptions.map((e, i) => {
    const key = `mesh.permissiveExceptions[${i}]`;
    const found = Object.entries(workloads).find(
      ([name, wl]) =>
        wl.namespace === e.namespace &&
        (wl.labels.app === e.workload ||
          wl.labels["app.kubernetes.io/name"] === e.workload ||
          name === e.workload),
    );
    if (!found) throw new Error(`${key}: no workload ${e.namespace}/${e.workload} in the wiring table`);
    const [name, wl] = found;
    const port = (e as { port?: number }).port;
    if (port !== undefined && !Object.values(wl.ports).includes(port))
      throw new Error(`${key}: ${name} has no port ${port} (ports: ${Object.values(wl.ports).join(", ")})`);
    return {
      workload: name,
      namespace: wl.namespace,
      labels: { ...(wl.labels.app ? { app: wl.labels.app } : wl.labels) },
      ...(port !== undefined ? { port } : {}),
      reason: e.reason,
    };
  });
}

/** The destination ports of a flow as single numbers (ranges expanded). */
export function flowPorts(flow: Pick<Flow<unknown>, "ports">): number[] {
  if (flow.ports === "any") return [];
  return flow.ports.flatMap((p) =>
    typeof p === "number" ? [p] : Array.from({ length: p[1] - p[0] + 1 }, (_, i) => p[0] + i),
  );
}

/**
 * A flow prepared for the required-versus-forbidden check: its endpoints' identities and namespaces and its
 * port set, computed once, so the check costs one pass per flow rather than one serialisation per pair.
 */
interface FlowShape {
  flow: ClusterFlow;
  from: EndShape;
  to: EndShape;
  /** undefined: any port. */
  ports?: ReadonlySet<number>;
}

interface EndShape {
  key: string;
  namespace?: string;
  /** A whole namespace rather than one workload: overlaps every workload in it. */
  wide: boolean;
}

function endShape(e: ClusterEndpoint, workloads: Readonly<Record<string, Workload>>): EndShape {
  return {
    key: JSON.stringify(e),
    namespace:
      "workload" in e ? workloads[e.workload]?.namespace : "namespace" in e ? e.namespace : undefined,
    wide: "namespace" in e && !("workload" in e),
  };
}

function flowShape(flow: ClusterFlow, workloads: Readonly<Record<string, Workload>>): FlowShape {
  return {
    flow,
    from: endShape(flow.from, workloads),
    to: endShape(flow.to, workloads),
    ports: flow.ports === "any" ? undefined : new Set(flowPorts(flow)),
  };
}

/** Whether two endpoints can stand for the same pods: equal, or a workload inside the other's namespace. */
function endpointsOverlap(a: EndShape, b: EndShape): boolean {
  if (a.key === b.key) return true;
  return (a.wide || b.wide) && a.namespace !== undefined && a.namespace === b.namespace;
}

/** Whether a required and a forbidden flow overlap: the same pods on a shared port, with the same request. */
function sameFlow(a: FlowShape, b: FlowShape): boolean {
  const [ra, rb] = [a.flow.request, b.flow.request];
  return (
    endpointsOverlap(a.from, b.from) &&
    endpointsOverlap(a.to, b.to) &&
    (a.ports === undefined || b.ports === undefined || [...b.ports].some((p) => a.ports!.has(p))) &&
    (ra === undefined || rb === undefined || (ra.method === rb.method && ra.path === rb.path))
  );
}

/** The required flow a forbidden one contradicts, if any. Two destinations can only overlap within one namespace. */
function contradictions(
  table: ClusterWiring["table"],
  workloads: Readonly<Record<string, Workload>>,
): [forbidden: ClusterFlow, required: ClusterFlow] | undefined {
  const bucket = (end: EndShape) => end.namespace ?? end.key;
  const required = new Map<string, FlowShape[]>();
  for (const r of table.required) {
    const shape = flowShape(r, workloads);
    const key = bucket(shape.to);
    if (!required.has(key)) required.set(key, []);
    required.get(key)!.push(shape);
  }
  for (const f of table.forbidden) {
    const shape = flowShape(f, workloads);
    const clash = required.get(bucket(shape.to))?.find((r) => sameFlow(r, shape));
    if (clash) return [f, clash.flow];
  }
  return undefined;
}

/**
 * Checks the table against its workloads: every workload and port a flow names exists, ids are unique, no
 * forbidden flow is also required, and every required flow from a client without a sidecar to an injected
 * server has its plain-text exception. Throws with the offending entry.
 */
export function validateClusterWiring(wiring: ClusterWiring): void {
  const { workloads, table } = wiring;
  const ids = new Set<string>();
  const check = (flow: ClusterFlow, kind: string) => {
    const entry = `wiring ${kind} flow "${flow.id}"`;
    if (ids.has(flow.id)) throw new Error(`${entry}: the id is used twice`);
    ids.add(flow.id);
    for (const [side, end] of [
      ["from", flow.from],
      ["to", flow.to],
    ] as const) {
      if ("workload" in end && !workloads[end.workload])
        throw new Error(`${entry}: ${side} names unknown workload "${end.workload}"`);
    }
    if ("workload" in flow.to) {
      const target = workloads[flow.to.workload];
      const known = new Set<number>([
        ...Object.values(target.ports),
        ...(target.sidecar ? Object.values(SIDECAR_PORTS) : []),
      ]);
      for (const port of flowPorts(flow)) {
        if (!known.has(port))
          throw new Error(
            `${entry}: ${flow.to.workload} has no port ${port} (ports: ${[...known].sort((a, b) => a - b).join(", ")})`,
          );
      }
    }
  };
  table.required.forEach((f) => check(f, "required"));
  table.forbidden.forEach((f) => check(f, "forbidden"));
  const clash = contradictions(table, workloads);
  if (clash) throw new Error(`wiring forbidden flow "${clash[0].id}" is also required as "${clash[1].id}"`);
  for (const f of table.required) {
    if (!("workload" in f.to)) continue;
    const target = f.to.workload;
    const server = workloads[target];
    if (!server.sidecar || server.gateway || server.uncaptured === "all") continue;
    const from = f.from;
    const clientMeshed =
      "workload" in from
        ? workloads[from.workload].sidecar
        : "namespace" in from
          ? wiring.injectedNamespaces.includes(from.namespace)
          : false;
    if (clientMeshed || f.clientCertificate) continue;
    const sidecarPorts = new Set<number>(Object.values(SIDECAR_PORTS));
    for (const port of flowPorts(f)) {
      if (sidecarPorts.has(port) || server.uncaptured?.includes(port)) continue;
      const exempt = wiring.permissive.some(
        (p) => p.workload === target && (p.port === undefined || p.port === port),
      );
      if (!exempt)
        throw new Error(
          `wiring required flow "${f.id}": the client has no sidecar and ${server.namespace}/${target}:${port} is under STRICT mTLS; ` +
            `add { namespace: ${server.namespace}, workload: ${server.labels.app ?? server.labels["app.kubernetes.io/name"]}, port: ${port}, reason } to mesh.permissiveExceptions`,
        );
    }
  }
}
