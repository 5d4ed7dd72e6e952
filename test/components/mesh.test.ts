import assert from "node:assert/strict";
import { manifest, manifests, ofType, rendered, renderWith } from "../support/estate";
import { INGRESS_SUBNET_NAME, NAMESPACES, RELEASES } from "../../lib/names";
import { telemetrySpec } from "../../components/mesh";

const release = async (stack: "prod" | "dev", name: string) =>
  ofType(await rendered(stack), "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === name)!
    .inputs as Record<string, any>;

describe("mesh", () => {
  it("prod istiod keeps at least 2 replicas (HPA floor) with its PDB, on the system pool", async () => {
    const values = (await release("prod", RELEASES.istiod)).values;
    assert.ok(values.autoscaleMin >= 2 && values.replicaCount >= 2);
    assert.equal(values.global.defaultPodDisruptionBudget.enabled, true);
    assert.ok(values.tolerations.some((t: any) => t.key === "CriticalAddonsOnly"));
  });

  it("the gateway sits on an internal load balancer with a Private Link Service in the ingress subnet", async () => {
    const g = await release("prod", RELEASES.gateway);
    assert.equal(g.namespace, NAMESPACES.ingress);
    const a = g.values.service.annotations;
    assert.equal(a["service.beta.kubernetes.io/azure-load-balancer-internal"], "true");
    assert.equal(a["service.beta.kubernetes.io/azure-pls-create"], "true");
    assert.equal(a["service.beta.kubernetes.io/azure-pls-name"], "aiwp-prod-ingress-pls");
    assert.equal(a["service.beta.kubernetes.io/azure-pls-ip-configuration-subnet"], INGRESS_SUBNET_NAME);
    // The chart renders its PDB only when more than one replica is guaranteed.
    assert.ok(g.values.autoscaling.minReplicas > 1 && g.values.podDisruptionBudget.minAvailable === 1);
  });

  it("mTLS is STRICT mesh-wide", async () => {
    const pa = manifest(await rendered("prod"), "PeerAuthentication", "default", NAMESPACES.istio);
    assert.equal(pa.spec.mtls.mode, "STRICT");
    assert.equal(pa.spec.selector, undefined);
    assert.equal(
      manifests(await rendered("prod"), "PeerAuthentication").filter((p) => p.spec.mtls.mode !== "STRICT")
        .length,
      0,
    );
  });

  it("a PERMISSIVE exception exists only as configured, labelled with its reason", async () => {
    const run = await renderWith("staging", (c) => {
      c["aiwp-estate:mesh"].permissiveExceptions = [
        {
          namespace: "ai-workflow-staging",
          workload: "legacy-probe",
          reason: "scraped by an external probe without mTLS",
        },
      ];
    });
    const permissive = manifests(run, "PeerAuthentication").filter((p) => p.spec.mtls.mode === "PERMISSIVE");
    assert.equal(permissive.length, 1);
    assert.equal(
      permissive[0].metadata.annotations["aiwp.io/mtls-exception-reason"],
      "scraped by an external probe without mTLS",
    );
  });

  it("Telemetry samples at the stack's rate and never drops the reporter label", async () => {
    const t = manifest(await rendered("dev"), "Telemetry", "mesh-default", NAMESPACES.istio);
    assert.equal(t.spec.tracing[0].randomSamplingPercentage, 100);
    const overrides = JSON.stringify(telemetrySpec(1).metrics);
    assert.doesNotMatch(overrides, /reporter/);
    assert.equal(
      manifest(await rendered("prod"), "Telemetry", "mesh-default").spec.tracing[0].randomSamplingPercentage,
      1,
    );
  });

  it("the gateway requires a JWT except on health paths", async () => {
    const run = await rendered("prod");
    assert.ok(
      manifest(run, "RequestAuthentication", "gateway-jwt", NAMESPACES.ingress).spec.jwtRules[0].jwksUri,
    );
    const deny = manifest(run, "AuthorizationPolicy", "require-jwt", NAMESPACES.ingress).spec;
    assert.equal(deny.action, "DENY");
    assert.deepEqual(deny.rules[0].from[0].source.notRequestPrincipals, ["*"]);
    assert.ok(deny.rules[0].to[0].operation.notPaths.includes("/health/ready"));
  });

  it("RabbitMQ accepts mesh traffic only from the application namespace", async () => {
    const p = manifest(
      await rendered("prod"),
      "AuthorizationPolicy",
      "deny-other-namespaces",
      NAMESPACES.rabbitmq,
    ).spec;
    assert.equal(p.action, "DENY");
    assert.deepEqual(p.rules[0].from[0].source.notNamespaces, [
      "ai-workflow-prod",
      NAMESPACES.rabbitmq,
      NAMESPACES.monitoring,
      NAMESPACES.rabbitmqOperator,
    ]);
  });
});
