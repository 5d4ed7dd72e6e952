import assert from "node:assert/strict";
import { ofType, manifest, manifests, rendered } from "../support/estate";
import { NAMESPACES, OTEL_COLLECTOR, RELEASES } from "../../lib/names";
import { TRACING_COLLECTOR } from "../../components/mesh";
import { CHARTS, isExactVersion } from "../../components/charts";
import { CONNECTION_STRING_ENV, CONNECTION_STRING_SECRET } from "../../components/observability/tracing";
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
