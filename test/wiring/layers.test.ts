import assert from "node:assert/strict";
import type { ClusterFlow, ClusterWiring, Workload } from "../../lib/wiring/cluster";
import {
  authorizationRules,
  dataNamespaceDenyRules,
  networkPolicies,
  permissivePeerAuthentications,
} from "../../lib/wiring/layers";

const workloads: Record<string, Workload> = {
  keda: {
    namespace: "kube-system",
    labels: { app: "keda-operator" },
    serviceAccount: "keda-operator",
    sidecar: false,
    ports: {},
  },
  queue: {
    namespace: "rabbitmq",
    labels: { "app.kubernetes.io/name": "workflow-queue" },
    serviceAccount: "workflow-queue-server",
    sidecar: true,
    ports: { amqp: 5672, management: 15672 },
  },
  "service:api": {
    namespace: "app",
    labels: { "aiwp.io/service": "api" },
    serviceAccount: "api",
    sidecar: true,
    ports: { http: 8080 },
  },
};
const flow = (over: Partial<ClusterFlow>): ClusterFlow => ({
  id: "f",
  from: { workload: "keda" },
  to: { workload: "queue" },
  ports: [5672],
  protocol: "TCP",
  why: "test",
  ...over,
});
const wiring = (required: ClusterFlow[], permissive: ClusterWiring["permissive"] = []): ClusterWiring => ({
  workloads,
  table: { required, forbidden: [] },
  injectedNamespaces: ["rabbitmq", "app"],
  egressDenied: ["app", "rabbitmq"],
  permissive,
});

describe("wiring layers: what the table derives", () => {
  it("an ingress rule at the destination, from the source's namespace and pod labels, on the flow's ports", () => {
    const [policy] = networkPolicies(wiring([flow({ id: "keda-to-queue" })]), ["rabbitmq"]);
    assert.equal(policy.namespace, "rabbitmq");
    assert.equal(policy.name, "wiring-in-queue");
    assert.deepEqual(policy.flows, ["keda-to-queue"]);
    assert.deepEqual(policy.spec, {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "workflow-queue" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { app: "keda-operator" } },
            },
          ],
          ports: [{ protocol: "TCP", port: 5672 }],
        },
      ],
    });
  });

  it("an egress rule only where the source's namespace denies egress; none for namespaces outside the estate", () => {
    const out = networkPolicies(wiring([flow({ id: "api-to-queue", from: { workload: "service:api" } })]), [
      "rabbitmq",
      "app",
    ]);
    assert.deepEqual(out.map((p) => `${p.namespace}/${p.name}`).sort(), [
      "app/wiring-out-service-api",
      "rabbitmq/wiring-in-queue",
    ]);
    assert.equal(
      networkPolicies(wiring([flow({ to: { workload: "keda" }, ports: [8080] })]), ["rabbitmq"]).length,
      0,
    );
  });

  it("a source without an address (the API server) gets a rule without peers; a CIDR an ipBlock; Any both protocols", () => {
    const [api] = networkPolicies(wiring([flow({ from: { address: "kube-apiserver" } })]), ["rabbitmq"]);
    assert.deepEqual(api.spec.ingress, [{ ports: [{ protocol: "TCP", port: 5672 }] }]);
    const [cidr] = networkPolicies(
      wiring([
        flow({
          from: { address: "front-door", cidr: "10.0.2.0/24", except: ["10.0.2.0/28"] },
          protocol: "Any",
        }),
      ]),
      ["rabbitmq"],
    );
    assert.deepEqual(cidr.spec.ingress, [
      {
        from: [{ ipBlock: { cidr: "10.0.2.0/24", except: ["10.0.2.0/28"] } }],
        ports: [
          { protocol: "UDP", port: 5672 },
          { protocol: "TCP", port: 5672 },
        ],
      },
    ]);
  });

  it("a permissive exception with a port is port-level PERMISSIVE on the workload's pods; without one, the workload's mode", () => {
    const base = {
      workload: "queue",
      namespace: "rabbitmq",
      labels: { "app.kubernetes.io/name": "workflow-queue" },
      reason: "KEDA reads the queue",
    };
    const [portLevel, whole] = permissivePeerAuthentications(wiring([], [{ ...base, port: 5672 }, base]));
    assert.deepEqual(portLevel.spec, {
      selector: { matchLabels: { "app.kubernetes.io/name": "workflow-queue" } },
      portLevelMtls: { "5672": { mode: "PERMISSIVE" } },
    });
    assert.deepEqual(whole.spec.mtls, { mode: "PERMISSIVE" });
  });

  it("one ALLOW rule per flow: the client's principal (or namespace) and the granted operations", () => {
    const rules = authorizationRules(
      [
        flow({
          from: { workload: "service:api" },
          to: { workload: "queue" },
          allow: [{ methods: ["GET"], paths: ["/api/*"] }],
        }),
        flow({ from: { namespace: "app" }, to: { workload: "queue" } }),
        flow({ from: { workload: "service:caller" }, to: { workload: "queue" } }),
        flow({ from: { address: "front-door", cidr: "10.0.2.0/24" }, to: { workload: "queue" } }),
      ],
      workloads,
      "app",
    );
    assert.deepEqual(rules, [
      {
        from: [{ source: { principals: ["cluster.local/ns/app/sa/api"] } }],
        to: [{ operation: { methods: ["GET"], paths: ["/api/*"] } }],
      },
      { from: [{ source: { namespaces: ["app"] } }] },
      { from: [{ source: { principals: ["cluster.local/ns/app/sa/caller"] } }] },
    ]);
  });

  it("the data namespace's DENY: mesh identities from namespaces no flow brings; on plain-text ports only identified peers", () => {
    const flows = [flow({ from: { workload: "service:api" } }), flow({ id: "keda" })];
    assert.deepEqual(dataNamespaceDenyRules(wiring(flows), "rabbitmq"), [
      { from: [{ source: { notNamespaces: ["app", "rabbitmq"] } }] },
    ]);
    const exception = {
      workload: "queue",
      namespace: "rabbitmq",
      labels: {},
      port: 5672,
      reason: "KEDA reads the queue",
    };
    assert.deepEqual(dataNamespaceDenyRules(wiring(flows, [exception]), "rabbitmq"), [
      {
        from: [{ source: { notNamespaces: ["app", "rabbitmq"] } }],
        to: [{ operation: { notPorts: ["5672"] } }],
      },
      {
        from: [{ source: { principals: ["*"], notNamespaces: ["app", "rabbitmq"] } }],
        to: [{ operation: { ports: ["5672"] } }],
      },
    ]);
  });
});
