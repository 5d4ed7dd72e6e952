/**
 * The mesh's tracing destination: an OpenTelemetry Collector (the Service istiod's `otel-tracing` provider
 * targets) that batches the sidecars' spans and exports them to a workspace-based Application Insights, so traces
 * land in the estate's Log Analytics workspace next to Container Insights. Log Analytics takes no OTLP itself:
 * Application Insights is its Azure-native trace front end.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights";
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
 * opentelemetry-collector chart values: one OTLP/gRPC receiver, memory limiter and batch, the azuremonitor
 * exporter. The connection string is never a value: the container reads it from CONNECTION_STRING_SECRET.
 */
export function collectorValues(replicas: number): Record<string, unknown> {
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
        // exporter sends the key only (open-telemetry/opentelemetry-collector-contrib#41004, Entra ID auth open):
        // its exports are refused until they pass an Entra ID authenticating proxy (Azure/aad-auth-proxy) whose
        // identity holds Monitoring Metrics Publisher on this component.
        disableLocalAuth: true,
        tags: args.tags,
      },
      { parent: this },
    );
    const k8sOpts = { parent: this, provider: args.provider };
    const secret = new k8s.core.v1.Secret(
      `${name}-connection-string`,
      {
        metadata: { name: CONNECTION_STRING_SECRET.name, namespace: OTEL_COLLECTOR.namespace },
        type: "Opaque",
        stringData: { [CONNECTION_STRING_SECRET.key]: pulumi.secret(insights.connectionString) },
      },
      { ...k8sOpts, dependsOn: args.dependsOn },
    );
    this.release = new k8s.helm.v3.Release(
      `${name}-collector`,
      {
        ...chartSource(CHARTS.otelCollector),
        name: RELEASES.otelCollector,
        namespace: OTEL_COLLECTOR.namespace,
        values: collectorValues(args.replicas),
      },
      { ...k8sOpts, dependsOn: [secret] },
    );
    this.appInsightsId = insights.id;
    this.registerOutputs({ appInsightsId: this.appInsightsId, release: this.release });
  }
}
