import assert from "node:assert/strict";
import { manifests, rendered } from "../support/estate";
import { NAMESPACES } from "../../lib/names";
import { clusterWiring } from "../../lib/wiring/cluster";
import { FLOWS_ANNOTATION } from "../../lib/wiring/layers";
import { readStackConfig } from "../../tools/harness";

describe("namespaces", () => {
  it("every namespace carries a Pod Security Admission level, restricted for the application", async () => {
    const ns = manifests(await rendered("prod"), "Namespace");
    assert.ok(ns.length >= 8);
    for (const n of ns)
      assert.match(
        n.metadata.labels["pod-security.kubernetes.io/enforce"],
        /^(restricted|baseline|privileged)$/,
      );
    const app = ns.find((n) => n.metadata.name === "ai-workflow-prod")!;
    assert.equal(app.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    assert.equal(app.metadata.labels["istio-injection"], "enabled");
    for (const n of ns.filter(
      (x) => x.metadata.labels["pod-security.kubernetes.io/enforce"] !== "restricted",
    )) {
      assert.ok(
        n.metadata.annotations?.["aiwp.io/pod-security-reason"],
        `${n.metadata.name} says why it is not restricted`,
      );
    }
  });

  it("every namespace denies by default; the application and RabbitMQ namespaces deny egress too", async () => {
    const run = await rendered("prod");
    const denies = manifests(run, "NetworkPolicy").filter((p) => p.metadata.name === "default-deny");
    const names = manifests(run, "Namespace").map((n) => n.metadata.name);
    assert.deepEqual(denies.map((p) => p.metadata.namespace).sort(), [...names].sort());
    const egressDenied = denies
      .filter((p) => p.spec.policyTypes.includes("Egress"))
      .map((p) => p.metadata.namespace);
    assert.deepEqual(egressDenied.sort(), ["ai-workflow-prod", NAMESPACES.rabbitmq]);
  });

  it("the allowances are the wiring table's flows: each derived policy names the flow behind each rule", async () => {
    const run = await rendered("prod");
    const derived = manifests(run, "NetworkPolicy").filter((p) => p.metadata.name !== "default-deny");
    const { required } = clusterWiring(readStackConfig("prod").settings).table;
    const ids = new Set(required.map((f) => f.id));
    for (const p of derived) {
      const flows = p.metadata.annotations[FLOWS_ANNOTATION].split(", ");
      const rules = p.spec.ingress ?? p.spec.egress;
      assert.equal(flows.length, rules.length, `${p.metadata.namespace}/${p.metadata.name}`);
      for (const id of flows) assert.ok(ids.has(id), `${id} is a flow of the table`);
    }
    // Prometheus admits Flagger (istio-system) and KEDA (kube-system) on 9090: every canary's metric checks.
    const prometheus = derived.find(
      (p) => p.metadata.namespace === NAMESPACES.monitoring && p.metadata.name === "wiring-in-prometheus",
    )!;
    const fromNamespaces = prometheus.spec.ingress.flatMap((r: any) =>
      r.from.map((f: any) => f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]),
    );
    assert.ok(fromNamespaces.includes(NAMESPACES.flagger) && fromNamespaces.includes("kube-system"));
    // The application's egress reaches DNS, and of istiod only its xDS port.
    const egress = derived
      .filter((p) => p.metadata.namespace === "ai-workflow-prod" && p.spec.egress)
      .flatMap((p) => p.spec.egress);
    const to = (app: string) =>
      egress.filter((r: any) =>
        r.to?.some((t: any) => Object.values(t.podSelector?.matchLabels ?? {}).includes(app)),
      );
    assert.ok(
      to("kube-dns").some((r: any) => r.ports.some((p: any) => p.port === 53 && p.protocol === "UDP")),
    );
    const istiod = to("istiod").flatMap((r: any) => r.ports.map((p: any) => p.port));
    assert.ok(istiod.length > 0);
    assert.deepEqual([...new Set(istiod)], [15012]);
  });
});
