import assert from "node:assert/strict";
import { manifest, manifests, ofType, rendered, renderWith } from "../support/estate";
import { INGRESS_SUBNET_NAME, NAMESPACES, RELEASES } from "../../lib/names";
import { telemetrySpec } from "../../components/mesh";
import { MOCK_SUBSCRIPTION } from "../../tools/mocks";

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

  it("mTLS is STRICT mesh-wide; plain text only on the exceptions' ports, each with its reason", async () => {
    const run = await rendered("prod");
    const pa = manifest(run, "PeerAuthentication", "default", NAMESPACES.istio);
    assert.equal(pa.spec.mtls.mode, "STRICT");
    assert.equal(pa.spec.selector, undefined);
    const others = manifests(run, "PeerAuthentication").filter((p) => p.metadata.name !== "default");
    // Port-level only: the load tester's webhook port for Flagger, AMQP for KEDA (both without sidecars).
    assert.deepEqual(
      others.map((p) => [
        p.metadata.namespace,
        p.spec.selector.matchLabels,
        p.spec.portLevelMtls,
        p.spec.mtls,
      ]),
      [
        [NAMESPACES.flagger, { app: "loadtester" }, { "8080": { mode: "PERMISSIVE" } }, undefined],
        [
          NAMESPACES.rabbitmq,
          { "app.kubernetes.io/name": "workflow-queue" },
          { "5672": { mode: "PERMISSIVE" } },
          undefined,
        ],
      ],
    );
    for (const p of others) assert.ok(p.metadata.annotations["aiwp.io/mtls-exception-reason"].length >= 10);
  });

  it("a permissive exception that names no workload of the wiring table is an error naming the key", async () => {
    await assert.rejects(
      renderWith("staging", (c) => {
        c["aiwp-estate:mesh"] = {
          ...(c["aiwp-estate:mesh"] ?? {}),
          permissiveExceptions: [
            {
              namespace: "ai-workflow-staging",
              workload: "legacy-probe",
              reason: "scraped by an external probe",
            },
          ],
        };
      }),
      /mesh\.permissiveExceptions\[0\]: no workload ai-workflow-staging\/legacy-probe/,
    );
  });

  it("without the load tester's exception the stack is refused before anything is declared, naming the flow", async () => {
    await assert.rejects(
      renderWith("prod", (c) => {
        c["aiwp-estate:mesh"] = { ...(c["aiwp-estate:mesh"] ?? {}), permissiveExceptions: [] };
      }),
      /wiring required flow "flagger-to-loadtester".*permissiveExceptions/,
    );
  });

  it("the Private Link Service is visible only to the stack's own subscription, where Front Door lives", async () => {
    const a = (await release("prod", RELEASES.gateway)).values.service.annotations;
    assert.equal(a["service.beta.kubernetes.io/azure-pls-visibility"], MOCK_SUBSCRIPTION);
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

  it("RabbitMQ denies mesh identities of other namespaces; on AMQP only identified ones, so KEDA's plain text passes", async () => {
    const p = manifest(
      await rendered("prod"),
      "AuthorizationPolicy",
      "deny-other-namespaces",
      NAMESPACES.rabbitmq,
    ).spec;
    assert.equal(p.action, "DENY");
    const allowed = [
      "ai-workflow-prod",
      NAMESPACES.monitoring,
      NAMESPACES.rabbitmq,
      NAMESPACES.rabbitmqOperator,
    ];
    assert.deepEqual(p.rules, [
      { from: [{ source: { notNamespaces: allowed } }], to: [{ operation: { notPorts: ["5672"] } }] },
      {
        from: [{ source: { principals: ["*"], notNamespaces: allowed } }],
        to: [{ operation: { ports: ["5672"] } }],
      },
    ]);
  });
});
