import assert from "node:assert/strict";
import { STACKS, manifests, rendered } from "./support/estate";
import { loadValidators, needsCrds, requireCrds, validateManifest } from "./support/schemas";

describe("every rendered Kubernetes object validates against its upstream schema", function () {
  for (const stack of STACKS) {
    it(`${stack}: core, Istio, KEDA, prometheus-operator, VPA, cert-manager and RabbitMQ objects are valid`, async () => {
      const objects = manifests(await rendered(stack)).filter((m) => !needsCrds(m));
      assert.ok(objects.length > 20, `${stack} renders Kubernetes objects`);
      await loadValidators(objects);
      assert.deepEqual(objects.flatMap(validateManifest), []);
    });

    it(`${stack}: Flagger and Velero objects are valid against the upstream CRDs`, async function () {
      requireCrds(this);
      const objects = manifests(await rendered(stack)).filter(needsCrds);
      assert.ok(
        objects.some((m) => m.kind === "Schedule"),
        `${stack} declares Velero Schedules`,
      );
      await loadValidators(objects);
      assert.deepEqual(objects.flatMap(validateManifest), []);
    });
  }

  it("an object of an unknown kind fails instead of passing silently", async () => {
    const unknown = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } };
    await loadValidators([unknown]);
    assert.match(validateManifest(unknown).join("\n"), /no schema known/);
  });

  it("a schema violation is reported", async () => {
    const bad = {
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "x" },
      spec: { mtls: { mode: "STRICTEST" } },
    };
    await loadValidators([bad]);
    assert.notDeepEqual(validateManifest(bad), []);
  });
});
