import assert from "node:assert/strict";
import { ofType, rendered } from "../support/estate";
import { LOADTESTER_URL, NAMESPACES, PROMETHEUS_URL, RELEASES } from "../../lib/names";

const release = async (stack: "prod" | "dev", name: string) =>
  ofType(await rendered(stack), "kubernetes:helm.sh/v3:Release").find((r) => r.inputs.name === name)!
    .inputs as Record<string, any>;

describe("delivery", () => {
  it("Flagger uses Istio and the estate's Prometheus, with leader election and 2 replicas in prod", async () => {
    const f = await release("prod", RELEASES.flagger);
    assert.equal(f.namespace, NAMESPACES.flagger);
    assert.equal(f.values.meshProvider, "istio");
    assert.equal(f.values.metricsServer, PROMETHEUS_URL);
    assert.deepEqual(f.values.leaderElection, { enabled: true, replicaCount: 2 });
    assert.doesNotMatch(JSON.stringify(f.values), /hooks\.slack|slack/);
    assert.equal((await release("dev", RELEASES.flagger)).values.leaderElection.enabled, false);
  });

  it("the load tester's release name and namespace make LOADTESTER_URL right", async () => {
    const l = await release("prod", RELEASES.loadtester);
    assert.equal(LOADTESTER_URL, `http://${l.name}.${l.namespace}/`);
  });
});
