import * as assert from "node:assert/strict";
import fc from "fast-check";
import {
  detectionSeconds,
  rolloutTiming,
  rolloutWaves,
  unreadySeconds,
  type TimingInputs,
} from "../../lib/flaggerTiming";
import {
  rollingUpdate,
  simulateRelease,
  simulateRollback,
  type FaultScenario,
  type SimSettings,
} from "../support/flaggerSim";

/** Inputs of the cluster audit's prod figures: interval 1m, threshold 2, [1m] windows, 15s scrape, 30s evaluation. */
const audited: TimingInputs = {
  strategy: "canary",
  intervalSeconds: 60,
  threshold: 2,
  weights: [5, 25, 50],
  iterations: 0,
  metricWindowSeconds: 60,
  successRatePercent: 95,
  latencyQuantile: 0.95,
  latencyP99Ms: 1000,
  scrapeSeconds: 15,
  evaluationSeconds: 30,
  alertWindowSeconds: 60,
  alertForSeconds: 120,
  progressDeadlineSeconds: 600,
  readiness: { periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 2 },
  podReadySeconds: 60,
  primaryReplicas: 3,
  maxSurgePercent: 25,
  holds: {},
  routePushSeconds: 10,
};

/** prod's choice: a 15s tick, threshold 3, a 10s mesh scrape, 15s rule evaluation, a 60 s progress deadline. */
const prodChoice: TimingInputs = {
  ...audited,
  intervalSeconds: 15,
  threshold: 3,
  scrapeSeconds: 10,
  evaluationSeconds: 15,
  progressDeadlineSeconds: 60,
};

describe("lib/flaggerTiming", () => {
  describe("worked examples (hand computation)", () => {
    it("hard 5xx at interval 1m, threshold 2: 15 s to the first 5xx sample, 15 s to its second (rate needs two), 60 s tick phase, 2 x 60 s, 10 s push = 220 s", () => {
      const t = rolloutTiming(audited);
      assert.equal(t.rollback.hard5xx, 15 + 15 + 60 + 2 * 60 + 10);
    });

    it("an unready canary waits out progressDeadlineSeconds 600: 17 s probe verdict + 600 s + 60 s tick + 10 s push = 687 s", () => {
      assert.equal(unreadySeconds(audited.readiness), 5 * 3 + 2);
      assert.equal(rolloutTiming(audited).rollback.unready, 17 + 600 + 60 + 10);
    });

    it("alert-gate only: a full 1m window of bad samples, two evaluations, for 2m, then the tick and 2 failed checks = 460 s", () => {
      // 15 + 60 + 15 (window of post-fault samples) + 2 x 30 (recording, then alerting group) + 120 (for)
      // = 270 s to firing; + 60 (tick) + 120 (threshold 2) + 10 (push).
      assert.equal(rolloutTiming(audited).rollback.alertGate, 270 + 60 + 120 + 10);
    });

    it("canary 5 -> 25 -> 50 at 1m with 60 s pods: 100% after 60 + 60 + 3 x 60 s and a 3-wave primary update (3 x 60 s), Succeeded 2 ticks later", () => {
      const t = rolloutTiming(audited);
      // detect tick, first ready tick (pre-rollout + 5%), 25%, 50%, promote.
      assert.equal(rolloutWaves(3, 25), 3);
      assert.equal(t.fullSeconds, 60 + 60 + 3 * 60 + 3 * 60);
      assert.equal(t.succeededSeconds, 60 + 60 + 3 * 60 + 3 * 60 + 60);
    });

    it("blue-green 5 iterations: all traffic on the new version at the switch tick (7 ticks + push), Succeeded after one more analysis, the primary update and finalising", () => {
      const t = rolloutTiming({ ...audited, strategy: "blueGreen", weights: [], iterations: 5 });
      assert.equal(t.fullSeconds, 60 + 60 + 4 * 60 + 60 + 10);
      assert.equal(t.succeededSeconds, 60 + 60 + 4 * 60 + 60 + 60 + 3 * 60 + 60);
    });

    it("prod's choice (15s tick, threshold 3, 10s scrape, 1m window, 60 s deadline) rolls back hard 5xx in 90 s and an unready canary in 102 s", () => {
      const prod = { ...prodChoice, podReadySeconds: 30 };
      const t = rolloutTiming(prod);
      assert.equal(t.rollback.hard5xx, 10 + 10 + 15 + 3 * 15 + 10);
      assert.equal(t.rollback.unready, 17 + 60 + 15 + 10);
      // 15 detect + 30 ready + 3 x 15 steps + 3 waves x 30 s.
      assert.equal(t.fullSeconds, 15 + 30 + 45 + 90);
    });

    it("the seeds' holds (5%: 12h, 25%: 6h, 50%: 6h) at a 15s tick put 100% at 24 h plus the steps, the ready wait and the primary update", () => {
      const t = rolloutTiming({
        ...audited,
        intervalSeconds: 15,
        podReadySeconds: 30,
        holds: { 5: 43200, 25: 21600, 50: 21600 },
      });
      assert.equal(t.fullSeconds, 15 + 30 + (1 + 2880) * 15 + (1 + 1440) * 15 * 2 + 3 * 30);
      assert.deepEqual(
        t.holdTimeline.map((h) => [h.weight, h.toSeconds - h.fromSeconds]),
        [
          [5, 43215],
          [25, 21615],
          [50, 21615],
        ],
      );
      assert.equal(t.fullWithoutHoldsSeconds, 15 + 30 + 45 + 90);
    });

    it("a large window needs more than two bad samples before a hard 5xx outweighs the tolerated 5%", () => {
      // 10 min window, 10 s scrape: span > 0.05 x 600 / 0.95 = 31.6 s, so 4 scrapes after the first sample.
      assert.equal(detectionSeconds(600, 10, 0.05), 10 + 4 * 10);
    });
  });

  describe("the model is never below a step-by-step simulation of the scheduler", () => {
    const settingsArb = fc
      .record({
        interval: fc.integer({ min: 10, max: 120 }),
        threshold: fc.integer({ min: 1, max: 6 }),
        window: fc.integer({ min: 20, max: 300 }),
        scrape: fc.constantFrom(5, 10, 15, 30),
        evaluation: fc.constantFrom(5, 10, 15, 30, 60),
        alertWindow: fc.constantFrom(60, 120, 300),
        alertFor: fc.constantFrom(0, 30, 60, 120, 300),
        progressDeadline: fc.integer({ min: 10, max: 900 }),
        successRatePercent: fc.constantFrom(90, 95, 99),
        latencyP99Ms: fc.constantFrom(300, 500, 1000, 2000),
        period: fc.integer({ min: 1, max: 10 }),
        failureThreshold: fc.integer({ min: 1, max: 5 }),
        timeout: fc.integer({ min: 1, max: 5 }),
      })
      .filter((s) => s.window >= 2 * s.scrape && s.alertWindow >= 2 * s.scrape && s.timeout <= s.period);
    const scenarioArb = fc.record({
      tickPhase: fc.double({ min: 0, max: 0.999, noNaN: true }),
      scrapePhase: fc.double({ min: 0, max: 0.999, noNaN: true }),
      probePhase: fc.double({ min: 0, max: 0.999, noNaN: true }),
      recordPhase: fc.double({ min: 0, max: 0.999, noNaN: true }),
      alertPhase: fc.double({ min: 0, max: 0.999, noNaN: true }),
      onsetExtra: fc.double({ min: 0, max: 600, noNaN: true }),
      rps: fc.double({ min: 2, max: 500, noNaN: true }),
      priorShare: fc.double({ min: 0, max: 0.999, noNaN: true }),
      slowness: fc.double({ min: 0.01, max: 1, noNaN: true }),
      excess: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
      crash: fc.boolean(),
    });

    function both(mode: "hard5xx" | "latency" | "unready" | "alertGate") {
      return fc.property(settingsArb, scenarioArb, (g, sc) => {
        const tolerated = 1 - g.successRatePercent / 100;
        const sim: SimSettings = {
          interval: g.interval,
          threshold: g.threshold,
          window: g.window,
          successRatePercent: g.successRatePercent,
          latencyP95Ms: Math.round(g.latencyP99Ms / 2),
          latencyP99Ms: g.latencyP99Ms,
          minRequests: 1,
          scrape: g.scrape,
          evaluation: g.evaluation,
          alertWindow: g.alertWindow,
          alertFor: g.alertFor,
          // Below what the direct check tolerates, so only the alert catches it.
          alertMargin: tolerated / 2,
          progressDeadline: g.progressDeadline,
          probe: { period: g.period, failureThreshold: g.failureThreshold, timeout: g.timeout },
          push: 10,
        };
        const scenario: FaultScenario = {
          ...sc,
          onset: Math.max(g.window, g.alertWindow) + g.scrape + sc.onsetExtra,
          priorFailures: Math.floor(sc.priorShare * g.threshold),
        };
        const model = rolloutTiming({
          ...audited,
          intervalSeconds: g.interval,
          threshold: g.threshold,
          metricWindowSeconds: g.window,
          successRatePercent: g.successRatePercent,
          latencyP99Ms: g.latencyP99Ms,
          scrapeSeconds: g.scrape,
          evaluationSeconds: g.evaluation,
          alertWindowSeconds: g.alertWindow,
          alertForSeconds: g.alertFor,
          progressDeadlineSeconds: g.progressDeadline,
          readiness: {
            periodSeconds: g.period,
            failureThreshold: g.failureThreshold,
            timeoutSeconds: g.timeout,
          },
          routePushSeconds: 10,
        }).rollback[mode];
        const simulated = simulateRollback(mode, sim, scenario);
        assert.ok(simulated !== undefined, `${mode}: the simulation never rolled back`);
        // The healthy canary passed every check before the fault: no rollback tick precedes the onset.
        assert.ok(simulated >= sim.push, `${mode}: rolled back ${simulated} s after onset, before the fault`);
        assert.ok(
          simulated <= model + 1e-6,
          `${mode}: simulated ${simulated.toFixed(2)} s > model ${model} s`,
        );
      });
    }

    for (const mode of ["hard5xx", "latency", "unready", "alertGate"] as const) {
      it(`rollback from onset, ${mode}: simulated <= model over random settings and phases`, () => {
        fc.assert(both(mode), { numRuns: mode === "unready" ? 400 : 150 });
      });
    }

    it("promotion to 100% and to Succeeded, every strategy, with and without holds: simulated <= model", () => {
      const arb = fc.record({
        strategy: fc.constantFrom("canary" as const, "blueGreen" as const, "abTest" as const),
        interval: fc.integer({ min: 10, max: 120 }),
        weights: fc.uniqueArray(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 5 }),
        iterations: fc.integer({ min: 1, max: 10 }),
        podReady: fc.integer({ min: 1, max: 300 }),
        replicas: fc.integer({ min: 1, max: 40 }),
        holdsOn: fc.boolean(),
        holdSeconds: fc.array(fc.integer({ min: 0, max: 7200 }), { minLength: 5, maxLength: 5 }),
        applyPhase: fc.double({ min: 0, max: 0.999, noNaN: true }),
        canaryReady: fc.double({ min: 0, max: 1, noNaN: true }),
        waves: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 40, maxLength: 40 }),
      });
      fc.assert(
        fc.property(arb, (g) => {
          const weights = [...g.weights].sort((a, b) => a - b);
          const holds: Record<number, number> = {};
          if (g.holdsOn && g.strategy === "canary") weights.forEach((w, i) => (holds[w] = g.holdSeconds[i]));
          const model = rolloutTiming({
            ...audited,
            strategy: g.strategy,
            intervalSeconds: g.interval,
            weights,
            iterations: g.iterations,
            podReadySeconds: g.podReady,
            primaryReplicas: g.replicas,
            holds,
          });
          const sim = simulateRelease(
            {
              strategy: g.strategy,
              interval: g.interval,
              weights,
              iterations: g.iterations,
              podReady: g.podReady,
              holds,
              push: 10,
            },
            { applyPhase: g.applyPhase, canaryReady: g.canaryReady, waves: g.waves, replicas: g.replicas },
          );
          assert.ok(
            sim.full <= model.fullSeconds + 1e-6,
            `100%: simulated ${sim.full} > model ${model.fullSeconds}`,
          );
          assert.ok(
            sim.succeeded <= model.succeededSeconds + 1e-6,
            `Succeeded: simulated ${sim.succeeded} > model ${model.succeededSeconds}`,
          );
        }),
        { numRuns: 300 },
      );
    });

    it("prod's rollback bounds are nearly reached: over random phases the simulation comes within 20% of the model in every mode", () => {
      // Prod: 15s tick, threshold 3, 1m window, 10s mesh scrape, 15s evaluation, 60 s deadline.
      const sim: SimSettings = {
        interval: 15,
        threshold: 3,
        window: 60,
        successRatePercent: 95,
        latencyP95Ms: 500,
        latencyP99Ms: 1000,
        minRequests: 100,
        scrape: 10,
        evaluation: 15,
        alertWindow: 60,
        alertFor: 120,
        alertMargin: 0.02,
        progressDeadline: 60,
        probe: { period: 5, failureThreshold: 3, timeout: 2 },
        push: 10,
      };
      const model = rolloutTiming(prodChoice).rollback;
      const scenarios = fc.sample(scenarioArb, { numRuns: 300, seed: 42 });
      for (const mode of ["hard5xx", "latency", "unready", "alertGate"] as const) {
        const worst = Math.max(
          ...scenarios.map((sc) =>
            simulateRollback(mode, sim, {
              ...sc,
              onset: 70 + sc.onsetExtra,
              priorFailures: 0,
              rps: 20 + sc.rps,
            })!,
          ),
        );
        assert.ok(worst <= model[mode], `${mode}: ${worst} > ${model[mode]}`);
        // Latency is the loosest: its bucket series exist before the fault, the model still counts a second sample.
        assert.ok(
          worst >= 0.8 * model[mode],
          `${mode}: the worst simulated ${worst.toFixed(1)} s is far below ${model[mode]} s`,
        );
      }
    });

    it("the worst case is reached: with the tick just after apply and slow pods the simulation meets the model exactly", () => {
      const g = { interval: 60, weights: [5, 25, 50], podReady: 60 };
      const sim = simulateRelease(
        { strategy: "canary", ...g, iterations: 0, holds: {}, push: 10 },
        { applyPhase: 1e-9, canaryReady: 1, waves: [1, 1, 1], replicas: 3 },
      );
      const model = rolloutTiming({ ...audited, primaryReplicas: 3 });
      assert.ok(Math.abs(sim.full - model.fullSeconds) < 1e-6, `${sim.full} vs ${model.fullSeconds}`);
      assert.ok(Math.abs(sim.succeeded - model.succeededSeconds) < 1e-6);
    });

    it("the simulated rolling update has the model's number of waves for every replica count", () => {
      for (let n = 1; n <= 60; n++)
        assert.equal(rollingUpdate(n).length, rolloutWaves(n, 25), `replicas ${n}`);
    });
  });
});
