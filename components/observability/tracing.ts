/**
 * The mesh's tracing destination: an OpenTelemetry Collector (the Service istiod's `otel-tracing` provider
 * targets) that batches the sidecars' spans and exports them to a workspace-based Application Insights, so traces
 * land in the estate's Log Analytics workspace next to Container Insights. Log Analytics takes no OTLP itself:
 * Application Insights is its Azure-native trace front end.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import * as authorization from "@pulumi/azure-native/authorization";
import { OTEL_COLLECTOR, RELEASES } from "../../lib/names";
import { CHARTS, IMAGES, SYSTEM_POOL, chartSource } from "../charts";
import { PRIORITY_CLASSES } from "../priorityClasses";

/** Secret (in the collector's namespace) holding the Application Insights connection string. */
export const CONNECTION_STRING_SECRET = {
  name: "otel-collector-azure-monitor",
  key: "connection-string",
} as const;

/** Environment variable of the collector container the azuremonitor exporter reads its connection string from. */
export const CONNECTION_STRING_ENV = "APPLICATIONINSIGHTS_CONNECTION_STRING";

/** UID and GID of the collector image's non-root user. */
const COLLECTOR_USER = 10001;

/**
 * The Entra ID authenticating proxy beside the collector (Azure/aad-auth-proxy, the path the azuremonitor
 * exporter's AUTHENTICATION.md documents): Application Insights refuses instrumentation-key-only ingestion once
 * local auth is off, and the exporter cannot fetch a token itself. The exporter posts to the proxy on loopback; the
 * proxy adds a bearer token for the nodes' kubelet identity (IMDS, `userAssigned`) and forwards to the ingestion
 * endpoint.
 */
export const INGESTION_PROXY = {
  image:
    "mcr.microsoft.com/azuremonitor/auth-proxy/prod/aad-auth-proxy/images/aad-auth-proxy:0.1.0-main-08-23-2023-5988d874",
  port: 8081,
  /** Token audience of Azure Monitor ingestion (Application Insights Entra ID authentication). */
  audience: "https://monitor.azure.com/.default",
} as const;

/** Built-in role "Monitoring Metrics Publisher": lets an identity send telemetry to an Entra-only component. */
export const MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb";

/** The connection string with its ingestion endpoint moved to the proxy on loopback; the proxy's target host. */
export function throughProxy(connectionString: string): { connectionString: string; targetHost: string } {
  const parts = connectionString.split(";").filter(Boolean);
  const endpoint = parts.find((p) => p.startsWith("IngestionEndpoint="))?.slice("IngestionEndpoint=".length);
  if (!endpoint) throw new Error("Application Insights connection string has no IngestionEndpoint");
  const rewritten = parts.map((p) =>
    p.startsWith("IngestionEndpoint=") ? `IngestionEndpoint=http://127.0.0.1:${INGESTION_PROXY.port}/` : p,
  );
  return { connectionString: rewritten.join(";"), targetHost: endpoint.replace(/\/$/, "") };
}

/** The proxy container, for the chart's `extraContainers`. */
export function ingestionProxyContainer(
  clientId: pulumi.Input<string>,
  targetHost: pulumi.Input<string>,
): Record<string, unknown> {
  return {
    name: "aad-auth-proxy",
    image: INGESTION_PROXY.image,
    // Tag-only pin: pull every start so a re-pushed tag never runs stale code.
    imagePullPolicy: "Always",
    ports: [{ name: "auth-proxy", containerPort: INGESTION_PROXY.port }],
    env: [
      { name: "TARGET_HOST", value: targetHost },
      { name: "LISTENING_PORT", value: String(INGESTION_PROXY.port) },
      { name: "IDENTITY_TYPE", value: "userAssigned" },
      { name: "AAD_CLIENT_ID", value: clientId },
      { name: "AUDIENCE", value: INGESTION_PROXY.audience },
    ],
    livenessProbe: { httpGet: { path: "/health", port: "auth-proxy" } },
    readinessProbe: { httpGet: { path: "/ready", port: "auth-proxy" } },
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    resources: { requests: { cpu: "20m", memory: "32Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
  };
}

/**
 * opentelemetry-collector chart values: one OTLP/gRPC receiver, memory limiter and batch, the azuremonitor
 * exporter. The connection string is never a value: the container reads it from CONNECTION_STRING_SECRET.
 */
export function collectorValues(replicas: number, proxy?: Record<string, unknown>): Record<string, unknown> {
  const port = OTEL_COLLECTOR.otlpGrpcPort;
  const disabled = { enabled: false };
  return {
    mode: "deployment",
    fullnameOverride: OTEL_COLLECTOR.service,
    image: { ...IMAGES.otelCollector },
    command: { name: "otelcol-contrib" },
    replicaCount: replicas,
    podDisruptionBudget: replicas >= 2 ? { enabled: true, minAvailable: 1 } : disabled,
    priorityClassName: PRIORITY_CLASSES.platform.name,
    nodeSelector: SYSTEM_POOL.nodeSelector,
    tolerations: SYSTEM_POOL.tolerations,
    podSecurityContext: {
      runAsNonRoot: true,
      runAsUser: COLLECTOR_USER,
      runAsGroup: COLLECTOR_USER,
      fsGroup: COLLECTOR_USER,
      seccompProfile: { type: "RuntimeDefault" },
    },
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
    resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
    ...(proxy ? { extraContainers: [proxy] } : {}),
    extraEnvs: [
      {
        name: CONNECTION_STRING_ENV,
        valueFrom: {
          secretKeyRef: { name: CONNECTION_STRING_SECRET.name, key: CONNECTION_STRING_SECRET.key },
        },
      },
    ],
    // Only OTLP/gRPC is served; the chart's other default receivers and their ports are removed.
    ports: {
      otlp: { enabled: true, containerPort: port, servicePort: port, protocol: "TCP", appProtocol: "grpc" },
      "otlp-http": disabled,
      "jaeger-compact": disabled,
      "jaeger-thrift": disabled,
      "jaeger-grpc": disabled,
      zipkin: disabled,
    },
    // `null` deletes a chart default (Helm's value coalescing): only the traces pipeline remains.
    config: {
      receivers: {
        otlp: { protocols: { grpc: { endpoint: `\${env:MY_POD_IP}:${port}` }, http: null } },
        jaeger: null,
        zipkin: null,
        prometheus: null,
      },
      processors: { batch: { send_batch_size: 1024, timeout: "5s" } },
      exporters: { azuremonitor: { connection_string: `\${env:${CONNECTION_STRING_ENV}}` } },
      service: {
        pipelines: {
          traces: {
            receivers: ["otlp"],
            processors: ["memory_limiter", "batch"],
            exporters: ["azuremonitor"],
          },
          metrics: null,
          logs: null,
        },
      },
    },
  };
}

export interface TracingArgs {
  /** Name prefix, "<prefix>-<env>" (names the Application Insights component). */
  prefix: string;
  /** Resource group of the Application Insights component. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  location: string;
  /** ARM id of the Log Analytics workspace the traces are stored in. */
  workspaceId: pulumi.Input<string>;
  /** Collector replicas (a PodDisruptionBudget keeps one up from two on). */
  replicas: number;
  /** The identity the ingestion proxy authenticates as (the kubelet identity): client id for IMDS, object id for the grant. */
  ingestionIdentity: { clientId: pulumi.Input<string>; objectId: pulumi.Input<string> };
  /** Tags of the Azure resources. */
  tags: Record<string, string>;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
  /** Resources the release waits for (the namespaces). */
  dependsOn?: pulumi.Input<pulumi.Resource>[];
}

/** Application Insights (workspace-based) and the OpenTelemetry Collector that exports the mesh's spans to it. */
export class Tracing extends pulumi.ComponentResource {
  /** ARM id of the Application Insights component. */
  public readonly appInsightsId: pulumi.Output<string>;
  /** The collector's Helm release. */
  public readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: TracingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:observability:Tracing", name, {}, opts);
    const insights = new applicationinsights.Component(
      `${name}-appinsights`,
      {
        resourceName: `appi-${args.prefix}`,
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: "web",
        applicationType: "web",
        workspaceResourceId: args.workspaceId,
        ingestionMode: "LogAnalytics",
        // Entra ID ingestion only: the instrumentation key alone is not a credential. The collector's azuremonitor
        // exporter sends the key only (opentelemetry-collector-contrib#41004), so it exports through INGESTION_PROXY.
        disableLocalAuth: true,
        tags: args.tags,
      },
      { parent: this },
    );
    const publisher = new authorization.RoleAssignment(
      `${name}-ingestion-publisher`,
      {
        scope: insights.id,
        principalId: args.ingestionIdentity.objectId,
        principalType: "ServicePrincipal",
        roleDefinitionId: pulumi.interpolate`/subscriptions/${authorization.getClientConfigOutput().subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${MONITORING_METRICS_PUBLISHER}`,
      },
      { parent: this },
    );
    const routed = insights.connectionString.apply(throughProxy);
    const k8sOpts = { parent: this, provider: args.provider };
    const secret = new k8s.core.v1.Secret(
      `${name}-connection-string`,
      {
        metadata: { name: CONNECTION_STRING_SECRET.name, namespace: OTEL_COLLECTOR.namespace },
        type: "Opaque",
        stringData: { [CONNECTION_STRING_SECRET.key]: pulumi.secret(routed.connectionString) },
      },
      { ...k8sOpts, dependsOn: args.dependsOn },
    );
    this.release = new k8s.helm.v3.Release(
      `${name}-collector`,
      {
        ...chartSource(CHARTS.otelCollector),
        name: RELEASES.otelCollector,
        namespace: OTEL_COLLECTOR.namespace,
        values: collectorValues(
          args.replicas,
          ingestionProxyContainer(args.ingestionIdentity.clientId, pulumi.unsecret(routed.targetHost)),
        ),
      },
      // Role assignments take effect within minutes; the proxy retries its token until then.
      { ...k8sOpts, dependsOn: [secret, publisher] },
    );
    this.appInsightsId = insights.id;
    this.registerOutputs({ appInsightsId: this.appInsightsId, release: this.release });
  }
}
