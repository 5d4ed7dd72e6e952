/**
 * One service of the catalogue, declared from its settings entry: workload, identity, autoscaling,
 * disruption budget, monitoring, mesh policy and (for progressive strategies) its Flagger Canary.
 *
 * For a canaried service Flagger owns the apex/primary/canary Services, the VirtualService and the
 * DestinationRules; the program shapes them through the Canary's `service` block and declares none of them.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { CODE_EXECUTION_POOL, LOADTESTER_URL, MONITORING_SELECTOR, PROMETHEUS_URL } from "../lib/names";
import type { CanarySettings, DeliverySettings, ServiceSettings } from "../settings";
import { effectiveAnalysis } from "../settings";
import { DATA_ENDPOINTS_CONFIGMAP } from "./dataEndpoints";
import { holdSeconds } from "../lib/rollout";
import { LOADTEST_TOKEN_COMMAND } from "./delivery";
import { holdGateWebhooks } from "./holdGate";
import { METRIC_TEMPLATES, MIN_REQUESTS_VARIABLE } from "./metricTemplates";
import { ISTIO_MTLS_SCRAPE } from "./observability/prometheusStack";
import { servicePriorityClass } from "./priorityClasses";
import { WorkloadIdentity, type RoleGrant } from "./workloadIdentity";
import { platformWorkloads, serviceInboundFlows } from "../lib/wiring/cluster";
import { authorizationRules as wiringAuthorizationRules } from "../lib/wiring/layers";

/** The port every Service (and Flagger's generated Services) listens on. */
export const SERVICE_PORT = 80;
/**
 * The ServiceMonitor's endpoint: the app's own /metrics on its http port, over the mesh's mTLS with
 * Prometheus' mesh certificate. Istio's and Envoy's metrics come from the platform's envoy-stats PodMonitor
 * (the merged endpoint); scraping that endpoint here as well would count istio_requests_total twice.
 */
export const METRICS_ENDPOINT = {
  port: "http",
  path: "/metrics",
  interval: "30s",
  ...ISTIO_MTLS_SCRAPE,
} as const;
/** Non-root user and group of every service container. */
export const RUN_AS = 10001;
/** Seconds the pod keeps serving after removal from endpoints, so in-flight routing catches up. */
export const DRAIN_SECONDS = 15;
/** Seconds the application gets after SIGTERM to finish in-flight requests. */
export const SHUTDOWN_SECONDS = 30;
/** Deployment and Canary progress deadline: covers a node scale-up before the new pods are ready. */
export const PROGRESS_DEADLINE_SECONDS = 600;
/** Label on pods and Services that selects the service whatever Flagger renames (`app` becomes `<name>-primary`). */
export const SERVICE_LABEL = "aiwp.io/service";
/** Request rate per replica that KEDA's Prometheus trigger scales on (requests/s). */
export const DEFAULT_REQUESTS_PER_REPLICA = 50;

/** The header and cookie that route a user to the canary of an A/B test. */
export const AB_MATCH = [
  { headers: { "x-canary": { exact: "insider" } } },
  { headers: { cookie: { regex: "^(.*?;\\s*)?(canary=always)(;.*)?$" } } },
];

export interface ServiceArgs {
  /** The service's name in the catalogue; names its Kubernetes objects and its service account. */
  serviceName: string;
  /** The service's settings entry (`settings.services.<name>`). */
  settings: ServiceSettings;
  /** The stack's delivery settings (canary defaults, load test, acceptance test). */
  delivery: DeliverySettings;
  /** Application namespace. */
  namespace: string;
  /** Login server of the container registry (e.g. `aiwpprod.azurecr.io`). */
  registryLoginServer: pulumi.Input<string>;
  /** Whether the cluster's nodes span availability zones (spread across them strictly). */
  zoned: boolean;
  /** Where and how the service's Entra ID workload identity is created. */
  identity: {
    /** Resource group of the user-assigned identity. */
    resourceGroupName: pulumi.Input<string>;
    /** Azure region of the identity. */
    location: pulumi.Input<string>;
    /** The cluster's OIDC issuer URL. */
    oidcIssuerUrl: pulumi.Input<string>;
    /** Role grants of the identity. Default: none (it only authenticates). */
    roles?: RoleGrant[];
    /** Tags of the identity. */
    tags: Record<string, string>;
  };
  /** Flagger AlertProvider for the Canary's alerts. Default: no alerts. */
  alertProvider?: { name: string; namespace: string };
  /** TriggerAuthentication holding the AMQP URI, required when `settings.autoscaler` is keda. */
  queueAuthentication?: string;
  /** Request rate per replica for KEDA's Prometheus trigger. Default: DEFAULT_REQUESTS_PER_REPLICA. */
  requestsPerReplica?: number;
  /** Kubernetes provider. */
  provider: k8s.Provider;
}

/** Whether Flagger drives the service's releases. */
export function isProgressive(svc: Pick<ServiceSettings, "strategy">): boolean {
  return svc.strategy !== "rolling";
}

/** The workload the serving pods belong to: Flagger's `<name>-primary` for a canaried service. */
export function servingWorkload(name: string, svc: Pick<ServiceSettings, "strategy">): string {
  return isProgressive(svc) ? `${name}-primary` : name;
}

/** Istio principal of a service account. */
export function principal(namespace: string, serviceAccount: string): string {
  return `cluster.local/ns/${namespace}/sa/${serviceAccount}`;
}

/** Voluntary disruptions allowed at once: one pod, or a third of the minimum for larger services. */
export function disruptionBudget(minReplicas: number): { maxUnavailable: number } {
  return { maxUnavailable: Math.max(1, Math.floor(minReplicas / 3)) };
}

/**
 * The `hey` command of the rollout load test: `-q` is per worker, so the total rate is split over `-c`.
 * With `auth`, every request carries the load tester's bearer token (components/delivery.ts LOADTEST_TOKEN_COMMAND;
 * the loadtester runs `cmd` tasks with `sh -c`, pkg/loadtester/task_shell.go).
 */
export function loadTestCommand(
  url: string,
  load: DeliverySettings["loadTest"],
  duration: string,
  auth = false,
): string {
  const perWorker = Math.ceil(load.requestsPerSecond / load.concurrency);
  const header = auth ? ` -H "Authorization: Bearer $(${LOADTEST_TOKEN_COMMAND})"` : "";
  return `hey -z ${duration} -q ${perWorker} -c ${load.concurrency}${header} ${url}`;
}

/**
 * The pre-rollout acceptance test: every smoke path of the new version must answer 2xx (curl -f fails on
 * 4xx and 5xx, so a 404 is a failure, not a success), authenticated paths with the load tester's token.
 */
export function acceptanceCommand(canaryUrl: string, paths: ServiceSettings["smokePaths"]): string {
  const lines = ["set -euo pipefail"];
  if (paths.some((p) => p.auth)) lines.push(`token=$(${LOADTEST_TOKEN_COMMAND})`);
  for (const p of paths) {
    const header = p.auth ? ' -H "Authorization: Bearer $token"' : "";
    lines.push(`curl -sf -o /dev/null --max-time 10${header} ${canaryUrl}${p.path}`);
  }
  return lines.join("\n");
}

/** The Flagger `analysis` block of a service: timing from settings, metrics on the shared templates. */
export function analysisSpec(
  name: string,
  namespace: string,
  svc: ServiceSettings,
  delivery: DeliverySettings,
  alertProvider?: { name: string; namespace: string },
): Record<string, unknown> {
  const a: CanarySettings = effectiveAnalysis(delivery.canary, svc.canary);
  // The checks' query window; lib/flaggerTiming.ts counts it in the worst case from fault onset.
  const window = a.metricWindow;
  const template = (templateName: string) => ({ name: templateName, namespace });
  // Below this many requests in the window the success-rate and latency checks abstain (metricTemplates.ts).
  const templateVariables = { [MIN_REQUESTS_VARIABLE]: String(a.minRequests) };
  const steps: Record<string, unknown> = {};
  if (a.iterations !== undefined) steps.iterations = a.iterations;
  else if (a.stepWeights !== undefined) steps.stepWeights = a.stepWeights;
  else {
    steps.stepWeight = a.stepWeight;
    steps.maxWeight = a.maxWeight ?? 50;
  }
  if (svc.strategy === "abTest") steps.match = AB_MATCH;
  // Blue-green may mirror live traffic to the new version through its iterations (scheduler.go runBlueGreen).
  if (svc.strategy === "blueGreen" && a.mirrorWeight !== undefined) {
    steps.mirror = true;
    steps.mirrorWeight = a.mirrorWeight;
  }
  const canaryUrl = `http://${name}-canary.${namespace}`;
  const webhooks: Record<string, unknown>[] = [];
  if (delivery.acceptanceTest.enabled) {
    webhooks.push({
      name: "acceptance-test",
      type: "pre-rollout",
      url: LOADTESTER_URL,
      timeout: "30s",
      metadata: { type: "bash", cmd: acceptanceCommand(canaryUrl, svc.smokePaths) },
    });
  }
  if (delivery.loadTest.enabled) {
    // One load per real path, the stack's rate shared between them.
    const share = {
      ...delivery.loadTest,
      requestsPerSecond: Math.max(1, Math.ceil(delivery.loadTest.requestsPerSecond / svc.smokePaths.length)),
    };
    svc.smokePaths.forEach((p, i) => {
      webhooks.push({
        name: svc.smokePaths.length === 1 ? "load-test" : `load-test-${i + 1}`,
        type: "rollout",
        url: LOADTESTER_URL,
        timeout: "5s",
        metadata: { type: "cmd", cmd: loadTestCommand(`${canaryUrl}${p.path}`, share, a.interval, p.auth) },
      });
    });
  }
  if (svc.strategy === "canary") webhooks.push(...holdGateWebhooks(namespace, name, holdSeconds(a.holds)));
  return {
    interval: a.interval,
    threshold: a.threshold,
    ...steps,
    metrics: [
      {
        name: "request-success-rate",
        templateRef: template(METRIC_TEMPLATES.successRate),
        thresholdRange: { min: a.successRatePercent },
        interval: window,
        templateVariables,
      },
      {
        name: "latency-p95",
        templateRef: template(METRIC_TEMPLATES.latencyP95),
        thresholdRange: { max: a.latencyP95Ms },
        interval: window,
        templateVariables,
      },
      {
        name: "latency-p99",
        templateRef: template(METRIC_TEMPLATES.latencyP99),
        thresholdRange: { max: a.latencyP99Ms },
        interval: window,
        templateVariables,
      },
      {
        name: "critical-alerts",
        templateRef: template(METRIC_TEMPLATES.alertGate),
        thresholdRange: { max: 0 },
        interval: window,
      },
    ],
    webhooks,
    ...(alertProvider ? { alerts: [{ name: "slack", severity: "info", providerRef: alertProvider }] } : {}),
  };
}

/** Timeout and retries of a service's route, the same whoever owns the VirtualService that carries it. */
export function routePolicy(svc: Pick<ServiceSettings, "pool">) {
  return {
    timeout: svc.pool === "codeExecution" ? "120s" : "30s",
    // Only failures that never reached the app are retried: a retried 5xx would hide a bad canary.
    retries: {
      attempts: 2,
      perTryTimeout: svc.pool === "codeExecution" ? "60s" : "10s",
      retryOn: "connect-failure,refused-stream,reset",
    },
  };
}

/**
 * Name of the VirtualService that holds a service's routes: Flagger's (named after the Canary's apex
 * Service) for a canaried service, the program's for a rolling one. It has no hosts and no gateways: it
 * serves only through the root VirtualServices that delegate to it by name and namespace.
 */
export function delegateName(name: string): string {
  return name;
}

/** Name of the service's in-mesh root VirtualService (its short host on the `mesh` gateway). */
export function meshRouteName(name: string): string {
  return `${name}-mesh`;
}

/**
 * The in-mesh root: the short host on `mesh`, everything delegated to the service's routes, so callers
 * inside the mesh follow the canary weights as gateway traffic does, on any path (a delegate's routes
 * inherit the root's match, here none). Istio merges delegates before splitting configuration by gateway
 * (pilot/pkg/model/push_context.go initVirtualServices calls mergeVirtualServicesIfNeeded first), so a
 * `mesh` root delegates like a gateway root.
 */
export function meshRootSpec(name: string, namespace: string) {
  return {
    hosts: [name],
    gateways: ["mesh"],
    http: [{ name, delegate: { name: delegateName(name), namespace } }],
  };
}

/** A rolling service's delegate VirtualService: what Flagger would generate, without the canary split. */
export function rollingDelegateSpec(name: string, svc: Pick<ServiceSettings, "pool">) {
  return {
    http: [
      {
        name,
        route: [{ destination: { host: name, port: { number: SERVICE_PORT } } }],
        ...routePolicy(svc),
      },
    ],
  };
}

/**
 * The Canary's `service` block: the Services, VirtualService and DestinationRules Flagger generates.
 * With `delegation`, Flagger's VirtualService has no hosts and no gateways (Flagger v1.44
 * pkg/router/istio.go reconcileVirtualService rejects either, and empties them on update), and no match:
 * the root VirtualServices the program declares own the host, the gateway and the route order.
 */
export function canaryServiceSpec(name: string, svc: ServiceSettings): Record<string, unknown> {
  const scrapeLabels = { labels: { [SERVICE_LABEL]: name } };
  return {
    port: SERVICE_PORT,
    targetPort: svc.port,
    portName: "http",
    delegation: true,
    primary: scrapeLabels,
    canary: scrapeLabels,
    ...routePolicy(svc),
    trafficPolicy: {
      // Flagger's Canary schema carries only the HTTP pool (no tcp block).
      connectionPool: {
        http: { http1MaxPendingRequests: 1000, http2MaxRequests: 1000, idleTimeout: "60s" },
      },
      outlierDetection: {
        consecutive5xxErrors: 5,
        interval: "10s",
        baseEjectionTime: "30s",
        maxEjectionPercent: 50,
      },
      loadBalancer: { simple: "LEAST_REQUEST" },
      tls: { mode: "ISTIO_MUTUAL" },
    },
  };
}

/** The Canary's spec. */
export function canarySpec(
  args: Pick<ServiceArgs, "serviceName" | "settings" | "delivery" | "namespace" | "alertProvider">,
) {
  const { serviceName: name, settings: svc } = args;
  const autoscalerRef =
    svc.autoscaler === "keda"
      ? {
          apiVersion: "keda.sh/v1alpha1",
          kind: "ScaledObject",
          name,
          // The primary's ScaledObject must scale on the primary's traffic, not the canary's.
          primaryScalerQueries: { "request-rate": requestRateQuery(args.namespace, `${name}-primary`) },
        }
      : { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", name };
  return {
    provider: "istio",
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
    autoscalerRef,
    // Flagger waits this long for an unready canary before rolling back (pkg/canary/deployment_ready.go).
    progressDeadlineSeconds: effectiveAnalysis(args.delivery.canary, svc.canary).progressDeadlineSeconds,
    service: canaryServiceSpec(name, svc),
    analysis: analysisSpec(name, args.namespace, svc, args.delivery, args.alertProvider),
  };
}

/** Requests per second a workload receives, as Istio's destination reporter counts them. */
export function requestRateQuery(namespace: string, workload: string): string {
  return `sum(rate(istio_requests_total{reporter="destination", destination_workload_namespace="${namespace}", destination_workload="${workload}"}[1m]))`;
}

/** Scale-up fast (double or +4 pods per 15 s), scale-down slowly after 5 minutes of lower load. */
export const SCALING_BEHAVIOR = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: "Max",
    policies: [
      { type: "Percent", value: 100, periodSeconds: 15 },
      { type: "Pods", value: 4, periodSeconds: 15 },
    ],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: "Min",
    policies: [
      { type: "Percent", value: 10, periodSeconds: 60 },
      { type: "Pods", value: 1, periodSeconds: 60 },
    ],
  },
};

/** The HPA's spec: CPU 70% and memory 80% of requests. */
export function hpaSpec(name: string, svc: ServiceSettings) {
  const utilization = (resource: string, averageUtilization: number) => ({
    type: "Resource",
    resource: { name: resource, target: { type: "Utilization", averageUtilization } },
  });
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
    minReplicas: svc.replicas.min,
    maxReplicas: svc.replicas.max,
    metrics: [utilization("cpu", 70), utilization("memory", 80)],
    behavior: SCALING_BEHAVIOR,
  };
}

/** The KEDA ScaledObject's spec: queue backlog per replica, and request rate per replica. */
export function scaledObjectSpec(
  name: string,
  namespace: string,
  svc: ServiceSettings,
  authentication: string,
  requestsPerReplica: number,
) {
  if (!svc.queue) throw new Error(`service ${name}: autoscaler keda needs settings.services.${name}.queue`);
  return {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
    minReplicaCount: svc.replicas.min,
    maxReplicaCount: svc.replicas.max,
    advanced: { horizontalPodAutoscalerConfig: { behavior: SCALING_BEHAVIOR } },
    triggers: [
      {
        type: "rabbitmq",
        name: "queue-length",
        metadata: {
          protocol: "amqp",
          queueName: svc.queue.name,
          mode: "QueueLength",
          value: String(svc.queue.messagesPerReplica),
        },
        authenticationRef: { name: authentication },
      },
      {
        type: "prometheus",
        name: "request-rate",
        metadata: {
          serverAddress: PROMETHEUS_URL,
          query: requestRateQuery(namespace, name),
          threshold: String(requestsPerReplica),
        },
      },
    ],
  };
}

/**
 * The service's AuthorizationPolicy rules (ALLOW): the ingress gateway for exposed services, the listed
 * callers on the allowed methods and paths, Prometheus on GET /metrics (it scrapes over mTLS with its mesh
 * identity), and the load tester read-only for canaried services.
 * Kubelet probes need no rule: the sidecar injector rewrites HTTP probes to the pilot-agent on port
 * 15020, which calls the app over localhost, outside Envoy's inbound listener. The envoy-stats scrape of
 * the merged endpoint uses the same port 15020, which Istio excludes from inbound capture.
 */
export function authorizationRules(
  namespace: string,
  svc: ServiceSettings,
  name = "service",
): Record<string, unknown>[] {
  // One rule per flow of the wiring table that reaches the service (lib/wiring/cluster.ts serviceInboundFlows).
  return wiringAuthorizationRules(serviceInboundFlows(name, svc), platformWorkloads(), namespace);
}

/**
 * The image a service runs: `<registry>/<image>:<tag>`, plus `@<digest>` when the settings pin one. The
 * tag stays beside the digest for people reading the spec; the runtime resolves the digest alone.
 */
export function imageReference(
  registry: string,
  svc: Pick<ServiceSettings, "image" | "tag" | "digest">,
): string {
  return `${registry}/${svc.image}:${svc.tag}${svc.digest ? `@${svc.digest}` : ""}`;
}

/**
 * Pull policy: a digest names immutable content, so a cached copy is the same code (IfNotPresent); a tag
 * can be re-pushed, so the kubelet asks the registry each time a container starts (Always) and a node
 * that cached the old push does not keep running it.
 */
export function imagePullPolicy(svc: Pick<ServiceSettings, "digest">): "IfNotPresent" | "Always" {
  return svc.digest ? "IfNotPresent" : "Always";
}

/** The pod template's scheduling: the code-execution pool only for its services, spread over zones and nodes. */
export function schedulingSpec(name: string, svc: ServiceSettings, zoned: boolean) {
  const selector = { matchLabels: { [SERVICE_LABEL]: name } };
  const pool =
    svc.pool === "codeExecution"
      ? {
          nodeSelector: { ...CODE_EXECUTION_POOL.label },
          tolerations: [{ ...CODE_EXECUTION_POOL.taint, operator: "Equal" }],
        }
      : {};
  return {
    ...pool,
    priorityClassName: servicePriorityClass(svc),
    topologySpreadConstraints: [
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: zoned ? "DoNotSchedule" : "ScheduleAnyway",
        labelSelector: selector,
      },
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: selector,
      },
    ],
  };
}

/** The Deployment's spec (no `replicas`: the HPA or ScaledObject owns the count). */
export function deploymentSpec(
  name: string,
  svc: ServiceSettings,
  image: pulumi.Input<string>,
  zoned: boolean,
) {
  const httpGet = (path: string) => ({ httpGet: { path, port: "http" } });
  return {
    selector: { matchLabels: { app: name } },
    revisionHistoryLimit: 5,
    progressDeadlineSeconds: PROGRESS_DEADLINE_SECONDS,
    strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 } },
    template: {
      metadata: {
        labels: { app: name, version: svc.tag, [SERVICE_LABEL]: name, "azure.workload.identity/use": "true" },
        annotations: {
          // Istio merges these into its own endpoint on 15020 (meshConfig.enablePrometheusMerge).
          "prometheus.io/scrape": "true",
          "prometheus.io/port": String(svc.port),
          "prometheus.io/path": "/metrics",
          // The sidecar starts before the app and keeps draining connections through the app's shutdown.
          "proxy.istio.io/config": JSON.stringify({
            holdApplicationUntilProxyStarts: true,
            terminationDrainDuration: `${DRAIN_SECONDS + SHUTDOWN_SECONDS}s`,
          }),
        },
      },
      spec: {
        serviceAccountName: name,
        // No service calls the Kubernetes API (no Role binds these accounts). The tokens the pod does use are
        // projected by their own injectors, independent of this setting: Azure Workload Identity's
        // `azure-identity-token` (azure-workload-identity docs, mutating admission webhook) and the sidecar's
        // `istio-token` (istiod 1.29 files/injection-template.yaml, projected serviceAccountToken volume).
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: DRAIN_SECONDS + SHUTDOWN_SECONDS + 5,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: RUN_AS,
          runAsGroup: RUN_AS,
          fsGroup: RUN_AS,
          seccompProfile: { type: "RuntimeDefault" },
        },
        ...schedulingSpec(name, svc, zoned),
        containers: [
          {
            name,
            image,
            imagePullPolicy: imagePullPolicy(svc),
            ports: [{ name: "http", containerPort: svc.port, protocol: "TCP" }],
            env: [
              { name: "PORT", value: String(svc.port) },
              { name: "SHUTDOWN_TIMEOUT_SECONDS", value: String(SHUTDOWN_SECONDS) },
            ],
            // The stack's data endpoints (components/dataEndpoints.ts): dr's pods get dr's data tier.
            envFrom: [{ configMapRef: { name: DATA_ENDPOINTS_CONFIGMAP } }],
            resources: {
              requests: { cpu: svc.resources.cpu.request, memory: svc.resources.memory.request },
              limits: { cpu: svc.resources.cpu.limit, memory: svc.resources.memory.limit },
            },
            startupProbe: { ...httpGet("/health/live"), periodSeconds: 5, failureThreshold: 30 },
            livenessProbe: {
              ...httpGet("/health/live"),
              periodSeconds: 10,
              timeoutSeconds: 2,
              failureThreshold: 3,
            },
            readinessProbe: {
              ...httpGet("/health/ready"),
              periodSeconds: 5,
              timeoutSeconds: 2,
              failureThreshold: 3,
            },
            // Keep serving while endpoints and the mesh drop the pod, then SIGTERM starts the graceful shutdown.
            lifecycle: { preStop: { sleep: { seconds: DRAIN_SECONDS } } },
            securityContext: {
              runAsNonRoot: true,
              runAsUser: RUN_AS,
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
              seccompProfile: { type: "RuntimeDefault" },
            },
            volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
          },
        ],
        volumes: [{ name: "tmp", emptyDir: { sizeLimit: "1Gi" } }],
      },
    },
  };
}

/** One catalogue service and everything around it. */
export class Service extends pulumi.ComponentResource {
  /** Client id of the service's workload identity. */
  public readonly clientId: pulumi.Output<string>;
  /** Object (principal) id of the service's workload identity: the data-plane grants go to it (components/access.ts). */
  public readonly principalId: pulumi.Output<string>;
  /** The image the Deployment runs. */
  public readonly image: pulumi.Output<string>;

  constructor(name: string, args: ServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:workloads:Service", name, {}, { ...opts, providers: [args.provider] });
    const { serviceName: svcName, settings: svc, namespace } = args;
    if (svc.autoscaler === "keda" && !args.queueAuthentication) {
      throw new Error(`Service ${name}: queueAuthentication is required when the autoscaler is keda`);
    }
    const k8sOpts = { parent: this, provider: args.provider };
    const meta = (objectName: string, labels: Record<string, string> = {}) => ({
      name: objectName,
      namespace,
      labels: { app: svcName, [SERVICE_LABEL]: svcName, team: svc.team, ...labels },
    });

    const identity = new WorkloadIdentity(
      `${name}-identity`,
      {
        resourceGroupName: args.identity.resourceGroupName,
        location: args.identity.location,
        namespace,
        serviceAccount: svcName,
        oidcIssuerUrl: args.identity.oidcIssuerUrl,
        roles: args.identity.roles ?? [],
        tags: args.identity.tags,
      },
      { parent: this },
    );
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      {
        metadata: {
          ...meta(svcName),
          annotations: { "azure.workload.identity/client-id": identity.clientId },
        },
        // The pod spec says the same; the account's own setting also covers any pod run under it by hand.
        automountServiceAccountToken: false,
      },
      k8sOpts,
    );

    this.image = pulumi.output(args.registryLoginServer).apply((registry) => imageReference(registry, svc));
    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: meta(svcName, { version: svc.tag }),
        spec: deploymentSpec(svcName, svc, this.image, args.zoned),
      },
      { ...k8sOpts, dependsOn: [serviceAccount] },
    );

    if (!isProgressive(svc)) {
      new k8s.core.v1.Service(
        `${name}-service`,
        {
          metadata: meta(svcName),
          spec: {
            type: "ClusterIP",
            selector: { app: svcName },
            ports: [{ name: "http", port: SERVICE_PORT, targetPort: "http", protocol: "TCP" }],
          },
        },
        k8sOpts,
      );
      // The routes Flagger would own for a canaried service; the root VirtualServices delegate to them.
      new k8s.apiextensions.CustomResource(
        `${name}-routes`,
        {
          apiVersion: "networking.istio.io/v1",
          kind: "VirtualService",
          metadata: meta(delegateName(svcName)),
          spec: rollingDelegateSpec(svcName, svc),
        },
        k8sOpts,
      );
    }
    new k8s.apiextensions.CustomResource(
      `${name}-mesh-route`,
      {
        apiVersion: "networking.istio.io/v1",
        kind: "VirtualService",
        metadata: meta(meshRouteName(svcName)),
        spec: meshRootSpec(svcName, namespace),
      },
      k8sOpts,
    );

    const scaler =
      svc.autoscaler === "keda"
        ? new k8s.apiextensions.CustomResource(
            `${name}-scaledobject`,
            {
              apiVersion: "keda.sh/v1alpha1",
              kind: "ScaledObject",
              metadata: meta(svcName),
              spec: scaledObjectSpec(
                svcName,
                namespace,
                svc,
                args.queueAuthentication!,
                args.requestsPerReplica ?? DEFAULT_REQUESTS_PER_REPLICA,
              ),
            },
            { ...k8sOpts, dependsOn: [deployment] },
          )
        : new k8s.autoscaling.v2.HorizontalPodAutoscaler(
            `${name}-hpa`,
            { metadata: meta(svcName), spec: hpaSpec(svcName, svc) },
            { ...k8sOpts, dependsOn: [deployment] },
          );

    // Recommendation only (updateMode Off): the HPA/ScaledObject scales on CPU and memory, and a VPA that
    // resized the same resources would fight it. It watches the workload that serves (Flagger's primary).
    new k8s.apiextensions.CustomResource(
      `${name}-vpa`,
      {
        apiVersion: "autoscaling.k8s.io/v1",
        kind: "VerticalPodAutoscaler",
        metadata: meta(svcName),
        spec: {
          targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: servingWorkload(svcName, svc) },
          updatePolicy: { updateMode: "Off" },
          resourcePolicy: {
            containerPolicies: [
              {
                containerName: svcName,
                controlledResources: ["cpu", "memory"],
                controlledValues: "RequestsAndLimits",
              },
              { containerName: "istio-proxy", mode: "Off" },
            ],
          },
        },
      },
      k8sOpts,
    );

    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      {
        metadata: meta(svcName),
        spec: {
          ...disruptionBudget(svc.replicas.min),
          selector: { matchLabels: { app: servingWorkload(svcName, svc) } },
        },
      },
      k8sOpts,
    );

    new k8s.apiextensions.CustomResource(
      `${name}-servicemonitor`,
      {
        apiVersion: "monitoring.coreos.com/v1",
        kind: "ServiceMonitor",
        metadata: { ...meta(svcName), labels: { ...meta(svcName).labels, ...MONITORING_SELECTOR } },
        spec: {
          selector: { matchLabels: { [SERVICE_LABEL]: svcName } },
          namespaceSelector: { matchNames: [namespace] },
          endpoints: [METRICS_ENDPOINT],
        },
      },
      k8sOpts,
    );

    new k8s.apiextensions.CustomResource(
      `${name}-authz`,
      {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: meta(svcName),
        spec: {
          selector: { matchLabels: { [SERVICE_LABEL]: svcName } },
          action: "ALLOW",
          rules: authorizationRules(namespace, svc, svcName),
        },
      },
      k8sOpts,
    );

    if (isProgressive(svc)) {
      new k8s.apiextensions.CustomResource(
        `${name}-canary`,
        {
          apiVersion: "flagger.app/v1beta1",
          kind: "Canary",
          metadata: meta(svcName),
          spec: canarySpec(args),
        },
        { ...k8sOpts, dependsOn: [deployment, scaler] },
      );
    }

    this.clientId = identity.clientId;
    this.principalId = identity.principalId;
    this.registerOutputs({ clientId: this.clientId, principalId: this.principalId, image: this.image });
  }
}
