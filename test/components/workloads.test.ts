import * as assert from "node:assert/strict";
import { CODE_EXECUTION_TAINT, WORKLOAD_LABEL } from "../../components/cluster";
import { METRIC_TEMPLATES } from "../../components/metricTemplates";
import { PROMETHEUS_URL, PUBLIC_GATEWAY, appNamespace } from "../../lib/names";
import { STACKS, manifest, manifests, rendered, renderWith } from "../support/estate";
import { SettingsError } from "../../settings";
import type { ProgramRun, Registration } from "../../tools/harness";

const NS = appNamespace({ environment: "prod" });
const inNs = (run: ProgramRun, kind: string) =>
  manifests(run, kind).filter((m) => m.metadata.namespace === NS);
const canary = (run: ProgramRun, name: string) => manifest(run, "Canary", name, NS).spec;
const template = (c: any, name: string) => c.analysis.metrics.find((m: any) => m.templateRef.name === name);

describe("components/workloads", () => {
  let prod: ProgramRun;
  before(async () => {
    prod = await rendered("prod");
  });

  it("declares the eight services of the catalogue, each with its Deployment and Canary", () => {
    const names = inNs(prod, "Deployment")
      .map((d) => d.metadata.name)
      .sort();
    assert.deepEqual(names, Object.keys(prod.config.settings.services).sort());
    assert.equal(names.length, 8);
    assert.deepEqual(
      inNs(prod, "Canary")
        .map((c) => c.metadata.name)
        .sort(),
      names,
    );
  });

  describe("analysis follows the stack config", () => {
    it("renders prod's stepWeights, interval and threshold", () => {
      const a = canary(prod, "api-gateway").analysis;
      // ESTATE section 4: prod steps 5 -> 25 -> 50; interval and threshold are the stack's delivery.canary.
      assert.deepEqual(a.stepWeights, [5, 25, 50]);
      assert.equal(a.interval, prod.config.settings.delivery.canary.interval);
      assert.equal(a.threshold, prod.config.settings.delivery.canary.threshold);
      assert.equal(a.iterations, undefined);
    });

    it("moves with a config change: weights, interval, threshold and metric thresholds", async () => {
      const run = await renderWith("prod", (c) => {
        c["aiwp-estate:delivery"].canary = {
          stepWeights: [10, 20, 40, 80],
          interval: "30s",
          threshold: 3,
          // Loose enough for 30s x 3 from fault onset: this case is about values moving, not the budget.
          maxRollbackSeconds: 600,
          successRatePercent: 98,
          latencyP95Ms: 400,
          latencyP99Ms: 800,
        };
      });
      const c = canary(run, "persona-service");
      assert.deepEqual(c.analysis.stepWeights, [10, 20, 40, 80]);
      assert.equal(c.analysis.interval, "30s");
      assert.equal(c.analysis.threshold, 3);
      assert.deepEqual(template(c, METRIC_TEMPLATES.successRate).thresholdRange, { min: 98 });
      assert.deepEqual(template(c, METRIC_TEMPLATES.latencyP95).thresholdRange, { max: 400 });
      assert.deepEqual(template(c, METRIC_TEMPLATES.latencyP99).thresholdRange, { max: 800 });
      // Blue-green keeps its iterations and auth-service its own stricter success rate.
      const auth = canary(run, "auth-service");
      assert.equal(auth.analysis.interval, "30s");
      assert.equal(auth.analysis.stepWeights, undefined);
      assert.deepEqual(template(auth, METRIC_TEMPLATES.successRate).thresholdRange, {
        min: run.config.settings.services["auth-service"].canary.successRatePercent,
      });
      assert.ok(run.config.settings.services["auth-service"].canary.successRatePercent! > 98);
    });

    it("lets a service override win over the stack default", async () => {
      const run = await renderWith("prod", (c) => {
        c["aiwp-estate:services"]["text-to-sql-service"] = {
          canary: { stepWeights: [20, 60], latencyP95Ms: 250 },
        };
      });
      const sql = canary(run, "text-to-sql-service");
      assert.deepEqual(sql.analysis.stepWeights, [20, 60]);
      assert.deepEqual(template(sql, METRIC_TEMPLATES.latencyP95).thresholdRange, { max: 250 });
      // The others keep the stack's.
      assert.deepEqual(canary(run, "knowledge-base-service").analysis.stepWeights, [5, 25, 50]);
      assert.deepEqual(
        template(canary(run, "knowledge-base-service"), METRIC_TEMPLATES.latencyP95).thresholdRange,
        { max: 500 },
      );
    });

    it("renders stepWeight with maxWeight when a service walks linear steps", async () => {
      const run = await renderWith("prod", (c) => {
        c["aiwp-estate:services"]["persona-service"] = { canary: { stepWeight: 10, maxWeight: 40 } };
      });
      const a = canary(run, "persona-service").analysis;
      assert.equal(a.stepWeight, 10);
      assert.equal(a.maxWeight, 40);
      assert.equal(a.stepWeights, undefined);
    });
  });

  describe("strategies", () => {
    it("A/B tests agent-service with iterations and the x-canary header or canary cookie", () => {
      const a = canary(prod, "agent-service").analysis;
      assert.equal(a.iterations, 5);
      assert.deepEqual(a.match, [
        { headers: { "x-canary": { exact: "insider" } } },
        { headers: { cookie: { regex: "^(.*?;\\s*)?(canary=always)(;.*)?$" } } },
      ]);
      assert.equal(a.stepWeights, undefined);
    });

    it("switches auth-service blue-green: iterations without match", () => {
      const a = canary(prod, "auth-service").analysis;
      assert.equal(a.iterations, 5);
      assert.equal(a.match, undefined);
      assert.equal(a.stepWeights, undefined);
    });

    it("declares a rolling service plainly: its own Service, no Canary", async () => {
      const run = await renderWith("prod", (c) => {
        c["aiwp-estate:services"]["persona-service"] = { strategy: "rolling" };
      });
      assert.throws(() => manifest(run, "Canary", "persona-service", NS));
      const svc = manifest(run, "Service", "persona-service", NS);
      const http = svc.spec.ports.find((p: any) => p.name === "http");
      assert.equal(http.port, 80);
      assert.equal(http.targetPort, "http");
      assert.equal(manifest(run, "Deployment", "persona-service", NS).spec.strategy.type, "RollingUpdate");
      assert.equal(
        manifest(run, "PodDisruptionBudget", "persona-service", NS).spec.selector.matchLabels.app,
        "persona-service",
      );
    });
  });

  it("declares none of the VirtualServices, DestinationRules or Services Flagger owns for canaried services", () => {
    const canaried = inNs(prod, "Canary").map((c) => c.metadata.name);
    // Flagger's names: the apex `<name>`, `<name>-primary` and `<name>-canary` (how-it-works, Canary service).
    const flaggers = new Set(canaried.flatMap((n) => [n, `${n}-primary`, `${n}-canary`]));
    for (const kind of ["VirtualService", "DestinationRule", "Service"]) {
      const clash = inNs(prod, kind).filter((m) => flaggers.has(m.metadata.name));
      assert.deepEqual(
        clash.map((m) => m.metadata.name),
        [],
        kind,
      );
    }
  });

  describe("public routing", () => {
    // Istio HTTPMatchRequest semantics (networking/v1 VirtualService): `exact` is equality, `prefix` a string prefix;
    // the first route whose match list has a matching entry wins.
    const matches = (m: any, path: string) =>
      m.uri.exact !== undefined ? path === m.uri.exact : path.startsWith(m.uri.prefix);
    const routeOf = (spec: any, path: string) =>
      spec.http.find((r: any) => r.match.some((m: any) => matches(m, path)))?.delegate.name;

    it("serves the custom domain on the public gateway from one root that delegates every exposed service once", () => {
      const root = manifest(prod, "VirtualService", "public-routes", NS).spec;
      assert.deepEqual(root.hosts, [prod.config.settings.edge.customDomain]);
      assert.deepEqual(root.gateways, [PUBLIC_GATEWAY]);
      const exposed = Object.entries(prod.config.settings.services)
        .filter(([, s]: [string, any]) => s.exposed)
        .map(([n]) => n)
        .sort();
      const delegated = root.http.map((r: any) => r.delegate.name);
      assert.deepEqual([...delegated].sort(), exposed, "every exposed service exactly once");
      for (const r of root.http) assert.equal(r.delegate.namespace, NS);
      // Only the root names the host: no other VirtualService in the estate claims it.
      const claimants = manifests(prod, "VirtualService").filter((v) =>
        (v.spec.hosts ?? []).includes(prod.config.settings.edge.customDomain),
      );
      assert.deepEqual(
        claimants.map((v) => v.metadata.name),
        ["public-routes"],
      );
    });

    it("orders the routes longest prefix first with api-gateway's / last", () => {
      const root = manifest(prod, "VirtualService", "public-routes", NS).spec;
      const paths = root.http.map((r: any) => r.match[r.match.length - 1].uri.prefix);
      for (let i = 1; i < paths.length; i++)
        assert.ok(paths[i - 1].length >= paths[i].length, `${paths[i - 1]} before ${paths[i]}`);
      assert.equal(paths[paths.length - 1], "/");
      assert.equal(root.http[root.http.length - 1].delegate.name, "api-gateway");
      // Paths from the ESTATE catalogue: each reaches its service, and nothing else falls to api-gateway.
      assert.equal(routeOf(root, "/api/agents/42/run"), "agent-service");
      assert.equal(routeOf(root, "/api/auth"), "auth-service");
      assert.equal(routeOf(root, "/api/workflows/7"), "workflow-service");
      assert.equal(routeOf(root, "/api/authors"), "api-gateway", "a prefix is a path segment, not a string");
      assert.equal(
        routeOf(root, "/api/code-execution/execute"),
        "api-gateway",
        "code-execution is not public",
      );
      assert.equal(routeOf(root, "/"), "api-gateway");
    });

    for (const stack of STACKS) {
      it(`${stack}: the root lists each exposed service once, longest path first and / last`, async () => {
        const run = await rendered(stack);
        const ns = appNamespace({ environment: stack });
        const root = manifest(run, "VirtualService", "public-routes", ns).spec;
        const exposed = Object.entries(run.config.settings.services)
          .filter(([, s]: [string, any]) => s.exposed)
          .map(([n]) => n);
        const delegated = root.http.map((r: any) => r.delegate.name);
        assert.deepEqual([...delegated].sort(), [...exposed].sort());
        assert.equal(new Set(delegated).size, delegated.length);
        const paths = root.http.map((r: any) => r.match[r.match.length - 1].uri.prefix);
        for (let i = 1; i < paths.length; i++) assert.ok(paths[i - 1].length >= paths[i].length);
        assert.equal(paths[paths.length - 1], "/");
      });
    }

    it("rejects two exposed services whose routes differ only by a trailing slash, naming the key", async () => {
      await assert.rejects(
        renderWith("prod", (c) => {
          c["aiwp-estate:services"]["persona-service"] = { route: "/api/agents/" };
        }),
        (e: unknown) =>
          e instanceof SettingsError &&
          e.issues.some(
            (i) => i.path.endsWith(".route") && /is already the route of services\./.test(i.message),
          ),
      );
    });

    it("puts a nested route before the route that contains it, whatever the catalogue order", async () => {
      const run = await renderWith("prod", (c) => {
        c["aiwp-estate:services"]["persona-service"] = { route: "/api/agents/personas" };
      });
      const root = manifest(run, "VirtualService", "public-routes", NS).spec;
      const order = root.http.map((r: any) => r.delegate.name);
      assert.ok(order.indexOf("persona-service") < order.indexOf("agent-service"), order.join(", "));
      assert.equal(routeOf(root, "/api/agents/personas/3"), "persona-service");
      assert.equal(routeOf(root, "/api/agents/3"), "agent-service");
    });

    it("gives a rolling service a delegate VirtualService of its own, reached by both roots", async () => {
      const run = await renderWith("prod", (c) => {
        c["aiwp-estate:services"]["persona-service"] = { strategy: "rolling" };
      });
      const delegate = manifest(run, "VirtualService", "persona-service", NS).spec;
      assert.equal(delegate.hosts, undefined, "a delegate has no hosts");
      assert.equal(delegate.gateways, undefined, "a delegate has no gateways");
      assert.deepEqual(delegate.http[0].route, [
        { destination: { host: "persona-service", port: { number: 80 } } },
      ]);
      const svc = manifest(run, "Service", "persona-service", NS);
      assert.equal(svc.spec.ports[0].port, delegate.http[0].route[0].destination.port.number);
      const root = manifest(run, "VirtualService", "public-routes", NS).spec;
      assert.equal(routeOf(root, "/api/personas/1"), "persona-service");
      assert.deepEqual(manifest(run, "VirtualService", "persona-service-mesh", NS).spec.http[0].delegate, {
        name: "persona-service",
        namespace: NS,
      });
    });
  });

  it("runs code-execution only on its pool (the cluster's label and taint), and nothing else there", () => {
    const [taintKV, effect] = CODE_EXECUTION_TAINT.split(":");
    const [key, value] = taintKV.split("=");
    for (const d of inNs(prod, "Deployment")) {
      const pod = d.spec.template.spec;
      const tolerates = (pod.tolerations ?? []).some(
        (t: any) => t.key === key && t.value === value && t.effect === effect,
      );
      if (d.metadata.name === "code-execution-service") {
        assert.deepEqual(pod.nodeSelector, { [WORKLOAD_LABEL]: "code-execution" });
        assert.ok(tolerates);
      } else {
        assert.equal(pod.nodeSelector?.[WORKLOAD_LABEL], undefined, d.metadata.name);
        assert.ok(!tolerates, `${d.metadata.name} must not tolerate the sandbox taint`);
      }
    }
  });

  describe("autoscaling", () => {
    it("scales workflow-service with KEDA on its RabbitMQ queue and request rate, and its Canary follows the ScaledObject", () => {
      const so = manifest(prod, "ScaledObject", "workflow-service", NS).spec;
      assert.equal(so.minReplicaCount, 5);
      assert.equal(so.maxReplicaCount, 20);
      const queue = so.triggers.find((t: any) => t.type === "rabbitmq");
      assert.equal(queue.metadata.mode, "QueueLength");
      assert.equal(queue.metadata.queueName, "workflow-tasks");
      assert.equal(queue.metadata.value, "20");
      const auth = manifest(prod, "TriggerAuthentication", queue.authenticationRef.name, NS);
      assert.equal(auth.spec.secretTargetRef[0].parameter, "host");
      const rate = so.triggers.find((t: any) => t.type === "prometheus");
      assert.equal(rate.metadata.serverAddress, PROMETHEUS_URL);
      assert.match(rate.metadata.query, /istio_requests_total\{[^}]*destination_workload="workflow-service"/);
      const ref = canary(prod, "workflow-service").autoscalerRef;
      assert.equal(ref.apiVersion, "keda.sh/v1alpha1");
      assert.equal(ref.kind, "ScaledObject");
      assert.equal(ref.name, "workflow-service");
      assert.match(ref.primaryScalerQueries[rate.name], /destination_workload="workflow-service-primary"/);
      assert.throws(
        () => manifest(prod, "HorizontalPodAutoscaler", "workflow-service", NS),
        "KEDA, not an HPA",
      );
    });

    it("leaves spec.replicas unset on every Deployment, each owned by exactly one autoscaler", () => {
      const scalers = [...inNs(prod, "HorizontalPodAutoscaler"), ...inNs(prod, "ScaledObject")];
      for (const d of inNs(prod, "Deployment")) {
        assert.equal(d.spec.replicas, undefined, d.metadata.name);
        const owners = scalers.filter((s) => s.spec.scaleTargetRef.name === d.metadata.name);
        assert.equal(owners.length, 1, `${d.metadata.name} has one autoscaler`);
      }
    });
  });

  it("changes only the Deployment when only a service's image tag changes", async () => {
    const bumped = await renderWith("prod", (c) => {
      c["aiwp-estate:services"]["api-gateway"].tag = "2.5.0";
    });
    const byUrn = (run: ProgramRun) =>
      new Map(run.registrations.map((r: Registration) => [r.urn, JSON.stringify(r.inputs)]));
    const before = byUrn(prod);
    const after = byUrn(bumped);
    assert.deepEqual([...after.keys()].sort(), [...before.keys()].sort(), "same resources");
    const changed = [...after].filter(([urn, inputs]) => before.get(urn) !== inputs).map(([urn]) => urn);
    assert.equal(changed.length, 1, `changed: ${changed.join(", ")}`);
    assert.match(changed[0], /kubernetes:apps\/v1:Deployment::.*api-gateway-deployment$/);
    assert.match(
      manifest(bumped, "Deployment", "api-gateway", NS).spec.template.spec.containers[0].image,
      /:2\.5\.0$/,
    );
  });

  describe("shared analysis objects", () => {
    it("queries the Istio destination metrics of the canary workload in each MetricTemplate", () => {
      for (const name of [
        METRIC_TEMPLATES.successRate,
        METRIC_TEMPLATES.latencyP95,
        METRIC_TEMPLATES.latencyP99,
      ]) {
        const t = manifest(prod, "MetricTemplate", name, NS).spec;
        assert.deepEqual(t.provider, { type: "prometheus", address: PROMETHEUS_URL });
        assert.match(
          t.query,
          /reporter="destination", destination_workload_namespace="\{\{ namespace \}\}", destination_workload="\{\{ target \}\}"/,
        );
      }
      assert.match(
        manifest(prod, "MetricTemplate", METRIC_TEMPLATES.latencyP95, NS).spec.query,
        /histogram_quantile\(0\.95,[\s\S]*istio_request_duration_milliseconds_bucket/,
      );
      assert.match(
        manifest(prod, "MetricTemplate", METRIC_TEMPLATES.successRate, NS).spec.query,
        /response_code!~"5\.\."/,
      );
    });

    it("gates on firing critical alerts of the workload, reading 0 when none fire", () => {
      const q = manifest(prod, "MetricTemplate", METRIC_TEMPLATES.alertGate, NS).spec.query;
      // The ALERTS selector, up to its closing brace (the template's own {{ }} sit inside it).
      const selector = /ALERTS\{(.*?)\}\)/s.exec(q)![1];
      for (const matcher of [
        'alertstate="firing"',
        'severity="critical"',
        'service="{{ target }}"',
        'namespace="{{ namespace }}"',
      ])
        assert.ok(selector.includes(matcher), `${matcher} in ${selector}`);
      assert.match(q, /or on\(\) vector\(0\)$/);
    });

    it("declares no AlertProvider when the stack sets no Slack channel (dev)", async () => {
      const dev = await rendered("dev");
      assert.deepEqual(manifests(dev, "AlertProvider"), []);
      const c = manifest(dev, "Canary", "api-gateway", appNamespace({ environment: "dev" })).spec;
      assert.equal(c.analysis.alerts, undefined);
    });
  });
});
