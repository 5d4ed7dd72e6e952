import * as assert from "node:assert/strict";
import { DIRECT_MODES } from "../../lib/flaggerTiming";
import { stackValues } from "../support/settings";
import { REQUEST_WINDOW } from "../../components/observability/rules";
import { durationSeconds } from "../../lib/duration";
import {
  ALERT_WINDOW_SECONDS,
  DEFAULT_ENVIRONMENT,
  linearWeights,
  rolloutPlan,
  servicePlan,
} from "../../lib/rollout";
import { effectiveAnalysis, parseSettings, SettingsError, type Settings } from "../../settings";

const STACKS = ["dev", "staging", "prod", "dr"] as const;

function plans(settings: Settings) {
  return Object.entries(settings.services).map(([name, svc]) => ({
    name,
    plan: servicePlan(settings.observability, svc, effectiveAnalysis(settings.delivery.canary, svc.canary)),
  }));
}

/** The issues parseSettings reports for prod after `edit` (empty when it parses). */
function issuesAfter(edit: (v: Record<string, any>) => void, stack = "prod") {
  const values = stackValues(stack);
  edit(values);
  try {
    parseSettings(values, `Pulumi.${stack}.yaml`);
    return [];
  } catch (e) {
    if (e instanceof SettingsError) return e.issues;
    throw e;
  }
}

describe("lib/rollout", () => {
  describe("plans from an analysis", () => {
    it("names the steps of a weighted canary and of an iterations analysis", () => {
      assert.equal(
        rolloutPlan("canary", { stepWeights: [5, 25, 50], interval: "1m", threshold: 2 }).steps,
        "5% -> 25% -> 50% -> 100%",
      );
      assert.equal(
        rolloutPlan("blueGreen", { iterations: 5, interval: "30s", threshold: 3 }).steps,
        "5 iterations",
      );
    });

    it("ends linear weights at maxWeight even when it is not a multiple of stepWeight", () => {
      // Flagger promotes once the weight reaches maxWeight (scheduler.go runCanary: canaryWeight >= maxWeight).
      assert.deepEqual(linearWeights(20, 50), [20, 40, 50]);
    });

    it("has no analysis for a rolling update", () => {
      const plan = rolloutPlan("rolling", { interval: "1m", threshold: 2 });
      assert.equal(plan.rollbackSeconds, 0);
      assert.equal(plan.analysisRuns, 0);
    });

    it("no longer reads threshold x interval as the rollback: 1m x 2 is 220 s from onset, not 120 s", () => {
      const plan = rolloutPlan(
        "canary",
        {
          stepWeights: [5, 25, 50],
          interval: "1m",
          threshold: 2,
          metricWindow: "1m",
          successRatePercent: 95,
        },
        { ...DEFAULT_ENVIRONMENT, scrapeSeconds: 15 },
      );
      // Two 15 s scrapes of the new 5xx series, the tick phase, two failed checks, the route push.
      assert.equal(plan.rollback.hard5xx, 15 + 15 + 60 + 2 * 60 + 10);
      assert.notEqual(plan.rollbackSeconds, 120);
    });
  });

  it("the model's alert window is the rate window of the recorded series the canary alerts read", () => {
    assert.equal(durationSeconds(REQUEST_WINDOW), ALERT_WINDOW_SECONDS);
  });

  describe("every stack's plan from the model", () => {
    for (const stack of STACKS) {
      it(`${stack}: every directly checked failure mode rolls back within delivery.canary.maxRollbackSeconds`, () => {
        const settings = parseSettings(stackValues(stack), `Pulumi.${stack}.yaml`);
        const budget = settings.delivery.canary.maxRollbackSeconds;
        for (const { name, plan } of plans(settings)) {
          for (const mode of DIRECT_MODES) {
            assert.ok(
              plan.rollback[mode] <= budget,
              `${stack} ${name} ${mode}: ${plan.rollback[mode]} s > ${budget} s`,
            );
          }
        }
      });
    }

    it("prod: hard 5xx, latency and an unready canary roll back within 120 s of onset for every service", () => {
      const settings = parseSettings(stackValues("prod"), "Pulumi.prod.yaml");
      assert.equal(settings.delivery.canary.maxRollbackSeconds, 120);
      for (const { name, plan } of plans(settings)) {
        if (plan.strategy === "rolling") continue;
        for (const mode of DIRECT_MODES)
          assert.ok(plan.rollback[mode] <= 120, `${name} ${mode} ${plan.rollback[mode]}`);
      }
    });

    it("prod: without holds every strategy reaches 100% (and Succeeded) in under 5 minutes", () => {
      const settings = parseSettings(stackValues("prod"), "Pulumi.prod.yaml");
      const strategies = new Set<string>();
      for (const { name, plan } of plans(settings)) {
        if (plan.strategy === "rolling") continue;
        strategies.add(plan.strategy);
        assert.ok(plan.fullWithoutHoldsSeconds < 300, `${name} 100% in ${plan.fullWithoutHoldsSeconds} s`);
        assert.ok(
          plan.succeededWithoutHoldsSeconds < 300,
          `${name} Succeeded in ${plan.succeededWithoutHoldsSeconds} s`,
        );
      }
      assert.deepEqual([...strategies].sort(), ["abTest", "blueGreen", "canary"]);
    });

    it("prod with the seeds' holds (5%: 12h, 25%: 6h, 50%: 6h): about 24 h to 100%, rollback still within 120 s", () => {
      const settings = parseSettings(stackValues("prod"), "Pulumi.prod.yaml");
      assert.deepEqual(settings.delivery.canary.holds, { "5": "12h", "25": "6h", "50": "6h" });
      const canaries = plans(settings).filter((p) => p.plan.strategy === "canary");
      assert.ok(canaries.length > 0);
      for (const { name, plan } of canaries) {
        assert.ok(
          plan.fullSeconds >= 24 * 3600 && plan.fullSeconds < 24 * 3600 + 600,
          `${name}: ${plan.fullSeconds} s`,
        );
        assert.deepEqual(
          plan.holdTimeline.map((h) => h.weight),
          [5, 25, 50],
        );
        assert.ok(plan.rollbackSeconds <= 120);
      }
    });
  });

  describe("settings rules name each impossible combination", () => {
    const has = (issues: { path: string; message: string }[], key: string, rule: RegExp) =>
      assert.ok(
        issues.some((i) => i.path === key && rule.test(i.message)),
        `expected ${key} ~ ${rule}, got:\n${issues.map((i) => `${i.path}: ${i.message}`).join("\n")}`,
      );

    it("a hold on a weight that is not a step", () => {
      has(
        issuesAfter((v) => (v.delivery.canary.holds = { "10": "1h" })),
        "delivery.canary.holds.10",
        /not a step of this canary \(steps: 5, 25, 50\)/,
      );
    });

    it("a hold shorter than the analysis interval", () => {
      has(
        issuesAfter((v) => (v.delivery.canary.holds = { "5": "10s" })),
        "delivery.canary.holds.5",
        /shorter than the analysis interval 15s/,
      );
    });

    it("holds with blue-green", () => {
      has(
        issuesAfter((v) => (v.services["auth-service"] = { canary: { holds: { "5": "1h" } } })),
        "services.auth-service.canary.holds",
        /blue-green and A\/B run iterations/,
      );
    });

    it("a service with its own stepping does not inherit the stack's holds", () => {
      const issues = issuesAfter(
        (v) => (v.services["workflow-service"] = { canary: { stepWeights: [10, 100] } }),
      );
      assert.deepEqual(issues, []);
    });

    it("a rollback budget the model says cannot be met, with the fastest figures it could reach", () => {
      has(
        issuesAfter((v) => (v.services["workflow-service"] = { canary: { interval: "2m", threshold: 1 } })),
        "services.workflow-service.canary",
        /cannot be met .* even at threshold 1 \(hard5xx 2\d\ds/,
      );
    });

    it("a budget exceeded by the threshold alone names the failure modes and their worst case from onset", () => {
      has(
        issuesAfter((v) => (v.services["workflow-service"] = { canary: { threshold: 6 } })),
        "services.workflow-service.canary",
        /worst case from fault onset \(hard5xx 135s, latency 137s\) exceeds delivery.canary.maxRollbackSeconds \(120s\); lower/,
      );
    });

    it("an unready canary waiting for the default 600 s deadline breaks prod's budget", () => {
      has(
        issuesAfter((v) => (v.services["api-gateway"] = { canary: { progressDeadlineSeconds: 600 } })),
        "services.api-gateway.canary",
        /unready 642s/,
      );
    });

    it("a minimum request count the load test alone cannot reach in one window", () => {
      has(
        issuesAfter((v) => (v.delivery.loadTest = { requestsPerSecond: 1 })),
        "delivery.canary.minRequests",
        /100 exceeds the 60 requests the load test sends per metricWindow \(1 rps x 1m\)/,
      );
    });

    it("mirroring outside blue-green", () => {
      has(
        issuesAfter((v) => (v.services["api-gateway"] = { canary: { mirrorWeight: 50 } })),
        "services.api-gateway.canary.mirrorWeight",
        /only blue-green mirrors/,
      );
    });
  });
});
