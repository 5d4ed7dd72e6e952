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
import { SettingsError } from "../../settings";
import {
  GATEWAY_SERVICE_ACCOUNT,
  LOADTESTER_URL,
  MONITORING_SELECTOR,
  PROMETHEUS_SERVICE_ACCOUNT,
  appNamespace,
} from "../../lib/names";
import { manifest, manifests, ofType, rendered, renderWith } from "../support/estate";
import type { ProgramRun } from "../../tools/harness";

const NS = appNamespace({ environment: "prod" });
/** An image digest as registries print it (OCI image-spec descriptor: sha256 and 64 lowercase hex digits). */
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

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

    it("pulls a tag-only image Always, so a re-pushed tag never runs stale code from a node's cache", () => {
      for (const d of manifests(prod, "Deployment").filter((m) => m.metadata.namespace === NS)) {
        const c = d.spec.template.spec.containers[0];
        assert.doesNotMatch(c.image, /@sha256:/, d.metadata.name);
        assert.equal(c.imagePullPolicy, "Always", d.metadata.name);
      }
    });

    it("pins the image by digest when the service sets one, and only then pulls IfNotPresent", async () => {
      const run = await renderWith("prod", (c) => {
        c["aiwp-estate:services"]["api-gateway"].digest = DIGEST;
      });
      const c = manifest(run, "Deployment", "api-gateway", NS).spec.template.spec.containers[0];
      assert.match(c.image, new RegExp(`^[a-z0-9]+\\.azurecr\\.io/aiwp/api-gateway:2\\.4\\.1@${DIGEST}$`));
      assert.equal(c.imagePullPolicy, "IfNotPresent");
      const other = manifest(run, "Deployment", "auth-service", NS).spec.template.spec.containers[0];
      assert.equal(other.imagePullPolicy, "Always", "a service without a digest keeps its tag and Always");
    });

    it("rejects a digest that is not sha256 with 64 hex digits, naming the key", async () => {
      for (const bad of ["sha256:abc", `sha512:${"a".repeat(64)}`, DIGEST.toUpperCase()]) {
        await assert.rejects(
          renderWith("prod", (c) => {
            c["aiwp-estate:services"]["auth-service"] = { digest: bad };
          }),
          (e: unknown) =>
            e instanceof SettingsError &&
            e.issues.some(
              (i) => i.path === "services.auth-service.digest" && /64 lowercase hex/.test(i.message),
            ),
        );
      }
    });

    it("mounts no Kubernetes API token in any service pod, on the pod and on its service account", () => {
      for (const d of manifests(prod, "Deployment").filter((m) => m.metadata.namespace === NS)) {
        const pod = d.spec.template.spec;
        assert.equal(pod.automountServiceAccountToken, false, d.metadata.name);
        const sa = manifest(prod, "ServiceAccount", pod.serviceAccountName, NS);
        assert.equal(sa.automountServiceAccountToken, false, sa.metadata.name);
        // Workload identity still gets its own projected token: the webhook keys on this label.
        assert.equal(d.spec.template.metadata.labels["azure.workload.identity/use"], "true");
      }
    });

    it("gives the revenue path (api-gateway, auth-service) a higher priority than the other services", () => {
      const classOf = (name: string) =>
        manifest(prod, "Deployment", name, NS).spec.template.spec.priorityClassName;
      const value = (className: string) => manifest(prod, "PriorityClass", className).value;
      for (const name of ["api-gateway", "auth-service"]) assert.equal(classOf(name), "aiwp-revenue", name);
      for (const name of ["agent-service", "code-execution-service", "workflow-service"])
        assert.equal(classOf(name), "aiwp-service", name);
      assert.ok(value(classOf("api-gateway")) > value(classOf("agent-service")));
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
    it("targets the Deployment and its HPA, and hands its routes to the root VirtualServices (Flagger delegation)", () => {
      const c = manifest(prod, "Canary", "persona-service", NS).spec;
      assert.deepEqual(c.targetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "persona-service" });
      assert.deepEqual(c.autoscalerRef, {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        name: "persona-service",
      });
      assert.equal(c.service.port, 80);
      assert.equal(c.service.targetPort, 8080);
      // Flagger v1.44 refuses hosts or gateways on a delegate VirtualService; the root owns the path match.
      assert.equal(c.service.delegation, true);
      assert.equal(c.service.hosts, undefined);
      assert.equal(c.service.gateways, undefined);
      assert.equal(c.service.match, undefined);
      assert.equal(c.service.trafficPolicy.tls.mode, "ISTIO_MUTUAL");
      assert.ok(c.service.trafficPolicy.outlierDetection && c.service.trafficPolicy.connectionPool);
    });

    it("keeps code-execution inside the mesh: a delegate reached only through its mesh root", () => {
      const c = manifest(prod, "Canary", "code-execution-service", NS).spec;
      assert.equal(c.service.delegation, true);
      assert.equal(c.service.gateways, undefined);
      const root = manifest(prod, "VirtualService", "code-execution-service-mesh", NS).spec;
      assert.deepEqual(root.gateways, ["mesh"]);
      const publicRoot = manifest(prod, "VirtualService", "public-routes", NS).spec;
      assert.ok(!publicRoot.http.some((r: any) => r.delegate.name === "code-execution-service"));
    });

    it("routes in-mesh callers of every service's short host through its delegate, on any path", () => {
      for (const c of manifests(prod, "Canary").filter((m) => m.metadata.namespace === NS)) {
        const name = c.metadata.name;
        const root = manifest(prod, "VirtualService", `${name}-mesh`, NS).spec;
        assert.deepEqual(root.hosts, [name]);
        assert.deepEqual(root.gateways, ["mesh"]);
        // One route, no match: the delegate's routes apply to every path (no 404 off the public prefix).
        assert.equal(root.http.length, 1);
        assert.equal(root.http[0].match, undefined);
        // Flagger names its VirtualService after the apex Service, the Canary's targetRef by default.
        assert.deepEqual(root.http[0].delegate, { name: c.spec.targetRef.name, namespace: NS });
      }
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
      const range = (name: string, t: string) =>
        manifest(prod, "Canary", name, NS).spec.analysis.metrics.find((m: any) => m.templateRef.name === t)
          .thresholdRange;
      const others = manifests(prod, "Canary")
        .map((c) => c.metadata.name)
        .filter((n) => n !== "auth-service");
      for (const other of others) {
        assert.ok(
          range("auth-service", METRIC_TEMPLATES.successRate).min >
            range(other, METRIC_TEMPLATES.successRate).min,
          `auth-service's success check is stricter than ${other}'s`,
        );
        assert.ok(
          range("auth-service", METRIC_TEMPLATES.latencyP95).max <
            range(other, METRIC_TEMPLATES.latencyP95).max,
          `auth-service's P95 check is stricter than ${other}'s`,
        );
      }
      assert.ok(metrics.length >= 4);
    });

    it("runs the acceptance test before and the load test during the rollout against the canary", () => {
      const hooks = manifest(prod, "Canary", "api-gateway", NS).spec.analysis.webhooks;
      const pre = hooks.find((h: any) => h.type === "pre-rollout");
      const load = hooks.find((h: any) => h.type === "rollout");
      assert.equal(pre.url, LOADTESTER_URL);
      assert.match(load.metadata.cmd, new RegExp(`^hey .* http://api-gateway-canary\\.${NS}/\\S*$`));
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
