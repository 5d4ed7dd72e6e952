import * as assert from "node:assert/strict";
import { PRIORITY_CLASSES } from "../../components/priorityClasses";
import { NAMESPACES } from "../../lib/names";
import { STACKS, manifest, manifests, renderWith, rendered } from "../support/estate";

/** Highest value of a user-defined PriorityClass (Kubernetes API: larger values are reserved for system classes). */
const USER_MAX = 1_000_000_000;

describe("components/priorityClasses", () => {
  it("declares user classes only, none the global default, ordered mesh > platform > revenue > service", async () => {
    const prod = await rendered("prod");
    const classes = manifests(prod, "PriorityClass");
    assert.deepEqual(classes.map((c) => c.metadata.name).sort(), [
      "aiwp-mesh-critical",
      "aiwp-platform",
      "aiwp-revenue",
      "aiwp-service",
    ]);
    for (const c of classes) {
      assert.ok(c.value <= USER_MAX, c.metadata.name);
      assert.equal(c.globalDefault, false, `${c.metadata.name}: unclassified pods keep priority 0`);
    }
    const value = (name: string) => manifest(prod, "PriorityClass", name).value;
    assert.ok(value("aiwp-mesh-critical") > value("aiwp-platform"));
    assert.ok(value("aiwp-platform") > value("aiwp-revenue"));
    assert.ok(value("aiwp-revenue") > value("aiwp-service"));
  });

  it("classifies every pod the program declares, the optional DingTalk bridge included, with no API token", async () => {
    const run = await renderWith("prod", (c) => {
      c["aiwp-estate:observability"].receivers = { dingtalk: { enabled: true } };
    });
    const names = new Set(Object.values(PRIORITY_CLASSES).map((c) => c.name));
    const deployments = manifests(run, "Deployment");
    assert.ok(
      deployments.some((d) => d.metadata.name.endsWith("-dingtalk")),
      "the bridge is rendered",
    );
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      assert.ok(names.has(pod.priorityClassName), `${d.metadata.name}: ${pod.priorityClassName}`);
      assert.equal(pod.automountServiceAccountToken, false, d.metadata.name);
      for (const c of pod.containers)
        if (!c.image.includes("@sha256:"))
          assert.equal(c.imagePullPolicy, "Always", `${d.metadata.name}/${c.name}`);
    }
  });

  for (const stack of STACKS) {
    it(`${stack}: every platform release names its pods' class at the chart's own value path`, async () => {
      const run = await rendered(stack);
      const values = (release: string): Record<string, any> =>
        run.registrations.find(
          (r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.name === release,
        )!.inputs.values as Record<string, any>;
      const mesh = PRIORITY_CLASSES.mesh.name;
      const platform = PRIORITY_CLASSES.platform.name;
      // Paths read from each chart's templates (istiod templates/deployment.yaml global.priorityClassName,
      // gateway templates/deployment.yaml, flagger and loadtester podPriorityClassName, kube-prometheus-stack
      // *Spec.priorityClassName, cert-manager global.priorityClassName, velero priorityClassName).
      assert.equal(values("istiod").global.priorityClassName, mesh);
      assert.equal(values("istio-ingressgateway").priorityClassName, mesh);
      assert.equal(values("flagger").podPriorityClassName, platform);
      assert.equal(values("flagger-loadtester").podPriorityClassName, platform);
      const kps = values("kube-prometheus-stack");
      assert.equal(kps.prometheus.prometheusSpec.priorityClassName, platform);
      assert.equal(kps.alertmanager.alertmanagerSpec.priorityClassName, platform);
      assert.equal(kps.prometheusOperator.priorityClassName, platform);
      assert.equal(kps["prometheus-node-exporter"].priorityClassName, platform);
      assert.equal(values("cert-manager").global.priorityClassName, platform);
      assert.equal(values("velero").priorityClassName, platform);
      assert.equal(values("rabbitmq-cluster-operator").clusterOperator.priorityClassName, platform);
      assert.equal(values("otel-collector").priorityClassName, platform);
      const queue = manifests(run, "RabbitmqCluster").find(
        (m) => m.metadata.namespace === NAMESPACES.rabbitmq,
      )!;
      assert.equal(queue.spec.override.statefulSet.spec.template.spec.priorityClassName, platform);
    });
  }
});
