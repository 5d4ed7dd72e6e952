import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { manifest, manifests, ofType, rendered } from "../support/estate";
import { requireTool } from "../support/tools";
import * as yaml from "js-yaml";
import { analysisSpec } from "../../components/service";
import { parseSettings, projectKeys, SECRET_KEYS } from "../../settings";
import { LOADTESTER_URL, NAMESPACES, PROMETHEUS_URL, RELEASES } from "../../lib/names";
import { LOADTEST_CLIENT_SECRET, LOADTEST_TOKEN_COMMAND, loadtesterValues } from "../../components/delivery";
import { MIN_REQUESTS_VARIABLE, latencyQuery, successRateQuery } from "../../components/metricTemplates";
import { SERVICE_MAX_SURGE_PERCENT, SERVICE_READINESS } from "../../lib/rollout";

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

  describe("canary webhooks and checks", function () {
    this.timeout(120_000);
    const NS = "ai-workflow-prod";

    it("the acceptance test and the load test call each service's real smoke paths, never /, with a token where required", async () => {
      const prod = await rendered("prod");
      for (const c of manifests(prod, "Canary")) {
        const hooks: any[] = c.spec.analysis.webhooks;
        const acceptance = hooks.find((h) => h.type === "pre-rollout").metadata.cmd as string;
        const loads = hooks.filter((h) => h.type === "rollout").map((h) => h.metadata.cmd as string);
        const base = `http://${c.metadata.name}-canary.${NS}`;
        assert.ok(loads.length > 0, c.metadata.name);
        for (const cmd of [acceptance, ...loads]) {
          assert.doesNotMatch(cmd, new RegExp(`${base}/(\\s|$)`), `${c.metadata.name} calls /`);
          assert.match(cmd, new RegExp(`${base}/api/`));
        }
        assert.match(acceptance, /curl -sf -o \/dev\/null/);
      }
      const auth = manifest(prod, "Canary", "auth-service", NS).spec.analysis.webhooks as any[];
      const cmd = auth.find((h) => h.type === "pre-rollout").metadata.cmd as string;
      assert.match(
        cmd,
        /-H "Authorization: Bearer \$token" http:\/\/auth-service-canary\.ai-workflow-prod\/api\/auth\/userinfo/,
      );
      assert.match(
        cmd,
        /--max-time 10 http:\/\/auth-service-canary\.ai-workflow-prod\/api\/auth\/\.well-known\/openid-configuration/,
      );
    });

    it("the token command runs the client-credentials grant with the Secret's client and prints the access token", () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "token-"));
      // A stub curl that answers as an OAuth 2.0 token endpoint does (RFC 6749 section 4.4) and records its form.
      fs.writeFileSync(
        path.join(dir, "curl"),
        `#!/usr/bin/env bash\nprintf '%s\\n' "$@" > "${dir}/args"\necho '{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ.test.sig"}'\n`,
        { mode: 0o755 },
      );
      const run = spawnSync("sh", ["-c", LOADTEST_TOKEN_COMMAND], {
        env: {
          PATH: `${dir}:/usr/bin:/bin`,
          AIWP_TOKEN_URL: "https://login.microsoftonline.com/t/oauth2/v2.0/token",
          AIWP_TOKEN_SCOPE: "api://aiwp-prod/.default",
          AIWP_CLIENT_ID: "client",
          AIWP_CLIENT_SECRET: "s3cret",
        },
        encoding: "utf8",
      });
      assert.equal(run.status, 0, run.stderr);
      assert.equal(run.stdout.trim(), "eyJ.test.sig");
      const args = fs.readFileSync(path.join(dir, "args"), "utf8");
      for (const field of [
        "grant_type=client_credentials",
        "client_id=client",
        "client_secret=s3cret",
        "scope=api://aiwp-prod/.default",
      ]) {
        assert.ok(args.includes(field), field);
      }
    });

    it("the load tester reads the client from its Secret; endpoint and scope are plain values", () => {
      const env = (loadtesterValues({ tokenUrl: "https://idp/token", scope: "api://x/.default" }) as any).env;
      assert.deepEqual(
        env.filter((e: any) => e.valueFrom).map((e: any) => [e.name, e.valueFrom.secretKeyRef.name]),
        [
          ["AIWP_CLIENT_ID", LOADTEST_CLIENT_SECRET],
          ["AIWP_CLIENT_SECRET", LOADTEST_CLIENT_SECRET],
        ],
      );
      assert.equal((loadtesterValues() as any).env, undefined);
    });

    it("prod Canaries: 60 s progress deadline, 1m windows, the minimum request count as a template variable", async () => {
      const prod = await rendered("prod");
      for (const c of manifests(prod, "Canary")) {
        assert.equal(c.spec.progressDeadlineSeconds, 60, c.metadata.name);
        const direct = c.spec.analysis.metrics.filter((m: any) => m.name !== "critical-alerts");
        for (const m of direct) {
          assert.equal(m.interval, "1m");
          assert.deepEqual(m.templateVariables, { [MIN_REQUESTS_VARIABLE]: "100" });
        }
      }
    });

    it("the success-rate and latency templates abstain below the minimum and on NaN, and read 0% for an all-5xx canary", () => {
      for (const [q, passing] of [
        [successRateQuery(), 100],
        [latencyQuery(0.95), 0],
      ] as const) {
        assert.match(
          q,
          /\nand on\(\) \(sum\(increase\(istio_requests_total\{reporter="destination", .*\}\[\{\{ interval \}\}\]\)\) >= \{\{ variables\.minRequests \}\}\)\n/,
        );
        assert.ok(q.endsWith(`or on() vector(${passing})`));
      }
      assert.match(
        successRateQuery(),
        /\(sum\(rate\(istio_requests_total\{.*response_code!~"5\.\."\}\[\{\{ interval \}\}\]\)\) or on\(\) vector\(0\)\)/,
      );
    });

    it("the timing model's readiness probe and surge are the rendered Deployments'", async () => {
      const prod = await rendered("prod");
      for (const d of manifests(prod, "Deployment").filter((x) => x.metadata.namespace === NS)) {
        const probe = d.spec.template.spec.containers[0].readinessProbe;
        assert.deepEqual(
          {
            periodSeconds: probe.periodSeconds,
            failureThreshold: probe.failureThreshold,
            timeoutSeconds: probe.timeoutSeconds,
          },
          SERVICE_READINESS,
          d.metadata.name,
        );
        assert.equal(d.spec.strategy.rollingUpdate.maxSurge, `${SERVICE_MAX_SURGE_PERCENT}%`);
        assert.equal(d.spec.strategy.rollingUpdate.maxUnavailable, 0);
      }
    });
  });
});

describe("canary check templates under promtool", () => {
  // Flagger's template variables as Flagger fills them for api-gateway in prod (pkg/apis/flagger/v1beta1/metric.go).
  const fill = (q: string) =>
    q
      .replace(/\{\{ namespace \}\}/g, "ai-workflow-prod")
      .replace(/\{\{ target \}\}/g, "api-gateway")
      .replace(/\{\{ interval \}\}/g, "1m")
      .replace(/\{\{ variables\.minRequests \}\}/g, "100");
  // Istio's destination-reporter series as Prometheus stores them, scraped every 15s.
  const requests = (code: string, perScrape: number) => ({
    series: `istio_requests_total{reporter="destination", destination_workload_namespace="ai-workflow-prod", destination_workload="api-gateway", response_code="${code}"}`,
    values: `0+${perScrape}x40`,
  });
  const bucket = (le: string, perScrape: number) => ({
    series: `istio_request_duration_milliseconds_bucket{reporter="destination", destination_workload_namespace="ai-workflow-prod", destination_workload="api-gateway", le="${le}"}`,
    values: `0+${perScrape}x40`,
  });

  function promtoolCase(ctx: Mocha.Context, series: object[], expr: string, value: number) {
    const promtool = requireTool(ctx, "promtool");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "template-"));
    fs.writeFileSync(path.join(dir, "rules.yaml"), "groups: []\n");
    const test = {
      rule_files: ["rules.yaml"],
      evaluation_interval: "15s",
      tests: [
        {
          interval: "15s",
          input_series: series,
          promql_expr_test: [{ expr: fill(expr), eval_time: "5m", exp_samples: [{ labels: "{}", value }] }],
        },
      ],
    };
    fs.writeFileSync(path.join(dir, "test.yaml"), JSON.stringify(test));
    const run = spawnSync(promtool, ["test", "rules", "test.yaml"], { cwd: dir, encoding: "utf8" });
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  }

  it("success rate: 95% for a canary answering 5% 5xx at 600 requests a minute", function () {
    promtoolCase(this, [requests("200", 142.5), requests("503", 7.5)], successRateQuery(), 95);
  });

  it("success rate: 0% (a failed check) for a canary that answers only 5xx, although it has no non-5xx series", function () {
    promtoolCase(this, [requests("500", 150)], successRateQuery(), 0);
  });

  it("success rate abstains (100) below 100 requests in the window, and with no series at all (no NaN, no empty result)", function () {
    promtoolCase(this, [requests("200", 1), requests("500", 1)], successRateQuery(), 100);
    promtoolCase(
      this,
      [{ ...requests("200", 150), series: requests("200", 150).series.replace("api-gateway", "other") }],
      successRateQuery(),
      100,
    );
  });

  it("latency abstains (0) with no traffic, and reads the slow canary's P95 once it has enough requests", function () {
    promtoolCase(this, [bucket("+Inf", 0), bucket("1000.0", 0)], latencyQuery(0.95), 0);
    // Every request between 1 s and 2.5 s: P95 interpolates inside (1000, 2500].
    promtoolCase(
      this,
      [requests("200", 150), bucket("1000.0", 0), bucket("2500.0", 150), bucket("+Inf", 150)],
      latencyQuery(0.95),
      1000 + 1500 * 0.95,
    );
  });
});

describe("blue-green mirroring", () => {
  it("mirrors mirrorWeight percent of live traffic through the iterations when a blue-green service sets it, and not otherwise", () => {
    const file = path.resolve(__dirname, "..", "..", "Pulumi.prod.yaml");
    const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    const values = structuredClone(projectKeys(doc.config)) as Record<string, any>;
    for (const key of SECRET_KEYS) values[key] ??= { secure: "AAABAJ2g5xQ=" };
    const plain = parseSettings(values, "Pulumi.prod.yaml");
    const auth = (s: typeof plain) =>
      analysisSpec("auth-service", "ai-workflow-prod", s.services["auth-service"], s.delivery);
    assert.equal(auth(plain).mirror, undefined);
    values.services["auth-service"] = { canary: { mirrorWeight: 50 } };
    const mirrored = auth(parseSettings(values, "Pulumi.prod.yaml"));
    // Flagger v1.44 runBlueGreen mirrors while iterating; pkg/router/istio.go sets mirrorPercentage from mirrorWeight.
    assert.equal(mirrored.mirror, true);
    assert.equal(mirrored.mirrorWeight, 50);
  });
});
