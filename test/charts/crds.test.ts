import assert from "node:assert/strict";
import { clusterObjects, requireCharts } from "../support/cluster";
import { STACKS } from "../support/estate";
import { crdSourceOf, loadValidators, registerCrds, validateManifest } from "../support/schemas";

const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");

/** API groups whose CRDs the estate's charts install (RabbitMQ, prometheus-operator, cert-manager, Istio). */
const CHART_GROUPS = [
  (g: string) => g === "rabbitmq.com",
  (g: string) => g === "monitoring.coreos.com",
  (g: string) => g === "cert-manager.io" || g === "acme.cert-manager.io",
  (g: string) => g.endsWith(".istio.io"),
];
const fromChartGroup = (m: Record<string, any>) =>
  CHART_GROUPS.some((test) => test(groupOf(String(m.apiVersion ?? ""))));

/** Registers every CRD the stack's charts render, once per stack. */
async function chartCrds(stack: (typeof STACKS)[number]): Promise<Record<string, any>[]> {
  const objects = await clusterObjects(stack);
  // Flagger's and Velero's stay those of the fixtures' crds/ (the upstream release files).
  const crds = objects.filter(
    (o) =>
      o.source !== "program" &&
      o.manifest.kind === "CustomResourceDefinition" &&
      CHART_GROUPS.some((test) => test(String(o.manifest.spec?.group))),
  );
  for (const release of new Set(crds.map((o) => o.source)))
    registerCrds(
      crds.filter((o) => o.source === release).map((o) => o.manifest),
      release,
    );
  return objects.filter((o) => o.source === "program").map((o) => o.manifest);
}

describe("charts: the program's custom resources against the CRDs the charts install", function () {
  before(function () {
    requireCharts(this);
  });

  for (const stack of STACKS) {
    it(`${stack}: every RabbitMQ, prometheus-operator, cert-manager and Istio object has a served CRD and validates`, async () => {
      const program = (await chartCrds(stack)).filter(fromChartGroup);
      const kinds = new Set(program.map((m) => m.kind));
      for (const kind of [
        "RabbitmqCluster",
        "User",
        "Permission",
        "ServiceMonitor",
        "PodMonitor",
        "PrometheusRule",
      ])
        assert.ok(kinds.has(kind), `${stack} declares a ${kind}`);
      for (const kind of [
        "ClusterIssuer",
        "Certificate",
        "PeerAuthentication",
        "AuthorizationPolicy",
        "Gateway",
        "Telemetry",
      ])
        assert.ok(kinds.has(kind), `${stack} declares a ${kind}`);
      const withoutCrd = program
        .filter((m) => !crdSourceOf(m))
        .map((m) => `${m.apiVersion} ${m.kind} ${m.metadata?.name}`);
      assert.deepEqual(withoutCrd, [], "no chart installs a CRD serving these kinds at these versions");
      await loadValidators(program);
      assert.deepEqual(program.flatMap(validateManifest), []);
    });
  }

  it("a chart CRD rejects an unknown field, a wrong type and a missing required field", async () => {
    await chartCrds("prod");
    const cluster = {
      apiVersion: "rabbitmq.com/v1beta1",
      kind: "RabbitmqCluster",
      metadata: { name: "q" },
      spec: { replicas: 3, replicaz: 3 },
    };
    assert.equal(crdSourceOf(cluster), "chart:rabbitmq-cluster-operator");
    assert.match(validateManifest(cluster).join("\n"), /additional properties \(replicaz\)/);
    const monitor = {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "m" },
      spec: { selector: {}, endpoints: [{ port: 8080 }] },
    };
    assert.match(validateManifest(monitor).join("\n"), /endpoints\/0\/port must be string/);
    const permission = {
      apiVersion: "rabbitmq.com/v1beta1",
      kind: "Permission",
      metadata: { name: "p" },
      spec: { vhost: "/", user: "u", permissions: {} },
    };
    assert.match(validateManifest(permission).join("\n"), /rabbitmqClusterReference/);
  });
});
