import assert from "node:assert/strict";
import { ofType, manifest, manifests, rendered } from "../support/estate";
import { NAMESPACES, OTEL_COLLECTOR, RELEASES } from "../../lib/names";
import { TRACING_COLLECTOR } from "../../components/mesh";
import { CHARTS, isExactVersion } from "../../components/charts";
import {
  CONNECTION_STRING_ENV,
  CONNECTION_STRING_SECRET,
  INGESTION_PROXY,
  MONITORING_METRICS_PUBLISHER,
  throughProxy,
} from "../../components/observability/tracing";
import { clusterManifests, requireCharts } from "../support/cluster";
import { unwrapSecrets } from "../../tools/outputs";

async function collectorRelease(): Promise<Record<string, any>> {
  const releases = ofType(await rendered("prod"), "kubernetes:helm.sh/v3:Release")
    .map((r) => unwrapSecrets(r.inputs) as Record<string, any>)
    .filter((i) => i.name === RELEASES.otelCollector);
  assert.equal(releases.length, 1, "one collector release");
  return releases[0];
}

describe("tracing", () => {
  it("the collector release is the official chart at an exact version", async () => {
    const release = await collectorRelease();
    assert.equal(release.chart, "opentelemetry-collector");
    assert.equal(release.repositoryOpts.repo, "https://open-telemetry.github.io/opentelemetry-helm-charts");
    assert.equal(release.version, CHARTS.otelCollector.version);
    assert.ok(isExactVersion(release.version));
  });

  it("the collector's Service is the address the mesh's tracing provider targets", async () => {
    const release = await collectorRelease();
    const [service, namespace] = TRACING_COLLECTOR.service.split(".");
    // The chart names its Service after fullnameOverride, in the release namespace.
    assert.equal(release.values.fullnameOverride, service);
    assert.equal(release.namespace, namespace);
    assert.equal(release.values.ports.otlp.servicePort, TRACING_COLLECTOR.port);
    assert.equal(release.values.mode, "deployment");
    assert.deepEqual(release.values.config.service.pipelines.traces.exporters, ["azuremonitor"]);
  });

  it("the connection string reaches the collector through a Secret, never through Helm values", async () => {
    const release = await collectorRelease();
    const values = JSON.stringify(release.values);
    assert.ok(!/InstrumentationKey|IngestionEndpoint/i.test(values));
    assert.deepEqual(release.values.extraEnvs, [
      {
        name: CONNECTION_STRING_ENV,
        valueFrom: {
          secretKeyRef: { name: CONNECTION_STRING_SECRET.name, key: CONNECTION_STRING_SECRET.key },
        },
      },
    ]);
    assert.equal(
      release.values.config.exporters.azuremonitor.connection_string,
      `\${env:${CONNECTION_STRING_ENV}}`,
    );
    manifest(await rendered("prod"), "Secret", CONNECTION_STRING_SECRET.name, NAMESPACES.monitoring);
  });

  it("Application Insights is workspace-based on the stack's Log Analytics workspace", async () => {
    const run = await rendered("prod");
    const [insights] = ofType(run, "azure-native:applicationinsights:Component");
    const [workspace] = ofType(run, "azure-native:operationalinsights:Workspace");
    assert.equal(insights.inputs.ingestionMode, "LogAnalytics");
    assert.match(String(insights.inputs.workspaceResourceId), /\/workspaces\//);
    assert.ok(String(insights.inputs.workspaceResourceId).endsWith(`/${workspace.inputs.workspaceName}`));
  });

  it("the collector runs non-root on the system pool with resources set", async () => {
    const { values } = await collectorRelease();
    assert.equal(values.podSecurityContext.runAsNonRoot, true);
    assert.equal(values.securityContext.allowPrivilegeEscalation, false);
    assert.deepEqual(values.nodeSelector, { "kubernetes.azure.com/mode": "system" });
    assert.ok(values.resources.requests.cpu && values.resources.limits.memory);
  });

  it("NetworkPolicies let the mesh's sidecars and gateway reach the collector on OTLP/gRPC", async () => {
    const run = await rendered("prod");
    const ingress = manifests(run, "NetworkPolicy").find(
      (p) => p.metadata.namespace === NAMESPACES.monitoring && p.metadata.name === "wiring-in-otel-collector",
    );
    assert.ok(ingress, "monitoring accepts OTLP");
    assert.deepEqual(ingress.spec.podSelector.matchLabels, OTEL_COLLECTOR.podLabels);
    const rules = ingress.spec.ingress.filter((r: any) =>
      r.ports.some((p: any) => p.port === TRACING_COLLECTOR.port && p.protocol === "TCP"),
    );
    const sources = rules.flatMap((r: any) =>
      r.from.map((f: any) => f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]),
    );
    assert.deepEqual(
      new Set(sources),
      new Set(["ai-workflow-prod", NAMESPACES.rabbitmq, NAMESPACES.ingress, NAMESPACES.rabbitmqOperator]),
    );
    for (const ns of ["ai-workflow-prod", NAMESPACES.rabbitmq]) {
      const egress = manifests(run, "NetworkPolicy")
        .filter((p) => p.metadata.namespace === ns && p.spec.egress)
        .flatMap((p) => p.spec.egress);
      assert.ok(
        egress.some(
          (r: any) =>
            r.ports.some((p: any) => p.port === TRACING_COLLECTOR.port) &&
            r.to.some(
              (t: any) =>
                t.namespaceSelector?.matchLabels["kubernetes.io/metadata.name"] === NAMESPACES.monitoring,
            ),
        ),
        `${ns} may send spans`,
      );
    }
  });
});

describe("tracing: Entra ID ingestion through the authenticating proxy", () => {
  // The connection string format Application Insights documents (azure-monitor/app/sdk-connection-string).
  const documented =
    "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/";

  it("the exporter posts to the proxy on loopback; the proxy targets the component's ingestion endpoint", () => {
    const routed = throughProxy(documented);
    assert.equal(routed.targetHost, "https://westeurope-5.in.applicationinsights.azure.com");
    assert.match(
      routed.connectionString,
      new RegExp(`IngestionEndpoint=http://127\\.0\\.0\\.1:${INGESTION_PROXY.port}/`),
    );
    assert.match(routed.connectionString, /^InstrumentationKey=0{8}-/);
    assert.match(routed.connectionString, /LiveEndpoint=https:\/\/westeurope\.livediagnostics/);
    assert.throws(() => throughProxy("InstrumentationKey=x"), /no IngestionEndpoint/);
  });

  it("local auth is off, and the kubelet identity the proxy uses holds Monitoring Metrics Publisher on the component", async () => {
    const run = await rendered("prod");
    const [insights] = ofType(run, "azure-native:applicationinsights:Component");
    assert.equal(insights.inputs.disableLocalAuth, true);
    const grants = ofType(run, "azure-native:authorization:RoleAssignment").filter((r) =>
      String(r.inputs.roleDefinitionId).endsWith(MONITORING_METRICS_PUBLISHER),
    );
    assert.equal(grants.length, 1);
    const [cluster] = ofType(run, "azure-native:containerservice:ManagedCluster");
    assert.ok(String(grants[0].inputs.scope).includes("/components/"), "scoped to the component");
    assert.equal(grants[0].inputs.principalType, "ServicePrincipal");
    assert.ok(cluster, "the cluster whose kubelet identity is granted");
  });

  it("the rendered collector pod runs the proxy beside the collector, with the kubelet identity's client id", async function () {
    requireCharts(this);
    const deployment = (await clusterManifests("prod", "Deployment")).find(
      (d) => d.metadata.name === OTEL_COLLECTOR.service,
    );
    assert.ok(deployment, "the chart renders the collector Deployment");
    const proxy = deployment.spec.template.spec.containers.find((c: any) => c.name === "aad-auth-proxy");
    assert.ok(proxy, "the proxy container is in the collector pod");
    const env = Object.fromEntries(proxy.env.map((e: any) => [e.name, e.value]));
    assert.equal(env.IDENTITY_TYPE, "userAssigned");
    assert.equal(env.LISTENING_PORT, String(INGESTION_PROXY.port));
    assert.match(env.TARGET_HOST, /^https:\/\/.+\.in\.applicationinsights\.azure\.com$/);
    assert.match(env.AAD_CLIENT_ID, /^[0-9a-f-]{36}$/);
    const secret = manifest(await rendered("prod"), "Secret", CONNECTION_STRING_SECRET.name);
    assert.match(
      String(secret.stringData[CONNECTION_STRING_SECRET.key]),
      new RegExp(`IngestionEndpoint=http://127\\.0\\.0\\.1:${INGESTION_PROXY.port}/`),
    );
  });
});
