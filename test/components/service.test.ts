import * as assert from "node:assert/strict";
import {
  AB_MATCH,
  authorizationRules,
  disruptionBudget,
  loadTestCommand,
  principal,
  servingWorkload,
} from "../../components/service";
import { METRIC_TEMPLATES } from "../../components/metricTemplates";
import {
  GATEWAY_SERVICE_ACCOUNT,
  LOADTESTER_URL,
  MONITORING_SELECTOR,
  PROMETHEUS_SERVICE_ACCOUNT,
  PUBLIC_GATEWAY,
  appNamespace,
} from "../../lib/names";
import { manifest, manifests, ofType, rendered } from "../support/estate";
import type { ProgramRun } from "../../tools/harness";

const NS = appNamespace({ environment: "prod" });

describe("components/service", () => {
  let prod: ProgramRun;
  before(async () => {
    prod = await rendered("prod");
  });

  describe("Deployment", () => {
    it("runs the configured image from the stack's registry", () => {
      const d = manifest(prod, "Deployment", "api-gateway", NS);
      // Pulumi.prod.yaml pins api-gateway to 2.4.1; the registry's login server is <name>.azurecr.io.
      assert.match(
        d.spec.template.spec.containers[0].image,
        /^[a-z0-9]+\.azurecr\.io\/aiwp\/api-gateway:2\.4\.1$/,
      );
      assert.equal(d.spec.template.metadata.labels.version, "2.4.1");
      assert.equal(d.spec.template.metadata.labels.app, "api-gateway");
    });

    it("runs non-root with a read-only root filesystem, no privilege escalation and no capabilities", () => {
      for (const d of manifests(prod, "Deployment").filter((m) => m.metadata.namespace === NS)) {
        const pod = d.spec.template.spec;
        const c = pod.containers[0];
        assert.equal(pod.securityContext.runAsNonRoot, true, d.metadata.name);
        assert.equal(pod.securityContext.runAsUser, 10001);
        assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
        assert.equal(c.securityContext.readOnlyRootFilesystem, true);
        assert.equal(c.securityContext.allowPrivilegeEscalation, false);
        assert.deepEqual(c.securityContext.capabilities.drop, ["ALL"]);
        const tmp = c.volumeMounts.find((m: any) => m.mountPath === "/tmp");
        assert.ok(pod.volumes.find((v: any) => v.name === tmp.name).emptyDir, "/tmp is an emptyDir");
      }
    });

    it("probes /health/live and /health/ready on port 8080 and drains before shutting down", () => {
      const d = manifest(prod, "Deployment", "persona-service", NS);
      const c = d.spec.template.spec.containers[0];
      const port = c.ports.find((p: any) => p.name === c.livenessProbe.httpGet.port).containerPort;
      assert.equal(port, 8080);
      assert.equal(c.livenessProbe.httpGet.path, "/health/live");
      assert.equal(c.readinessProbe.httpGet.path, "/health/ready");
      assert.ok(c.startupProbe, "a startup probe protects slow starts from the liveness probe");
      const drain = c.lifecycle.preStop.sleep.seconds;
      assert.ok(drain > 0);
      // The grace period covers the preStop drain plus the application's own shutdown.
      const shutdown = Number(c.env.find((e: any) => e.name === "SHUTDOWN_TIMEOUT_SECONDS").value);
      assert.ok(d.spec.template.spec.terminationGracePeriodSeconds >= drain + shutdown);
    });

    it("takes requests and limits from the service's settings", () => {
      const c = manifest(prod, "Deployment", "code-execution-service", NS).spec.template.spec.containers[0];
      assert.deepEqual(c.resources, {
        requests: { cpu: "1", memory: "2Gi" },
        limits: { cpu: "4", memory: "8Gi" },
      });
    });

    it("spreads pods across zones strictly in prod and across nodes", () => {
      const spread = manifest(prod, "Deployment", "agent-service", NS).spec.template.spec
        .topologySpreadConstraints;
      const zone = spread.find((t: any) => t.topologyKey === "topology.kubernetes.io/zone");
      assert.equal(zone.whenUnsatisfiable, "DoNotSchedule");
      assert.ok(spread.find((t: any) => t.topologyKey === "kubernetes.io/hostname"));
    });

    it("annotates pods for Istio's merged Prometheus scraping of the app's /metrics", () => {
      const a = manifest(prod, "Deployment", "agent-service", NS).spec.template.metadata.annotations;
      assert.equal(a["prometheus.io/scrape"], "true");
      assert.equal(a["prometheus.io/port"], "8080");
    });
  });

  describe("identity", () => {
    it("federates each service account with its own identity and labels its pods for workload identity", () => {
      const sa = manifest(prod, "ServiceAccount", "auth-service", NS);
      assert.match(sa.metadata.annotations["azure.workload.identity/client-id"], /^[0-9a-f-]{36}$/);
      const pod = manifest(prod, "Deployment", "auth-service", NS).spec.template;
      assert.equal(pod.spec.serviceAccountName, "auth-service");
      assert.equal(pod.metadata.labels["azure.workload.identity/use"], "true");
      const subjects = ofType(prod, "azure-native:managedidentity:FederatedIdentityCredential").map(
        (r) => r.inputs.subject,
      );
      assert.ok(subjects.includes(`system:serviceaccount:${NS}:auth-service`));
    });
  });

  describe("autoscaling and disruption", () => {
    it("scales on CPU 70% and memory 80% between the configured replicas, with stabilised scale-down", () => {
      const hpa = manifest(prod, "HorizontalPodAutoscaler", "api-gateway", NS);
      const target = (name: string) =>
        hpa.spec.metrics.find((m: any) => m.resource.name === name).resource.target;
      assert.equal(target("cpu").averageUtilization, 70);
      assert.equal(target("memory").averageUtilization, 80);
      // prod catalogue: 3 replicas, autoscaled up to four times that.
      assert.equal(hpa.spec.minReplicas, 3);
      assert.equal(hpa.spec.maxReplicas, 12);
      assert.ok(
        hpa.spec.behavior.scaleDown.stabilizationWindowSeconds >
          hpa.spec.behavior.scaleUp.stabilizationWindowSeconds,
      );
    });

    it("only recommends with the VPA (updateMode Off), watching the pods that serve: Flagger's primary", () => {
      const vpa = manifest(prod, "VerticalPodAutoscaler", "api-gateway", NS);
      assert.equal(vpa.spec.updatePolicy.updateMode, "Off");
      assert.equal(vpa.spec.targetRef.name, "api-gateway-primary");
    });

    it("protects the serving pods with a PodDisruptionBudget that never blocks a drain", () => {
      const pdb = manifest(prod, "PodDisruptionBudget", "agent-service", NS);
      assert.deepEqual(pdb.spec.selector.matchLabels, { app: "agent-service-primary" });
      assert.ok(pdb.spec.maxUnavailable >= 1);
      assert.deepEqual(disruptionBudget(1), { maxUnavailable: 1 });
      assert.deepEqual(disruptionBudget(6), { maxUnavailable: 2 });
      assert.equal(servingWorkload("x", { strategy: "rolling" }), "x");
    });
  });

  describe("monitoring", () => {
    it("declares a ServiceMonitor that the estate's Prometheus selects", () => {
      const sm = manifest(prod, "ServiceMonitor", "workflow-service", NS);
      for (const [k, v] of Object.entries(MONITORING_SELECTOR)) assert.equal(sm.metadata.labels[k], v);
      const canary = manifest(prod, "Canary", "workflow-service", NS);
      // The ServiceMonitor's selector matches the labels Flagger puts on its generated Services.
      for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) {
        assert.equal(canary.spec.service.primary.labels[k], v);
        assert.equal(canary.spec.service.canary.labels[k], v);
      }
      // The app's own /metrics on the http port, over mTLS (the sidecar rejects plain text under STRICT).
      assert.equal(sm.spec.endpoints[0].port, canary.spec.service.portName);
      assert.equal(sm.spec.endpoints[0].path, "/metrics");
      assert.equal(sm.spec.endpoints[0].scheme, "https");
    });
  });

  describe("Canary", () => {
    it("targets the Deployment and its HPA, and routes the exposed route through the public gateway", () => {
      const c = manifest(prod, "Canary", "persona-service", NS).spec;
      assert.deepEqual(c.targetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "persona-service" });
      assert.deepEqual(c.autoscalerRef, {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        name: "persona-service",
      });
      assert.equal(c.service.port, 80);
      assert.equal(c.service.targetPort, 8080);
      assert.ok(c.service.gateways.includes(PUBLIC_GATEWAY));
      assert.deepEqual(c.service.hosts, ["app.aiwp.example.com"]);
      assert.deepEqual(c.service.match, [{ uri: { prefix: "/api/personas" } }]);
      assert.equal(c.service.trafficPolicy.tls.mode, "ISTIO_MUTUAL");
      assert.ok(c.service.trafficPolicy.outlierDetection && c.service.trafficPolicy.connectionPool);
    });

    it("keeps code-execution inside the mesh", () => {
      const c = manifest(prod, "Canary", "code-execution-service", NS).spec;
      assert.deepEqual(c.service.gateways, ["mesh"]);
      assert.equal(c.service.hosts, undefined);
    });

    it("gates the analysis on success rate, P95, P99 and firing critical alerts through the shared templates", () => {
      const metrics = manifest(prod, "Canary", "api-gateway", NS).spec.analysis.metrics;
      const byTemplate = Object.fromEntries(metrics.map((m: any) => [m.templateRef.name, m]));
      // prod alerts: error rate 5% -> success rate 95; P95 500 ms; P99 1000 ms.
      assert.deepEqual(byTemplate[METRIC_TEMPLATES.successRate].thresholdRange, { min: 95 });
      assert.deepEqual(byTemplate[METRIC_TEMPLATES.latencyP95].thresholdRange, { max: 500 });
      assert.deepEqual(byTemplate[METRIC_TEMPLATES.latencyP99].thresholdRange, { max: 1000 });
      assert.deepEqual(byTemplate[METRIC_TEMPLATES.alertGate].thresholdRange, { max: 0 });
      for (const m of metrics) assert.equal(m.templateRef.namespace, NS);
    });

    it("gives auth-service the strictest checks", () => {
      const metrics = manifest(prod, "Canary", "auth-service", NS).spec.analysis.metrics;
      const min = (t: string) => metrics.find((m: any) => m.templateRef.name === t).thresholdRange;
      assert.deepEqual(min(METRIC_TEMPLATES.successRate), { min: 99.9 });
      assert.ok(min(METRIC_TEMPLATES.latencyP95).max < 500);
    });

    it("runs the acceptance test before and the load test during the rollout against the canary", () => {
      const hooks = manifest(prod, "Canary", "api-gateway", NS).spec.analysis.webhooks;
      const pre = hooks.find((h: any) => h.type === "pre-rollout");
      const load = hooks.find((h: any) => h.type === "rollout");
      assert.equal(pre.url, LOADTESTER_URL);
      assert.match(load.metadata.cmd, new RegExp(`^hey .* http://api-gateway-canary\\.${NS}/$`));
    });

    it("splits the load test's request rate over its workers (hey's -q is per worker)", () => {
      assert.equal(
        loadTestCommand("http://x/", { enabled: true, requestsPerSecond: 20, concurrency: 3 }, "1m"),
        "hey -z 1m -q 7 -c 3 http://x/",
      );
    });

    it("sends Flagger's alerts to the Slack AlertProvider when a channel is set", () => {
      const alerts = manifest(prod, "Canary", "api-gateway", NS).spec.analysis.alerts;
      const provider = manifest(prod, "AlertProvider", alerts[0].providerRef.name, NS);
      assert.equal(provider.spec.channel, "#aiwp-prod-releases");
      const secret = manifest(prod, "Secret", provider.spec.secretRef.name, NS);
      // The webhook URL is a Pulumi secret: the mock runtime records it wrapped with its signature.
      const SECRET_SIG = "4dabf18193072939515e22adb298388d";
      const data = SECRET_SIG in secret.stringData ? secret.stringData.value : secret.stringData;
      assert.deepEqual(Object.keys(data), ["address"]);
    });

    it("matches A/B testers by header or cookie", () => {
      assert.deepEqual(AB_MATCH[0], { headers: { "x-canary": { exact: "insider" } } });
      // The whole Cookie header must match; browsers separate cookies with "; ".
      assert.ok(new RegExp(AB_MATCH[1].headers.cookie!.regex).test("canary=always; lang=en"));
      assert.ok(new RegExp(AB_MATCH[1].headers.cookie!.regex).test("theme=dark; canary=always; lang=en"));
      assert.ok(!new RegExp(AB_MATCH[1].headers.cookie!.regex).test("theme=dark; canary=alwaysnot"));
      assert.ok(new RegExp(AB_MATCH[1].headers.cookie!.regex).test("theme=dark;canary=always"));
      assert.ok(!new RegExp(AB_MATCH[1].headers.cookie!.regex).test("canary=never"));
    });
  });

  describe("mesh policy", () => {
    const gateway = principal(GATEWAY_SERVICE_ACCOUNT.namespace, GATEWAY_SERVICE_ACCOUNT.name);

    it("lets only agent-service POST /api/code-execution/execute to code-execution", () => {
      const policy = manifest(prod, "AuthorizationPolicy", "code-execution-service", NS).spec;
      assert.equal(policy.action, "ALLOW");
      const callerRule = policy.rules.find((r: any) =>
        r.from[0].source.principals.includes(principal(NS, "agent-service")),
      );
      assert.deepEqual(callerRule.from[0].source.principals, [principal(NS, "agent-service")]);
      assert.deepEqual(callerRule.to, [
        { operation: { methods: ["POST"], paths: ["/api/code-execution/execute"] } },
      ]);
      const principals = policy.rules.flatMap((r: any) => r.from[0].source.principals);
      assert.ok(!principals.includes(gateway), "the ingress gateway cannot reach code-execution");
      for (const r of policy.rules.filter((r: any) => r !== callerRule)) {
        assert.ok(!r.to[0].operation.methods.includes("POST"), "nobody else may POST");
      }
    });

    it("admits the ingress gateway to an exposed service's route, and Prometheus to GET /metrics only", () => {
      const rules = authorizationRules(NS, {
        exposed: true,
        route: "/api/sql",
        callers: [],
        allowedPaths: [],
        strategy: "rolling",
      } as any);
      assert.deepEqual(rules, [
        {
          from: [{ source: { principals: [gateway] } }],
          to: [{ operation: { paths: ["/api/sql", "/api/sql/*"] } }],
        },
        {
          from: [
            {
              source: {
                principals: [
                  principal(PROMETHEUS_SERVICE_ACCOUNT.namespace, PROMETHEUS_SERVICE_ACCOUNT.name),
                ],
              },
            },
          ],
          to: [{ operation: { methods: ["GET"], paths: ["/metrics"] } }],
        },
      ]);
    });
  });
});
