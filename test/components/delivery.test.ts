import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { manifest, manifests, ofType, rendered } from "../support/estate";
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
