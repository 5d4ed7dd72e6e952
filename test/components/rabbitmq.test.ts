import assert from "node:assert/strict";
import { manifest, rendered } from "../support/estate";
import { MONITORING_SELECTOR, NAMESPACES } from "../../lib/names";
import { RABBITMQ_CLUSTER } from "../../components/rabbitmq";

describe("rabbitmq", () => {
  it("prod runs 3 replicas spread across zones, with persistent storage", async () => {
    const spec = manifest(
      await rendered("prod"),
      "RabbitmqCluster",
      RABBITMQ_CLUSTER,
      NAMESPACES.rabbitmq,
    ).spec;
    assert.equal(spec.replicas, 3);
    assert.equal(spec.persistence.storage, "50Gi");
    const term =
      spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    assert.equal(term.topologyKey, "topology.kubernetes.io/zone");
  });

  it("its Prometheus endpoint is scraped by a ServiceMonitor the estate's Prometheus selects", async () => {
    const sm = manifest(await rendered("prod"), "ServiceMonitor", RABBITMQ_CLUSTER, NAMESPACES.rabbitmq);
    assert.deepEqual(sm.metadata.labels, MONITORING_SELECTOR);
    assert.equal(sm.spec.endpoints[0].port, "prometheus");
  });
});
