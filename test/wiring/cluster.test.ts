import assert from "node:assert/strict";
import { clusterWiring, validateClusterWiring, type ClusterWiring } from "../../lib/wiring/cluster";
import {
  describeFailures,
  evaluateFlow,
  podsOf,
  selectorMatches,
  truthTable,
  verifyCluster,
} from "../../lib/wiring/verify";
import { readStackConfig } from "../../tools/harness";
import { STACKS } from "../support/estate";
import { clusterObjects, requireCharts, type ClusterObject } from "../support/cluster";

const wiringOf = (stack: (typeof STACKS)[number]) => clusterWiring(readStackConfig(stack).settings);

/** The verdict of one flow of the stack's table over its full object set. */
async function verdict(stack: (typeof STACKS)[number], id: string, objects?: ClusterObject[]) {
  const wiring = wiringOf(stack);
  const flow = [...wiring.table.required, ...wiring.table.forbidden].find((f) => f.id === id);
  assert.ok(flow, `flow ${id} is in the ${stack} table`);
  const kind = wiring.table.required.includes(flow) ? "required" : "forbidden";
  return evaluateFlow(objects ?? (await clusterObjects(stack)), flow, wiring.workloads, kind);
}

describe("wiring: the cluster's table verified over the estate as it runs", function () {
  this.timeout(600_000);

  for (const stack of STACKS) {
    it(`${stack}: nothing the table requires is blocked, nothing it forbids is allowed (program and chart objects)`, async function () {
      requireCharts(this);
      const objects = await clusterObjects(stack);
      assert.ok(
        objects.some((o) => o.source !== "program"),
        "the charts' objects are in the set",
      );
      const report = verifyCluster(objects, wiringOf(stack));
      assert.ok(report.verdicts.length > 50, `${report.verdicts.length} flows`);
      assert.ok(report.ok, describeFailures(report));
    });
  }

  it("Flagger and KEDA reach Prometheus on 9090 (every canary's metric checks, the request-rate trigger)", async function () {
    requireCharts(this);
    for (const id of ["flagger-to-prometheus", "keda-to-prometheus"]) {
      const v = await verdict("prod", id);
      assert.ok(v.ok && v.cases.length > 0, truthTable([v]));
      const ingress = v.cases[0].layers.find((l) => l.layer === "ingress")!;
      assert.match(ingress.decidedBy, /NetworkPolicy monitoring\/wiring-in-prometheus/);
    }
  });

  it("Flagger, which has no sidecar, reaches the meshed load tester under STRICT mTLS through the port-level exception", async function () {
    requireCharts(this);
    const v = await verdict("prod", "flagger-to-loadtester");
    assert.ok(v.ok, truthTable([v]));
    const mtls = v.cases[0].layers.find((l) => l.layer === "mtls")!;
    assert.match(
      mtls.decidedBy,
      /PeerAuthentication istio-system\/permissive-loadtester portLevelMtls 8080 \(PERMISSIVE, plain text\)/,
    );
  });

  it("KEDA reads the RabbitMQ queue: NetworkPolicy, mTLS and the deny-other-namespaces policy all let it through", async function () {
    requireCharts(this);
    const v = await verdict("prod", "keda-to-rabbitmq");
    assert.ok(v.ok, truthTable([v]));
    const layers = Object.fromEntries(v.cases[0].layers.map((l) => [l.layer, l.decidedBy]));
    assert.match(layers.ingress, /NetworkPolicy rabbitmq\/wiring-in-workflow-queue/);
    assert.match(layers.mtls, /permissive-workflow-queue portLevelMtls 5672/);
    // deny-other-namespaces applies (it selects every RabbitMQ pod) but denies only identified peers on AMQP.
    assert.deepEqual(Object.keys(layers).sort(), ["authz", "egress", "ingress", "mtls"]);
    assert.match(layers.authz, /no AuthorizationPolicy denies it/);
  });

  it("the API server reaches the Prometheus Operator's admission webhook (10250)", async function () {
    requireCharts(this);
    const v = await verdict("prod", "apiserver-to-prometheus-operator-webhook");
    assert.ok(v.ok, truthTable([v]));
    assert.ok(v.cases.every((c) => c.to.includes("kps-operator")));
  });

  for (const stack of STACKS) {
    it(`${stack}: every admission webhook the charts render has its API-server flow in the table`, async function () {
      requireCharts(this);
      const objects = await clusterObjects(stack);
      const wiring = wiringOf(stack);
      const pods = podsOf(objects);
      const fromApiServer = wiring.table.required.filter(
        (f) => "address" in f.from && f.from.address === "kube-apiserver",
      );
      const hooks = objects.flatMap((o) =>
        /^(Validating|Mutating)WebhookConfiguration$/.test(o.manifest.kind)
          ? (o.manifest.webhooks ?? [])
              .filter((h: any) => h.clientConfig?.service)
              .map((h: any) => ({ config: o.manifest.metadata.name, ...h.clientConfig.service }))
          : [],
      );
      assert.ok(hooks.length >= 5, `${hooks.length} webhooks`);
      const uncovered: string[] = [];
      for (const hook of hooks) {
        const svc = objects.find(
          (o) =>
            o.manifest.kind === "Service" &&
            o.manifest.metadata.name === hook.name &&
            o.manifest.metadata.namespace === hook.namespace,
        )?.manifest;
        assert.ok(svc, `Service ${hook.namespace}/${hook.name} of webhook ${hook.config}`);
        const servicePort = svc.spec.ports.find((p: any) => p.port === (hook.port ?? 443));
        const backing = pods.filter(
          (p) =>
            p.namespace === hook.namespace && selectorMatches({ matchLabels: svc.spec.selector }, p.labels),
        );
        assert.ok(backing.length > 0, `pods behind ${hook.namespace}/${hook.name}`);
        const target = (pod: (typeof backing)[number]) =>
          typeof servicePort.targetPort === "number"
            ? servicePort.targetPort
            : (pod.ports.find((c) => c.name === servicePort.targetPort)?.port ?? servicePort.port);
        const covered = fromApiServer.some((f) => {
          if (!("workload" in f.to)) return false;
          const wl = wiring.workloads[f.to.workload];
          return backing.some(
            (pod) =>
              pod.namespace === wl.namespace &&
              selectorMatches({ matchLabels: { ...wl.labels } }, pod.labels) &&
              f.ports !== "any" &&
              f.ports.includes(target(pod)),
          );
        });
        if (!covered) uncovered.push(`${hook.config} -> ${hook.namespace}/${hook.name}:${hook.port ?? 443}`);
      }
      assert.deepEqual([...new Set(uncovered)], []);
    });
  }

  it("a chart object that cuts a required flow is reported, naming the object that decides", async function () {
    requireCharts(this);
    const objects = [
      ...(await clusterObjects("prod")),
      {
        source: "chart:flagger",
        manifest: {
          apiVersion: "networking.k8s.io/v1",
          kind: "NetworkPolicy",
          metadata: { name: "flagger-egress-lockdown", namespace: "istio-system" },
          spec: {
            podSelector: { matchLabels: { "app.kubernetes.io/name": "flagger" } },
            policyTypes: ["Egress"],
            egress: [{ ports: [{ port: 443, protocol: "TCP" }] }],
          },
        },
      },
    ];
    const v = await verdict("prod", "flagger-to-prometheus", objects);
    assert.equal(v.ok, false);
    assert.match(
      v.cases[0].layers.find((l) => l.layer === "egress")!.decidedBy,
      /NetworkPolicy istio-system\/flagger-egress-lockdown/,
    );
    assert.match(truthTable([v]), /flagger-to-prometheus .* blocked \(required, WRONG\)/);
  });

  it("only agent-service may execute on code-execution-service: every other caller is blocked", async function () {
    requireCharts(this);
    const wiring = wiringOf("prod");
    const ids = wiring.table.forbidden.filter((f) => f.id.includes("code-execution")).map((f) => f.id);
    assert.ok(ids.includes("api-gateway-must-not-call-code-execution-service"));
    assert.ok(ids.includes("loadtester-must-not-execute-on-code-execution-service"));
    for (const id of ids) {
      const v = await verdict("prod", id);
      assert.ok(v.ok, truthTable([v]));
    }
    assert.ok((await verdict("prod", "agent-service-to-code-execution-service")).ok);
  });
});

describe("wiring: bad tables are refused naming the entry", () => {
  const base = () => wiringOf("dev");
  const withFlow = (
    w: ClusterWiring,
    edit: (w: { required: any[]; forbidden: any[] }) => void,
  ): ClusterWiring => {
    const table = { required: [...w.table.required], forbidden: [...w.table.forbidden] };
    edit(table);
    return { ...w, table };
  };

  it("a flow that names an unknown workload", () => {
    const w = withFlow(base(), (t) =>
      t.required.push({
        id: "to-nowhere",
        from: { workload: "flagger" },
        to: { workload: "grafana-agent" },
        ports: [80],
        protocol: "TCP",
        why: "x",
      }),
    );
    assert.throws(
      () => validateClusterWiring(w),
      /wiring required flow "to-nowhere": to names unknown workload "grafana-agent"/,
    );
  });

  it("a flow that names a port the workload does not serve", () => {
    const w = withFlow(base(), (t) =>
      t.required.push({
        id: "wrong-port",
        from: { workload: "grafana" },
        to: { workload: "prometheus" },
        ports: [9091],
        protocol: "TCP",
        why: "x",
      }),
    );
    assert.throws(
      () => validateClusterWiring(w),
      /wiring required flow "wrong-port": prometheus has no port 9091 \(ports: /,
    );
  });

  it("a forbidden flow that the required table also lists", () => {
    const w = withFlow(base(), (t) =>
      t.forbidden.push({
        id: "no-dashboards",
        from: { workload: "grafana" },
        to: { workload: "prometheus" },
        ports: [9090],
        protocol: "TCP",
        why: "x",
      }),
    );
    assert.throws(
      () => validateClusterWiring(w),
      /wiring forbidden flow "no-dashboards" is also required as "grafana-to-prometheus"/,
    );
  });

  it("a forbidden flow from a workload inside a namespace the required table admits as a whole", () => {
    const w = withFlow(base(), (t) =>
      t.forbidden.push({
        id: "gateway-service-off-the-queue",
        from: { workload: "service:api-gateway" },
        to: { workload: "workflow-queue" },
        ports: [5672],
        protocol: "TCP",
        why: "x",
      }),
    );
    assert.throws(
      () => validateClusterWiring(w),
      /wiring forbidden flow "gateway-service-off-the-queue" is also required as "app-to-rabbitmq"/,
    );
  });

  it("a duplicate flow id", () => {
    const w = withFlow(base(), (t) => t.required.push({ ...t.required[0] }));
    assert.throws(() => validateClusterWiring(w), /the id is used twice/);
  });

  it("a client without a sidecar to a STRICT port with no exception", () => {
    const w = { ...base(), permissive: [] };
    assert.throws(
      () => validateClusterWiring(w),
      /wiring required flow "flagger-to-loadtester": the client has no sidecar/,
    );
  });
});
