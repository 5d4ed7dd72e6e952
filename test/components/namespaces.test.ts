import assert from "node:assert/strict";
import { manifests, rendered } from "../support/estate";
import { NAMESPACES } from "../../lib/names";

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

  it("every namespace denies by default; the application namespace denies egress too", async () => {
    const run = await rendered("prod");
    const denies = manifests(run, "NetworkPolicy").filter((p) => p.metadata.name === "default-deny");
    const names = manifests(run, "Namespace").map((n) => n.metadata.name);
    assert.deepEqual(denies.map((p) => p.metadata.namespace).sort(), [...names].sort());
    const app = denies.find((p) => p.metadata.namespace === "ai-workflow-prod")!;
    assert.deepEqual(app.spec.policyTypes, ["Ingress", "Egress"]);
    const egress = manifests(run, "NetworkPolicy").filter(
      (p) => p.metadata.namespace === "ai-workflow-prod" && p.spec.egress,
    );
    const text = JSON.stringify(egress);
    assert.match(text, /kube-dns/);
    assert.match(text, /15012/);
    assert.ok(
      manifests(run, "NetworkPolicy").some(
        (p) =>
          p.metadata.namespace === "ai-workflow-prod" &&
          JSON.stringify(p.spec.ingress ?? []).includes(NAMESPACES.monitoring),
      ),
    );
  });
});
