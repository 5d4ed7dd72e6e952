import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { linearWeights, rolloutPlan } from "../../lib/rollout";
import { effectiveAnalysis, parseSettings, projectKeys, SettingsError } from "../../settings";

function prodValues(): Record<string, any> {
  const file = path.resolve(__dirname, "..", "..", "Pulumi.prod.yaml");
  const doc = yaml.load(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
  return structuredClone(projectKeys(doc.config)) as Record<string, any>;
}

describe("lib/rollout", () => {
  describe("Flagger's documented timing", () => {
    // Flagger's "Canary analysis" docs: interval 1m, threshold 10, maxWeight 50, stepWeight 2 "will run for
    // 25 minutes"; minimum time to promote = interval * (maxWeight / stepWeight), rollback = interval * threshold.
    const docs = { interval: "1m", threshold: 10, maxWeight: 50, stepWeight: 2 };

    it("walks maxWeight / stepWeight analysis steps, so the docs' example analyses for 25 minutes", () => {
      const plan = rolloutPlan("canary", docs);
      assert.equal(plan.analysisRuns, 50 / 2);
      assert.equal(plan.analysisRuns * plan.intervalSeconds, 25 * 60);
    });

    it("analyses interval * (maxWeight / stepWeight) = 10 minutes for stepWeight 5 up to 50", () => {
      const plan = rolloutPlan("canary", { ...docs, stepWeight: 5 });
      assert.equal(plan.analysisRuns * plan.intervalSeconds, 60 * (50 / 5));
    });

    it("rolls back interval * threshold after checks start failing (1m x 10 = 10 minutes)", () => {
      assert.equal(rolloutPlan("canary", docs).rollbackSeconds, 10 * 60);
    });

    it("promotes fully in (analysis steps + 2) intervals: the promotion and the finalising run", () => {
      const plan = rolloutPlan("canary", { stepWeights: [5, 25, 50], interval: "1m", threshold: 2 });
      assert.equal(plan.promotionSeconds, (3 + 2) * 60);
      assert.equal(plan.steps, "5% -> 25% -> 50% -> 100%");
    });

    it("counts iterations as the analysis runs of blue-green and A/B", () => {
      const plan = rolloutPlan("blueGreen", { iterations: 5, interval: "30s", threshold: 3 });
      assert.equal(plan.analysisRuns, 5);
      assert.equal(plan.promotionSeconds, (5 + 2) * 30);
      assert.equal(plan.rollbackSeconds, 3 * 30);
    });

    it("ends linear weights at maxWeight even when it is not a multiple of stepWeight", () => {
      // Flagger promotes once the weight reaches maxWeight (fluxcd/flagger#189).
      assert.deepEqual(linearWeights(20, 50), [20, 40, 50]);
    });

    it("has no analysis for a rolling update", () => {
      const plan = rolloutPlan("rolling", { interval: "1m", threshold: 2 });
      assert.equal(plan.rollbackSeconds, 0);
      assert.equal(plan.analysisRuns, 0);
    });
  });

  describe("prod's rollback budget", () => {
    it("rolls every prod service back within delivery.canary.maxRollbackSeconds (120 s)", () => {
      const settings = parseSettings(prodValues(), "Pulumi.prod.yaml");
      assert.equal(settings.delivery.canary.maxRollbackSeconds, 120);
      for (const [name, svc] of Object.entries(settings.services)) {
        const plan = rolloutPlan(svc.strategy, effectiveAnalysis(settings.delivery.canary, svc.canary));
        assert.ok(plan.rollbackSeconds <= 120, `${name} rolls back in ${plan.rollbackSeconds}s`);
      }
    });

    it("rejects a service override whose worst-case rollback exceeds the budget, naming the key", () => {
      const values = prodValues();
      values.services["workflow-service"] = { canary: { threshold: 5 } };
      assert.throws(
        () => parseSettings(values, "Pulumi.prod.yaml"),
        (e: unknown) =>
          e instanceof SettingsError &&
          e.issues.some(
            (i) => i.path.startsWith("services.workflow-service.canary") && /300s exceeds/.test(i.message),
          ),
      );
    });

    it("accepts a longer interval once the threshold brings the product back within 120 s", () => {
      const values = prodValues();
      values.services["workflow-service"] = { canary: { interval: "2m", threshold: 1 } };
      assert.doesNotThrow(() => parseSettings(values, "Pulumi.prod.yaml"));
    });
  });
});
