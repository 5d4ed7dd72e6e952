import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CHARTS } from "../../components/charts";
import { CERT_MANAGER_RELEASE, CERT_MANAGER_SERVICE_ACCOUNT } from "../../components/certManager";
import { NAMESPACES, RELEASES } from "../../lib/names";
import { chartPackage, missingPackages, packageName } from "../../tools/fixtures";
import { helmTemplate, releasePackage, type HelmRelease } from "../../tools/helm";
import { loadChart, unknownKeys, valuesReferences } from "../support/chartKeys";
import { clusterObjects, renderedRelease, requireCharts, stackReleases } from "../support/cluster";
import { STACKS } from "../support/estate";

const structuredCopy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

describe("charts: every Helm release renders with the real helm", function () {
  before(function () {
    requireCharts(this);
  });

  for (const stack of STACKS) {
    it(`${stack}: every release renders (no template or values-schema error) and installs a pinned chart`, async () => {
      const releases = await stackReleases(stack);
      // Renders the releases concurrently (bounded); failures are reported one by one below.
      await clusterObjects(stack).catch(() => undefined);
      assert.ok(releases.length >= 10, `${stack} declares ${releases.length} releases`);
      const failures: string[] = [];
      for (const release of releases) {
        try {
          const objects = await renderedRelease(stack, release);
          if (objects.length === 0) failures.push(`${release.name}: rendered no objects`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
      assert.deepEqual(failures, []);
      const installed = new Set(releases.map((r) => r.pin));
      const unused = Object.keys(CHARTS).filter((k) => !installed.has(k as keyof typeof CHARTS));
      assert.deepEqual(unused, [], "every pin in components/charts.ts is installed by a release");
    });

    it(`${stack}: every value key the program sets is one the chart knows`, async () => {
      const unknown: string[] = [];
      for (const release of await stackReleases(stack)) {
        for (const key of unknownKeys(loadChart(releasePackage(release)), release.values))
          unknown.push(`${release.name}: ${key}`);
      }
      assert.deepEqual(unknown, []);
    });
  }

  it("the key check flags planted typos at the root, under istiod's pilot alias, in a subchart and in a nested map", async () => {
    const releases = await stackReleases("prod");
    const byName = (name: string) => structuredCopy(releases.find((r) => r.name === name)!);
    const plant: [HelmRelease, (v: any) => void, string][] = [
      [byName(RELEASES.istiod), (v) => (v.autoscaleMinn = 2), "autoscaleMinn"],
      [byName(RELEASES.istiod), (v) => (v.pilot.cni.enabeld = true), "pilot.cni.enabeld"],
      [
        byName(RELEASES.prometheusStack),
        (v) => (v.prometheus.prometheusSpec.retentionSizee = "1GB"),
        "prometheus.prometheusSpec.retentionSizee",
      ],
      [
        byName(RELEASES.prometheusStack),
        (v) => (v.grafana.sidecar = { dashboards: { lable: "x" } }),
        "grafana.sidecar.dashboards.lable",
      ],
      [
        byName(RELEASES.velero),
        (v) => (v.metrics.serviceMonitor.enabeld = true),
        "metrics.serviceMonitor.enabeld",
      ],
      [
        byName(RELEASES.otelCollector),
        (v) => (v.ports.otlp.containerPortt = 4317),
        "ports.otlp.containerPortt",
      ],
      [
        byName(RELEASES.rabbitmqOperator),
        (v) => (v.msgTopologyOperator.comand = ["/manager"]),
        "msgTopologyOperator.comand",
      ],
      [byName(CERT_MANAGER_RELEASE), (v) => (v.webhook.replicaCountt = 2), "webhook.replicaCountt"],
    ];
    for (const [release, edit, typo] of plant) {
      edit(release.values);
      assert.deepEqual(unknownKeys(loadChart(releasePackage(release)), release.values), [typo], release.name);
    }
    // Free-form maps are passed through, not checked key by key.
    const gateway = byName(RELEASES.gateway);
    gateway.values.podAnnotations = { "example.com/anything": "x" };
    assert.deepEqual(unknownKeys(loadChart(releasePackage(gateway)), gateway.values), []);
  });

  it("a value the chart's values.schema.json rejects fails the render, naming the release", async () => {
    const release = structuredCopy(
      (await stackReleases("prod")).find((r) => r.name === CERT_MANAGER_RELEASE)!,
    );
    release.values.replicaCount = "two";
    await assert.rejects(helmTemplate(release), /release cert-manager .*replicaCount/s);
  });
});

describe("charts: fixtures and the template reader (no helm needed)", () => {
  it("reads template references in field, index and pass-through form", () => {
    assert.deepEqual(
      valuesReferences('{{ .Values.a.b }} {{ index .Values "c-d" "e" }} {{ toYaml $.Values.f }}'),
      [
        ["a.b", false],
        ["f", true],
        ["c-d.e", false],
      ],
    );
  });

  it("a pinned chart without a package is an error naming the pin", () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-no-charts-"));
    assert.throws(
      () => chartPackage("velero", empty),
      new RegExp(
        `CHARTS\\.velero: no package ${packageName(CHARTS.velero).replace(/\./g, "\\.")} in ${empty}`,
      ),
    );
    assert.equal(missingPackages(empty).length, Object.keys(CHARTS).length);
    assert.throws(
      () => chartPackage({ chart: "velero", version: "12.2.0", repo: "x" }, empty),
      /velero 12\.2\.0 is not pinned/,
    );
  });
});

describe("charts: what the rendered charts create", function () {
  before(function () {
    requireCharts(this);
  });

  for (const stack of STACKS) {
    it(`${stack}: cert-manager's service account keeps its workload identity and every pod runs on the system pool`, async () => {
      const objects = (await clusterObjects(stack)).filter(
        (o) => o.source === `chart:${CERT_MANAGER_RELEASE}`,
      );
      const sa = objects.find(
        (o) =>
          o.manifest.kind === "ServiceAccount" && o.manifest.metadata.name === CERT_MANAGER_SERVICE_ACCOUNT,
      )!.manifest;
      assert.match(sa.metadata.annotations["azure.workload.identity/client-id"], /^[0-9a-f-]{36}$/);
      assert.equal(sa.metadata.labels["azure.workload.identity/use"], "true");
      const pods = objects.filter((o) => ["Deployment", "Job"].includes(o.manifest.kind));
      assert.equal(pods.length, 4, "controller, webhook, cainjector, startupapicheck");
      for (const { manifest } of pods) {
        const spec = manifest.spec.template.spec;
        assert.equal(spec.nodeSelector["kubernetes.azure.com/mode"], "system", manifest.metadata.name);
        assert.ok(
          spec.tolerations?.some((t: any) => t.key === "CriticalAddonsOnly" && t.effect === "NoSchedule"),
          `${manifest.metadata.name} tolerates the system pool's taint`,
        );
      }
      const controller = pods.find((o) => o.manifest.metadata.name === "cert-manager")!.manifest;
      assert.equal(controller.spec.template.metadata.labels["azure.workload.identity/use"], "true");
      assert.ok(
        objects.some((o) => o.manifest.kind === "CustomResourceDefinition"),
        "CRDs installed",
      );
    });
  }

  it("the messaging topology operator runs the upstream image's /manager at the version the chart pairs", async () => {
    const deployments = (await clusterObjects("prod")).filter(
      (o) => o.source === `chart:${RELEASES.rabbitmqOperator}` && o.manifest.kind === "Deployment",
    );
    const containers = deployments.flatMap((d) => d.manifest.spec.template.spec.containers);
    const topology = containers.find((c: any) => /messaging-topology-operator/.test(c.image))!;
    assert.deepEqual(topology.command, ["/manager"]);
    assert.equal(topology.image, "docker.io/rabbitmqoperator/messaging-topology-operator:1.17.4");
    const operator = containers.find((c: any) => /cluster-operator:/.test(c.image))!;
    assert.deepEqual(operator.command, ["/manager"]);
  });

  it("the object set holds the program's objects and each release's, namespaced as helm applies them", async () => {
    const objects = await clusterObjects("prod");
    assert.ok(objects.some((o) => o.source === "program"));
    const velero = objects.filter((o) => o.source === `chart:${RELEASES.velero}`);
    const deployment = velero.find((o) => o.manifest.kind === "Deployment")!;
    assert.equal(deployment.manifest.metadata.namespace, NAMESPACES.velero);
    for (const o of objects.filter((x) => x.manifest.kind === "ClusterRole"))
      assert.equal(o.manifest.metadata.namespace, undefined, o.manifest.metadata.name);
  });
});
