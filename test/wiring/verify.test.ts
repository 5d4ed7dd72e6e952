/**
 * The verifier's rules, each with the smallest object set that allows and the smallest that blocks. Labels,
 * ports and selectors are the shapes upstream renders: Kubernetes' own namespace label, istiod 1.29's injector
 * webhooks, Istio's port and annotation names.
 */
import assert from "node:assert/strict";
import type { ClusterFlow, Workload } from "../../lib/wiring/cluster";
import {
  evaluateFlow,
  podsOf,
  sidecarOf,
  truthTable,
  verifyCluster,
  type ClusterObject,
  type Layer,
} from "../../lib/wiring/verify";

const obj = (manifest: any): ClusterObject => ({ source: "fixture", manifest });
const namespace = (name: string, labels: Record<string, string> = {}) =>
  obj({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } });
const deployment = (
  ns: string,
  name: string,
  labels: Record<string, string>,
  opts: {
    ports?: { name: string; containerPort: number; protocol?: string }[];
    annotations?: Record<string, string>;
    hostNetwork?: boolean;
    sa?: string;
  } = {},
) =>
  obj({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns },
    spec: {
      template: {
        metadata: { labels, annotations: opts.annotations ?? {} },
        spec: {
          serviceAccountName: opts.sa ?? name,
          hostNetwork: opts.hostNetwork,
          containers: [{ name, ports: opts.ports ?? [{ name: "http", containerPort: 8080 }] }],
        },
      },
    },
  });
const policy = (kind: string, ns: string, name: string, spec: any) =>
  obj({
    apiVersion: kind === "NetworkPolicy" ? "networking.k8s.io/v1" : "security.istio.io/v1",
    kind,
    metadata: { name, namespace: ns },
    spec,
  });
const np = (ns: string, name: string, spec: any) => policy("NetworkPolicy", ns, name, spec);
const pa = (ns: string, name: string, spec: any) => policy("PeerAuthentication", ns, name, spec);
const ap = (ns: string, name: string, spec: any) => policy("AuthorizationPolicy", ns, name, spec);
const denyAll = (ns: string, types = ["Ingress"]) =>
  np(ns, "default-deny", { podSelector: {}, policyTypes: types });
const allowIngress = (ns: string, rule: any, podSelector: any = {}) =>
  np(ns, "allow", { podSelector, policyTypes: ["Ingress"], ingress: [rule] });

const W: Record<string, Workload> = {
  client: {
    namespace: "a",
    labels: { app: "client" },
    serviceAccount: "client",
    sidecar: false,
    ports: { http: 8080 },
  },
  server: {
    namespace: "b",
    labels: { app: "server" },
    serviceAccount: "server",
    sidecar: false,
    ports: { http: 8080 },
  },
};
const meshW: Record<string, Workload> = {
  client: { ...W.client, sidecar: true },
  server: { ...W.server, sidecar: true },
};
/** Client in namespace a, server in namespace b, both plain Deployments (no mesh). */
const plain = () => [
  namespace("a"),
  namespace("b"),
  deployment("a", "client", { app: "client" }),
  deployment("b", "server", { app: "server" }),
];
/** The same two, injected through their namespaces' istio-injection label. */
const meshed = () => [
  namespace("a", { "istio-injection": "enabled" }),
  namespace("b", { "istio-injection": "enabled" }),
  deployment("a", "client", { app: "client" }),
  deployment("b", "server", { app: "server" }),
];

const flow = (over: Partial<ClusterFlow> = {}): ClusterFlow => ({
  id: "client-to-server",
  from: { workload: "client" },
  to: { workload: "server" },
  ports: [8080],
  protocol: "TCP",
  why: "test",
  ...over,
});

function decide(
  objects: ClusterObject[],
  f = flow(),
  workloads = W,
  kind: "required" | "forbidden" = "required",
) {
  const v = evaluateFlow(objects, f, workloads, kind);
  assert.equal(v.error, undefined, v.error);
  assert.equal(v.cases.length, 1, truthTable([v]));
  return v.cases[0];
}
const layer = (c: ReturnType<typeof decide>, l: Layer) => c.layers.find((d) => d.layer === l);
const allows = (objects: ClusterObject[], f?: ClusterFlow, w?: Record<string, Workload>) =>
  assert.ok(decide(objects, f, w).allowed, truthTable([evaluateFlow(objects, f ?? flow(), w ?? W)]));
const blocks = (objects: ClusterObject[], f?: ClusterFlow, w?: Record<string, Workload>) =>
  assert.ok(!decide(objects, f, w).allowed, truthTable([evaluateFlow(objects, f ?? flow(), w ?? W)]));

describe("wiring verifier: NetworkPolicy", () => {
  it("a pod no policy selects is open; a default deny selecting it blocks ingress", () => {
    allows(plain());
    const c = decide([...plain(), denyAll("b")]);
    assert.equal(c.allowed, false);
    assert.match(layer(c, "ingress")!.decidedBy, /NetworkPolicy b\/default-deny/);
  });

  it("ingress is checked at the destination only: a deny in the source's namespace of type Ingress changes nothing", () => {
    allows([...plain(), denyAll("a")]);
  });

  it("egress is checked at the source: an Egress deny there blocks; a rule to the destination's namespace allows", () => {
    blocks([...plain(), denyAll("a", ["Egress"])]);
    allows([
      ...plain(),
      denyAll("a", ["Egress"]),
      np("a", "out", {
        podSelector: { matchLabels: { app: "client" } },
        policyTypes: ["Egress"],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "b" } } }] }],
      }),
    ]);
  });

  it("podSelector alone means the policy's own namespace", () => {
    blocks([
      ...plain(),
      denyAll("b"),
      allowIngress("b", { from: [{ podSelector: { matchLabels: { app: "client" } } }] }),
    ]);
    const sameNs = [
      namespace("b"),
      deployment("b", "client", { app: "client" }),
      deployment("b", "server", { app: "server" }),
    ];
    allows(
      [
        ...sameNs,
        denyAll("b"),
        allowIngress("b", { from: [{ podSelector: { matchLabels: { app: "client" } } }] }),
      ],
      flow(),
      { ...W, client: { ...W.client, namespace: "b" } },
    );
  });

  it("namespaceSelector alone admits every pod of the namespaces Kubernetes labels kubernetes.io/metadata.name", () => {
    const rule = (ns: string) => ({
      from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } }],
    });
    allows([...plain(), denyAll("b"), allowIngress("b", rule("a"))]);
    blocks([...plain(), denyAll("b"), allowIngress("b", rule("c"))]);
  });

  it("namespaceSelector with podSelector in one peer is their intersection", () => {
    const peer = (app: string) => ({
      from: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "a" } },
          podSelector: { matchLabels: { app } },
        },
      ],
    });
    allows([...plain(), denyAll("b"), allowIngress("b", peer("client"))]);
    blocks([...plain(), denyAll("b"), allowIngress("b", peer("other"))]);
  });

  it("matchExpressions select like label selectors (In, NotIn, Exists, DoesNotExist)", () => {
    const expr = (e: any) =>
      allowIngress("b", { from: [{ namespaceSelector: {}, podSelector: { matchExpressions: [e] } }] });
    allows([...plain(), denyAll("b"), expr({ key: "app", operator: "In", values: ["client"] })]);
    blocks([...plain(), denyAll("b"), expr({ key: "app", operator: "NotIn", values: ["client"] })]);
    allows([...plain(), denyAll("b"), expr({ key: "app", operator: "Exists" })]);
    blocks([...plain(), denyAll("b"), expr({ key: "app", operator: "DoesNotExist" })]);
  });

  it("ipBlock admits an address inside its cidr and not inside an except", () => {
    const f = flow({ from: { address: "front-door", cidr: "10.0.2.0/24" } });
    const block = (except?: string[]) =>
      allowIngress("b", { from: [{ ipBlock: { cidr: "10.0.0.0/16", ...(except ? { except } : {}) } }] });
    allows([...plain(), denyAll("b"), block()], f);
    blocks([...plain(), denyAll("b"), block(["10.0.2.0/24"])], f);
    blocks(
      [...plain(), denyAll("b"), allowIngress("b", { from: [{ ipBlock: { cidr: "10.1.0.0/16" } }] })],
      f,
    );
  });

  it("ipBlock never selects a pod (Cilium: CIDR rules select only addresses outside the cluster)", () => {
    blocks([...plain(), denyAll("b"), allowIngress("b", { from: [{ ipBlock: { cidr: "0.0.0.0/0" } }] })]);
  });

  it("a source with no known address (the API server) passes only a rule without peers", () => {
    const f = flow({ from: { address: "kube-apiserver" } });
    allows([...plain(), denyAll("b"), allowIngress("b", { ports: [{ port: 8080 }] })], f);
    blocks(
      [
        ...plain(),
        denyAll("b"),
        allowIngress("b", { from: [{ namespaceSelector: {} }], ports: [{ port: 8080 }] }),
      ],
      f,
    );
  });

  it("ports match by number, by the destination container's port name, and by range with endPort", () => {
    const ports = (p: any[]) => allowIngress("b", { ports: p });
    allows([...plain(), denyAll("b"), ports([{ port: 8080 }])]);
    blocks([...plain(), denyAll("b"), ports([{ port: 9090 }])]);
    allows([...plain(), denyAll("b"), ports([{ port: "http" }])]);
    blocks([...plain(), denyAll("b"), ports([{ port: "metrics" }])]);
    allows([...plain(), denyAll("b"), ports([{ port: 8000, endPort: 8100 }])]);
    blocks([...plain(), denyAll("b"), ports([{ port: 8000, endPort: 8079 }])]);
  });

  it("protocol defaults to TCP: a UDP rule does not admit TCP", () => {
    allows([...plain(), denyAll("b"), allowIngress("b", { ports: [{ port: 8080 }] })]);
    blocks([...plain(), denyAll("b"), allowIngress("b", { ports: [{ port: 8080, protocol: "UDP" }] })]);
  });

  it("policyTypes: a policy with only Ingress rules does not restrict egress; one that lists Egress does", () => {
    allows([...plain(), np("a", "ingress-only", { podSelector: {}, ingress: [] })]);
    blocks([...plain(), np("a", "egress-too", { podSelector: {}, ingress: [], egress: [] })]);
  });

  it("a host-network destination is outside NetworkPolicy (node-exporter)", () => {
    const objects = [
      namespace("a"),
      namespace("b"),
      deployment("a", "client", { app: "client" }),
      deployment("b", "server", { app: "server" }, { hostNetwork: true }),
      denyAll("b"),
    ];
    allows(objects);
  });
});

describe("wiring verifier: sidecar injection (istiod 1.29 webhooks)", () => {
  const pod = (objects: ClusterObject[]) => podsOf(objects).find((p) => p.ref.includes("/server"))!;
  const sidecar = (objects: ClusterObject[]) => sidecarOf(objects, pod(objects)).allowed;

  it("namespace label istio-injection=enabled injects; the pod label sidecar.istio.io/inject=false opts out", () => {
    assert.equal(
      sidecar([
        namespace("b", { "istio-injection": "enabled" }),
        deployment("b", "server", { app: "server" }),
      ]),
      true,
    );
    assert.equal(
      sidecar([
        namespace("b", { "istio-injection": "enabled" }),
        deployment("b", "server", { app: "server", "sidecar.istio.io/inject": "false" }),
      ]),
      false,
    );
  });

  it("an unlabelled namespace injects only pods labelled sidecar.istio.io/inject=true", () => {
    assert.equal(sidecar([namespace("b"), deployment("b", "server", { app: "server" })]), false);
    assert.equal(
      sidecar([
        namespace("b"),
        deployment("b", "server", { app: "server", "sidecar.istio.io/inject": "true" }),
      ]),
      true,
    );
  });

  it("istio.io/rev=default on the namespace injects (revision webhook)", () => {
    assert.equal(
      sidecar([namespace("b", { "istio.io/rev": "default" }), deployment("b", "server", { app: "server" })]),
      true,
    );
  });

  it("host-network pods and kube-system are never injected", () => {
    assert.equal(
      sidecar([
        namespace("b", { "istio-injection": "enabled" }),
        deployment("b", "server", { app: "server" }, { hostNetwork: true }),
      ]),
      false,
    );
    assert.equal(
      sidecarOf([], {
        ...pod([namespace("b"), deployment("b", "server", { "sidecar.istio.io/inject": "true" })]),
        namespace: "kube-system",
      }).allowed,
      false,
    );
  });

  it("the webhooks the object set renders decide when present", () => {
    const hook = obj({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      metadata: { name: "istio-sidecar-injector" },
      webhooks: [
        {
          name: "namespace.sidecar-injector.istio.io",
          namespaceSelector: { matchLabels: { mesh: "on" } },
          objectSelector: {},
        },
      ],
    });
    assert.equal(
      sidecar([hook, namespace("b", { mesh: "on" }), deployment("b", "server", { app: "server" })]),
      true,
    );
    assert.equal(
      sidecar([
        hook,
        namespace("b", { "istio-injection": "enabled" }),
        deployment("b", "server", { app: "server" }),
      ]),
      false,
    );
  });

  it("verifyCluster reports a workload declared with a sidecar it does not get", () => {
    const report = verifyCluster(plain(), { workloads: meshW, table: { required: [], forbidden: [] } });
    assert.equal(report.ok, false);
    assert.match(
      report.mismatches.join("\n"),
      /client: declared with a sidecar, but Deployment a\/client gets none/,
    );
  });
});

describe("wiring verifier: PeerAuthentication", () => {
  const strict = pa("istio-system", "default", { mtls: { mode: "STRICT" } });

  it("mesh-wide STRICT refuses a client without a sidecar and admits a meshed one", () => {
    const plainClient = [
      namespace("a"),
      namespace("b", { "istio-injection": "enabled" }),
      deployment("a", "client", { app: "client" }),
      deployment("b", "server", { app: "server" }),
      strict,
    ];
    const c = decide(plainClient);
    assert.equal(c.allowed, false);
    assert.match(
      layer(c, "mtls")!.decidedBy,
      /PeerAuthentication istio-system\/default \(STRICT\): the client has no sidecar/,
    );
    allows([...meshed(), strict], flow(), meshW);
  });

  it("without any PeerAuthentication Istio accepts plain text (PERMISSIVE)", () => {
    const c = decide([
      namespace("a"),
      namespace("b", { "istio-injection": "enabled" }),
      deployment("a", "client", { app: "client" }),
      deployment("b", "server", { app: "server" }),
    ]);
    assert.equal(c.allowed, true);
    assert.match(layer(c, "mtls")!.decidedBy, /default \(PERMISSIVE\)/);
  });

  const plainToMeshed = () => [
    namespace("a"),
    namespace("b", { "istio-injection": "enabled" }),
    deployment("a", "client", { app: "client" }),
    deployment("b", "server", { app: "server" }),
    strict,
  ];

  it("a namespace-wide PeerAuthentication overrides the mesh's", () => {
    allows([...plainToMeshed(), pa("b", "ns", { mtls: { mode: "PERMISSIVE" } })]);
    blocks([...plainToMeshed(), pa("c", "ns", { mtls: { mode: "PERMISSIVE" } })]);
  });

  it("a workload selector applies to the pods it selects only", () => {
    allows([
      ...plainToMeshed(),
      pa("b", "w", { selector: { matchLabels: { app: "server" } }, mtls: { mode: "PERMISSIVE" } }),
    ]);
    blocks([
      ...plainToMeshed(),
      pa("b", "w", { selector: { matchLabels: { app: "other" } }, mtls: { mode: "PERMISSIVE" } }),
    ]);
  });

  it("portLevelMtls opens the named container port only", () => {
    const portLevel = pa("b", "w", {
      selector: { matchLabels: { app: "server" } },
      portLevelMtls: { "8080": { mode: "PERMISSIVE" } },
    });
    allows([...plainToMeshed(), portLevel]);
    const objects = [
      ...plainToMeshed().slice(0, 3),
      deployment(
        "b",
        "server",
        { app: "server" },
        {
          ports: [
            { name: "http", containerPort: 8080 },
            { name: "admin", containerPort: 9090 },
          ],
        },
      ),
      strict,
      portLevel,
    ];
    blocks(objects, flow({ ports: [9090] }), {
      ...W,
      server: { ...W.server, ports: { http: 8080, admin: 9090 } },
    });
  });

  it("a client sidecar that does not capture the port (excludeOutboundPorts) sends plain text, which STRICT refuses", () => {
    const client = (annotations: Record<string, string>) => [
      namespace("a", { "istio-injection": "enabled" }),
      namespace("b", { "istio-injection": "enabled" }),
      deployment("a", "client", { app: "client" }, { annotations }),
      deployment("b", "server", { app: "server" }),
      strict,
    ];
    allows(client({}), flow(), meshW);
    const c = decide(client({ "traffic.sidecar.istio.io/excludeOutboundPorts": "8080" }), flow(), meshW);
    assert.equal(c.allowed, false);
    assert.match(layer(c, "mtls")!.decidedBy, /does not capture its outbound traffic/);
  });

  it("ports outside the sidecar's capture bypass mTLS: excludeInboundPorts and the agent's 15020", () => {
    const excluded = [
      ...plainToMeshed().slice(0, 3),
      deployment(
        "b",
        "server",
        { app: "server" },
        { annotations: { "traffic.sidecar.istio.io/excludeInboundPorts": "8080" } },
      ),
      strict,
    ];
    const c = decide(excluded);
    assert.equal(c.allowed, true);
    assert.equal(layer(c, "mtls"), undefined);
    allows(plainToMeshed(), flow({ ports: [15020] }));
  });
});

describe("wiring verifier: AuthorizationPolicy", () => {
  const strict = pa("istio-system", "default", { mtls: { mode: "STRICT" } });
  const mesh = () => [...meshed(), strict];
  const principal = "cluster.local/ns/a/sa/client";
  const allowRule = (rule: any) =>
    ap("b", "allow", { selector: { matchLabels: { app: "server" } }, action: "ALLOW", rules: [rule] });
  const http = flow({ request: { method: "GET", path: "/metrics" } });

  it("no policy: allowed; an ALLOW policy that matches the client's principal allows", () => {
    allows(mesh(), http, meshW);
    allows([...mesh(), allowRule({ from: [{ source: { principals: [principal] } }] })], http, meshW);
  });

  it("a workload with any ALLOW policy denies what no rule matches", () => {
    const c = decide(
      [...mesh(), allowRule({ from: [{ source: { principals: ["cluster.local/ns/a/sa/other"] } }] })],
      http,
      meshW,
    );
    assert.equal(c.allowed, false);
    assert.match(layer(c, "authz")!.decidedBy, /AuthorizationPolicy b\/allow: no ALLOW rule matches/);
  });

  it("DENY is evaluated before ALLOW", () => {
    blocks(
      [
        ...mesh(),
        allowRule({ from: [{ source: { principals: [principal] } }] }),
        ap("b", "deny", { action: "DENY", rules: [{ from: [{ source: { namespaces: ["a"] } }] }] }),
      ],
      http,
      meshW,
    );
  });

  it("CUSTOM comes first and is not evaluated: a required flow it may refuse counts as blocked", () => {
    const c = decide(
      [...mesh(), ap("b", "ext", { action: "CUSTOM", provider: { name: "opa" }, rules: [{}] })],
      http,
      meshW,
    );
    assert.equal(c.allowed, false);
    assert.match(layer(c, "authz")!.decidedBy, /CUSTOM .*external authorizer/);
  });

  it("principals need mTLS: a plain-text client (PERMISSIVE server) matches no principal", () => {
    const objects = [
      namespace("a"),
      namespace("b", { "istio-injection": "enabled" }),
      deployment("a", "client", { app: "client" }),
      deployment("b", "server", { app: "server" }),
      allowRule({ from: [{ source: { principals: [principal] } }] }),
    ];
    blocks(objects, http, { ...W, server: meshW.server });
  });

  it("notNamespaces in a DENY matches a plain-text peer (it has no namespace); principals ['*'] does not", () => {
    const objects = [
      namespace("a"),
      namespace("b", { "istio-injection": "enabled" }),
      deployment("a", "client", { app: "client" }),
      deployment("b", "server", { app: "server" }),
    ];
    const w = { ...W, server: meshW.server };
    blocks(
      [
        ...objects,
        ap("b", "deny", { action: "DENY", rules: [{ from: [{ source: { notNamespaces: ["b"] } }] }] }),
      ],
      http,
      w,
    );
    allows(
      [
        ...objects,
        ap("b", "deny", {
          action: "DENY",
          rules: [{ from: [{ source: { principals: ["*"], notNamespaces: ["b"] } }] }],
        }),
      ],
      http,
      w,
    );
  });

  it("to.operation: methods, paths and ports must all match", () => {
    const op = (operation: any) => allowRule({ to: [{ operation }] });
    allows([...mesh(), op({ methods: ["GET"], paths: ["/metrics"] })], http, meshW);
    blocks([...mesh(), op({ methods: ["POST"], paths: ["/metrics"] })], http, meshW);
    allows([...mesh(), op({ paths: ["/met*"] })], http, meshW);
    blocks([...mesh(), op({ notPaths: ["/metrics"] })], http, meshW);
    allows([...mesh(), op({ ports: ["8080"] })], http, meshW);
    blocks([...mesh(), op({ ports: ["9090"] })], http, meshW);
  });

  it("HTTP fields on a TCP flow: an ALLOW rule with them never matches; a DENY rule ignores them", () => {
    const tcp = flow();
    blocks([...mesh(), allowRule({ to: [{ operation: { methods: ["GET"] } }] })], tcp, meshW);
    blocks(
      [
        ...mesh(),
        ap("b", "deny", { action: "DENY", rules: [{ to: [{ operation: { methods: ["POST"] } }] }] }),
      ],
      tcp,
      meshW,
    );
    allows(
      [
        ...mesh(),
        ap("b", "deny", { action: "DENY", rules: [{ to: [{ operation: { methods: ["POST"] } }] }] }),
      ],
      http,
      meshW,
    );
  });

  it("`when` is not evaluated: the pessimistic reading for the flow's kind, and the decision says so", () => {
    const deny = ap("b", "deny", {
      action: "DENY",
      rules: [{ when: [{ key: "request.headers[x-test]", values: ["1"] }] }],
    });
    const required = decide([...mesh(), deny], http, meshW, "required");
    assert.equal(required.allowed, false);
    assert.match(layer(required, "authz")!.decidedBy, /conservative: `when` conditions not evaluated/);
    const forbidden = decide([...mesh(), deny], http, meshW, "forbidden");
    assert.equal(
      forbidden.allowed,
      true,
      "a forbidden flow is not counted as blocked by a DENY that may not apply",
    );
  });

  it("a policy in the root namespace istio-system without selector applies mesh-wide; elsewhere only to its namespace", () => {
    const denyAllRule = { action: "DENY", rules: [{}] };
    blocks([...mesh(), ap("istio-system", "mesh-deny", denyAllRule)], http, meshW);
    allows([...mesh(), ap("c", "ns-deny", denyAllRule)], http, meshW);
  });
});

describe("wiring verifier: pods the operators create", () => {
  it("Flagger's primary copies the target's template with app=<target>-primary", () => {
    const canary = obj({
      apiVersion: "flagger.app/v1beta1",
      kind: "Canary",
      metadata: { name: "server", namespace: "b" },
      spec: { targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "server" } },
    });
    const pods = podsOf([deployment("b", "server", { app: "server", "aiwp.io/service": "server" }), canary]);
    const primary = pods.find((p) => p.ref === "Deployment b/server-primary")!;
    assert.deepEqual(primary.labels, { app: "server-primary", "aiwp.io/service": "server" });
  });

  it("prometheus-operator's Prometheus pods carry app.kubernetes.io/name=prometheus and the podMetadata labels", () => {
    const prom = obj({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "Prometheus",
      metadata: { name: "kps-prometheus", namespace: "monitoring" },
      spec: {
        serviceAccountName: "kps-prometheus",
        podMetadata: { labels: { "sidecar.istio.io/inject": "true" } },
      },
    });
    const [pod] = podsOf([prom]);
    assert.equal(pod.labels["app.kubernetes.io/name"], "prometheus");
    assert.equal(pod.labels["operator.prometheus.io/name"], "kps-prometheus");
    assert.equal(pod.labels["sidecar.istio.io/inject"], "true");
    assert.equal(pod.serviceAccount, "kps-prometheus");
  });

  it("CronJobs, Jobs and bare Pods count as pods; Helm hooks (tests, pre-install jobs) do not", () => {
    const template = { metadata: { labels: { app: "job" } }, spec: { containers: [{ name: "c" }] } };
    const pods = podsOf([
      obj({
        apiVersion: "batch/v1",
        kind: "CronJob",
        metadata: { name: "nightly", namespace: "a" },
        spec: { jobTemplate: { spec: { template } } },
      }),
      obj({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "once", namespace: "a" },
        spec: { template },
      }),
      obj({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "bare", namespace: "a", labels: { app: "bare" } },
        spec: template.spec,
      }),
      obj({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "hook", namespace: "a", annotations: { "helm.sh/hook": "pre-install" } },
        spec: { template },
      }),
    ]);
    assert.deepEqual(pods.map((p) => p.ref).sort(), ["CronJob a/nightly", "Job a/once", "Pod a/bare"]);
  });

  it("an endpoint matching no pod is an error naming the workload", () => {
    const v = evaluateFlow(plain(), flow({ to: { workload: "server" } }), {
      ...W,
      server: { ...W.server, labels: { app: "nope" } },
    });
    assert.match(v.error ?? "", /workload "server" .* matches no pod in the object set/);
    assert.equal(v.ok, false);
  });
});

describe("wiring verifier: the Kubernetes API takes a token", () => {
  const api = flow({ to: { address: "kube-apiserver" }, ports: [443] });
  const withToken = (automount?: boolean) => [
    namespace("a"),
    obj({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "client", namespace: "a" },
      spec: {
        template: {
          metadata: { labels: { app: "client" } },
          spec: {
            serviceAccountName: "client",
            automountServiceAccountToken: automount,
            containers: [{ name: "c" }],
          },
        },
      },
    }),
  ];

  it("a pod that mounts a token may call the API server; one with automountServiceAccountToken false may not", () => {
    assert.ok(decide(withToken(), api).allowed);
    const c = decide(withToken(false), api);
    assert.equal(c.allowed, false);
    assert.match(layer(c, "token")!.decidedBy, /mounts no service-account token/);
  });

  it("the service account's automountServiceAccountToken applies when the pod says nothing", () => {
    const sa = obj({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "client", namespace: "a" },
      automountServiceAccountToken: false,
    });
    assert.equal(decide([...withToken(), sa], api).allowed, false);
  });

  it("an egress ipBlock counts as covering the API server's unknown address only for a forbidden flow", () => {
    const egress = np("a", "out", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 443 }] }],
    });
    assert.equal(decide([...withToken(), egress], api, W, "required").allowed, false);
    assert.equal(decide([...withToken(), egress], api, W, "forbidden").allowed, true);
  });
});
