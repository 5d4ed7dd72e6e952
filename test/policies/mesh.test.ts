import { istioMutualTls } from "../../policies/mesh/istioMutualTls";
import { mtlsStrict } from "../../policies/mesh/mtlsStrict";
import { permissiveException } from "../../policies/mesh/permissiveException";
import { assertCompliant, assertViolates, mutate, resource } from "./support";

const PA = "kubernetes:security.istio.io/v1:PeerAuthentication";
const meshWide = {
  apiVersion: "security.istio.io/v1",
  kind: "PeerAuthentication",
  metadata: { name: "default", namespace: "istio-system" },
  spec: { mtls: { mode: "STRICT" } },
};
const workloadPa = {
  metadata: { name: "legacy", namespace: "ai-workflow-prod" },
  spec: { selector: { matchLabels: { app: "legacy-importer" } }, mtls: { mode: "STRICT" } },
};
const EXCEPTION = {
  namespace: "ai-workflow-prod",
  workload: "legacy-importer",
  reason: "scraped by a non-mesh appliance until Q3",
};

describe("policies/mesh", () => {
  it("mesh-mtls-strict: a mesh-wide STRICT policy passes; PERMISSIVE mesh-wide or none fails", async () => {
    await assertCompliant(mtlsStrict, [resource(PA, meshWide)]);
    await assertViolates(
      mtlsStrict,
      [resource(PA, mutate(meshWide, "spec.mtls.mode", "PERMISSIVE"))],
      /no mesh-wide PeerAuthentication/,
    );
    await assertViolates(mtlsStrict, [], /no mesh-wide/);
    // STRICT in another namespace is not mesh-wide.
    await assertViolates(
      mtlsStrict,
      [resource(PA, mutate(meshWide, "metadata.namespace", "default"))],
      /no mesh-wide/,
    );
  });

  it("mesh-mtls-strict: a workload policy that disables mTLS on a port fails", async () => {
    const disabled = mutate(workloadPa, "spec.portLevelMtls", { "9090": { mode: "DISABLE" } });
    await assertViolates(
      mtlsStrict,
      [resource(PA, meshWide), resource(PA, disabled, "legacy")],
      /disables mTLS/,
    );
  });

  it("mesh-permissive-exception: STRICT passes; PERMISSIVE fails unless the workload is a named exception with a reason", async () => {
    const permissive = mutate(workloadPa, "spec.mtls.mode", "PERMISSIVE");
    await assertCompliant(permissiveException, [resource(PA, workloadPa)]);
    await assertViolates(
      permissiveException,
      [resource(PA, permissive)],
      /ai-workflow-prod\/legacy-importer has no exception/,
    );
    await assertCompliant(permissiveException, [resource(PA, permissive)], {
      permissiveExceptions: [EXCEPTION],
    });
    // An exception for another workload does not cover a namespace-wide PERMISSIVE.
    await assertViolates(
      permissiveException,
      [resource(PA, mutate(permissive, "spec.selector", undefined))],
      /ai-workflow-prod\/\*/,
      {
        permissiveExceptions: [EXCEPTION],
      },
    );
  });

  it("mesh-istio-mutual-tls: ISTIO_MUTUAL passes; DISABLE towards an in-mesh host or a Canary without it fails", async () => {
    const DR = "kubernetes:networking.istio.io/v1:DestinationRule";
    const dr = {
      spec: {
        host: "auth-service.ai-workflow-prod.svc.cluster.local",
        trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } },
      },
    };
    await assertCompliant(istioMutualTls, [resource(DR, dr)]);
    await assertViolates(
      istioMutualTls,
      [resource(DR, mutate(dr, "spec.trafficPolicy.tls.mode", "DISABLE"))],
      /DISABLE towards in-mesh host/,
    );
    // External hosts originate their own TLS.
    await assertCompliant(istioMutualTls, [
      resource(
        DR,
        mutate(mutate(dr, "spec.host", "api.openai.com"), "spec.trafficPolicy.tls.mode", "SIMPLE"),
      ),
    ]);
    const CANARY = "kubernetes:flagger.app/v1beta1:Canary";
    const canary = { spec: { service: { port: 8080, trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } } } };
    await assertCompliant(istioMutualTls, [resource(CANARY, canary)]);
    await assertViolates(
      istioMutualTls,
      [resource(CANARY, mutate(canary, "spec.service.trafficPolicy", undefined))],
      /ISTIO_MUTUAL/,
    );
  });
});
