import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONTRACT_METRICS, EXPORTERS, type Exporter } from "../../lib/telemetry";
import { appNamespace } from "../../lib/names";
import { STACKS, rendered } from "../support/estate";
import { clusterObjects, requireCharts } from "../support/cluster";
import { checkExporter, prometheusCR, type ClusterObject } from "./scrape";

/** Problems of every scraped contract metric on a stack's object set, as "metric: problem". */
function scrapeProblems(objects: readonly ClusterObject[], ns: string): string[] {
  const out: string[] = [];
  for (const m of CONTRACT_METRICS) {
    const exporter = EXPORTERS[m.exporter] as Exporter;
    if (!exporter.scrape) continue;
    for (const p of checkExporter(objects, exporter, ns).problems)
      out.push(`${m.name} (${exporter.workload}): ${p}`);
  }
  return out;
}

/** The object set with one monitor's labels replaced. */
function relabelled(
  objects: ClusterObject[],
  kind: string,
  name: string,
  labels: Record<string, string>,
): ClusterObject[] {
  return objects.map((o) =>
    o.manifest.kind === kind && o.manifest.metadata?.name === name
      ? { ...o, manifest: { ...o.manifest, metadata: { ...o.manifest.metadata, labels } } }
      : o,
  );
}

describe("telemetry contract: scrapes", () => {
  for (const stack of STACKS) {
    it(`every contract metric of ${stack} has a monitor its Prometheus selects, matching the exporter's Service or pods, port and stored labels`, async function () {
      requireCharts(this);
      const run = await rendered(stack);
      const objects = await clusterObjects(stack);
      const problems = scrapeProblems(objects, appNamespace(run.config.settings));
      assert.deepEqual(problems, [], problems.join("\n"));
    });
  }

  it("the check reads the Prometheus CR the chart renders, and fails a monitor it does not select", async function () {
    requireCharts(this);
    const run = await rendered("prod");
    const objects = await clusterObjects("prod");
    const prom = prometheusCR(objects);
    assert.deepEqual(prom.spec.serviceMonitorSelector, { matchLabels: { "aiwp.io/monitoring": "estate" } });
    // kube-state-metrics' ServiceMonitor as the subchart labels it without additionalLabels.
    const unlabelled = relabelled(objects, "ServiceMonitor", "kube-prometheus-stack-kube-state-metrics", {
      release: "kube-prometheus-stack",
    });
    const problems = scrapeProblems(unlabelled, appNamespace(run.config.settings));
    for (const metric of [
      "kube_deployment_spec_replicas",
      "kube_pod_container_resource_limits",
      "kube_node_status_condition",
    ])
      assert.ok(
        problems.some((p) => p.startsWith(`${metric} `) && p.includes("does not select")),
        `${metric} must be reported unscraped:\n${problems.join("\n")}`,
      );
  });

  it("the check fails Flagger's PodMonitor without honorLabels and a Velero without its ServiceMonitor", async function () {
    requireCharts(this);
    const run = await rendered("prod");
    const objects = await clusterObjects("prod");
    const ns = appNamespace(run.config.settings);
    const noHonor = objects.map((o) =>
      o.manifest.kind === "PodMonitor" && o.manifest.metadata.name === "flagger"
        ? {
            ...o,
            manifest: {
              ...o.manifest,
              spec: {
                ...o.manifest.spec,
                podMetricsEndpoints: o.manifest.spec.podMetricsEndpoints.map((e: any) => ({
                  ...e,
                  honorLabels: false,
                })),
              },
            },
          }
        : o,
    );
    assert.match(checkExporter(noHonor, EXPORTERS.flagger, ns).problems.join("\n"), /honorLabels is false/);
    const noVelero = objects.filter(
      (o) => !(o.manifest.kind === "ServiceMonitor" && o.manifest.metadata.name === "velero"),
    );
    assert.match(checkExporter(noVelero, EXPORTERS.velero, ns).problems.join("\n"), /does not exist/);
  });

  // The wiring contract's verifier evaluates NetworkPolicies, mTLS and AuthorizationPolicies for a flow.
  const verifier = path.resolve(__dirname, "..", "..", "lib", "wiring", "verify.ts");
  for (const stack of STACKS) {
    it(`the wiring contract lets ${stack}'s Prometheus reach every exporter's pods and port`, async function () {
      requireCharts(this);
      if (!fs.existsSync(verifier)) {
        console.log("      skipped: lib/wiring/verify.ts (the wiring verifier) is not in this checkout");
        this.skip();
      }
      const { evaluateFlow } = require("../../lib/wiring/verify");
      const { clusterWiring, serviceWorkload } = require("../../lib/wiring/cluster");
      const run = await rendered(stack);
      const settings = run.config.settings;
      const objects = await clusterObjects(stack);
      const wiring = clusterWiring(settings);
      // Exporters whose pods the table names; the kubelet (host network, node addresses) and Prometheus's
      // own scrape of itself stay outside the pod-to-pod check.
      const targets: [Exporter, string][] = [
        [EXPORTERS.kubeStateMetrics, "kube-state-metrics"],
        [EXPORTERS.flagger, "flagger"],
        [EXPORTERS.velero, "velero"],
        [EXPORTERS.alertmanager, "alertmanager"],
        ...Object.keys(settings.services).map((s): [Exporter, string] => [
          EXPORTERS.istioProxy,
          serviceWorkload(s),
        ]),
      ];
      const blocked: string[] = [];
      for (const [exporter, workload] of targets) {
        const port = exporter.pods?.port ?? 9093;
        const verdict = evaluateFlow(
          objects,
          {
            id: `prometheus-scrapes-${workload}-telemetry`,
            from: { workload: "prometheus" },
            to: { workload },
            ports: [port],
            protocol: "TCP",
            why: `scrape of ${exporter.workload}`,
          },
          wiring.workloads,
        );
        if (verdict.ok && verdict.cases.length === 0) blocked.push(`${workload}:${port}: no pod to reach`);
        else if (!verdict.ok)
          blocked.push(
            `${workload}:${port}: ${
              verdict.error ??
              verdict.cases
                .filter((c: any) => !c.allowed)
                .map((c: any) =>
                  c.layers
                    .filter((l: any) => !l.allowed)
                    .map((l: any) => l.decidedBy)
                    .join("; "),
                )
                .join(" | ")
            }`,
          );
      }
      // Istio's request metrics exist only where a sidecar runs: every application pod must be injected.
      const { podsOf, sidecarOf } = require("../../lib/wiring/verify");
      const appNs = appNamespace(settings);
      const appPods = podsOf(objects).filter((p: { namespace: string }) => p.namespace === appNs);
      assert.ok(appPods.length >= Object.keys(settings.services).length, `pods of ${appNs}`);
      for (const pod of appPods) {
        const decision = sidecarOf(objects, pod);
        if (!decision.allowed)
          blocked.push(`${pod.ref}: no istio-proxy, so no istio_* series (${decision.decidedBy})`);
      }
      assert.deepEqual(blocked, [], blocked.join("\n"));
    });
  }
});
