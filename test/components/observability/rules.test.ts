import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import {
  CANARY_ALERTS,
  PLATFORM_ALERTS,
  SLO_ALERTS,
  canaryTargets,
  latencyBucket,
  ruleExpressions,
  type AlertingRule,
  type RuleGroup,
} from "../../../components/observability/rules";
import { RUNBOOK_BASE_URL } from "../../../lib/names";
import type { ProgramRun } from "../../../tools/harness";
import { renderFiles } from "../../../tools/outputs";
import { STACKS, manifests, rendered, renderWith, type StackName } from "../../support/estate";
import { ruleTestSuites, rulesOfService, type RuleTestSuite } from "../../support/ruleTests";
import { promqlErrors, requireTool, runTool } from "../../support/tools";

/** The rendered prometheus/rules.yaml of a run. */
function renderedGroups(run: ProgramRun): RuleGroup[] {
  return (yaml.load(renderFiles(run).get("prometheus/rules.yaml")!) as { groups: RuleGroup[] }).groups;
}

const alertsOf = (groups: RuleGroup[]) =>
  groups.flatMap((g) => g.rules.filter((r): r is AlertingRule => "alert" in r));

/** Writes each suite's rules and tests to a temporary directory and runs `promtool test rules`. */
function runSuites(
  promtool: string,
  suites: RuleTestSuite[],
): { scope: string; status: number | null; output: string }[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-promtool-"));
  return suites.map((suite) => {
    const sub = path.join(dir, suite.scope);
    fs.mkdirSync(sub);
    fs.writeFileSync(
      path.join(sub, "rules.yaml"),
      yaml.dump({ groups: suite.groups }, { lineWidth: -1, noRefs: true }),
    );
    fs.writeFileSync(path.join(sub, "tests.yaml"), yaml.dump(suite.tests, { lineWidth: -1, noRefs: true }));
    return { scope: suite.scope, ...runTool(promtool, ["test", "rules", "tests.yaml"], sub) };
  });
}

/** One service of each Flagger strategy: the stacks other than prod test these to keep the suite short. */
function onePerStrategy(run: ProgramRun): string[] {
  const seen = new Map<string, string>();
  for (const [name, svc] of Object.entries(run.config.settings.services))
    if (!seen.has(svc.strategy)) seen.set(svc.strategy, name);
  return [...seen.values()];
}

describe("observability rules", () => {
  it("every alert of the contract exists for every Flagger-managed service, with its labels and annotations", async () => {
    const run = await rendered("prod");
    const settings = run.config.settings;
    const alerts = alertsOf(renderedGroups(run));
    for (const t of canaryTargets(settings)) {
      const weighted = t.settings.strategy === "canary";
      for (const name of [...CANARY_ALERTS, ...SLO_ALERTS]) {
        if (name === "CanaryTrafficAllocationAbnormal" && !weighted) continue;
        const found = alerts.filter((a) => a.alert === name && a.labels.service === t.service);
        assert.ok(found.length > 0, `${name} for ${t.service}`);
        for (const a of found) {
          assert.equal(a.labels.namespace, "ai-workflow-prod");
          assert.equal(a.labels.team, settings.services[t.service].team);
          assert.match(a.labels.severity, /^(critical|warning|info)$/);
          assert.equal(a.annotations.runbook_url, `${RUNBOOK_BASE_URL}/${name}.md`);
          assert.ok(a.annotations.summary && a.annotations.description);
        }
      }
    }
    for (const name of PLATFORM_ALERTS)
      assert.ok(
        alerts.some((a) => a.alert === name),
        name,
      );
  });

  it("canary alerts select the canary workload exactly, never <service>-primary", async () => {
    const run = await rendered("prod");
    const groups = renderedGroups(run);
    for (const t of canaryTargets(run.config.settings)) {
      const canaryRecords = groups
        .find((g) => g.name === "aiwp-canary.recording")!
        .rules.filter((r) => r.labels?.service === t.service && r.labels?.track === "canary");
      assert.ok(canaryRecords.length >= 6);
      for (const r of canaryRecords) {
        assert.ok(
          !r.expr.includes(`${t.service}-primary`),
          `${"record" in r ? r.record : ""} of ${t.service} mentions the primary`,
        );
        assert.ok(
          r.expr.includes(`destination_workload="${t.service}"`) ||
            r.expr.includes(`pod=~"${t.service}-[a-z0-9]+-[a-z0-9]+"`),
        );
      }
    }
  });

  it("thresholds and for durations come from observability.alerts of the stack", async () => {
    const dev = alertsOf(renderedGroups(await rendered("dev")));
    const prod = alertsOf(renderedGroups(await rendered("prod")));
    const pick = (alerts: AlertingRule[]) =>
      alerts.find((a) => a.alert === "CanaryHighErrorRate" && a.labels.service === "api-gateway")!;
    assert.match(pick(dev).expr, /> 0\.1$/);
    assert.equal(pick(dev).for, "1m");
    assert.match(pick(prod).expr, /> 0\.05$/);
    assert.equal(pick(prod).for, "2m");
  });

  it("the latency SLI counts requests under the largest Istio bucket within the threshold", () => {
    assert.equal(latencyBucket(300), 250);
    assert.equal(latencyBucket(500), 500);
    assert.throws(() => latencyBucket(0.1), /below Istio's smallest bucket/);
  });

  it("PrometheusRules are labelled for the estate's Prometheus and live in monitoring", async () => {
    const rules = manifests(await rendered("prod"), "PrometheusRule");
    assert.deepEqual(rules.map((r) => r.metadata.name).sort(), ["aiwp-canary", "aiwp-platform", "aiwp-slo"]);
    for (const r of rules) {
      assert.equal(r.metadata.namespace, "monitoring");
      assert.equal(r.metadata.labels["aiwp.io/monitoring"], "estate");
    }
  });

  it("every rule expression parses as PromQL (Prometheus's Lezer grammar)", async () => {
    for (const stack of STACKS) {
      for (const expr of ruleExpressions(renderedGroups(await rendered(stack))))
        assert.deepEqual(promqlErrors(expr), [], expr);
    }
    assert.notDeepEqual(promqlErrors("sum(rate(x[5m])"), [], "the parser reports errors");
  });

  for (const stack of STACKS) {
    it(`promtool check rules accepts the rendered rules of ${stack}`, async function () {
      const promtool = requireTool(this, "promtool");
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-rules-"));
      const file = path.join(dir, "rules.yaml");
      fs.writeFileSync(file, renderFiles(await rendered(stack)).get("prometheus/rules.yaml")!);
      const r = runTool(promtool, ["check", "rules", file]);
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /SUCCESS: \d+ rules found/);
    });
  }

  for (const stack of STACKS) {
    it(`promtool test rules: generated threshold, primary-fault and burn-rate cases pass on ${stack}`, async function () {
      const promtool = requireTool(this, "promtool");
      const run = await rendered(stack as StackName);
      const services = stack === "prod" ? undefined : onePerStrategy(run);
      const suites = ruleTestSuites(run.config.settings, renderedGroups(run), "rules.yaml", services);
      assert.ok(suites.reduce((n, s) => n + s.tests.tests.length, 0) > 20);
      for (const r of runSuites(promtool, suites)) assert.equal(r.status, 0, `${r.scope}:\n${r.output}`);
    });
  }

  for (const stack of STACKS) {
    it(`every alert of ${stack} has a generated case that fires it from stored-form series`, async () => {
      const run = await rendered(stack as StackName);
      const groups = renderedGroups(run);
      const suites = ruleTestSuites(run.config.settings, groups, "rules.yaml");
      const fired = new Set<string>();
      for (const suite of suites)
        for (const tc of suite.tests.tests)
          for (const check of tc.alert_rule_test)
            for (const exp of check.exp_alerts)
              fired.add(`${check.alertname}/${exp.exp_labels.service}/${exp.exp_labels.severity}`);
      const missing = alertsOf(groups)
        .map((a) => `${a.alert}/${a.labels.service}/${a.labels.severity}`)
        .filter((k) => !fired.has(k) && !k.includes("{{"));
      assert.deepEqual([...new Set(missing)], []);
    });
  }

  it("raising errorRatePercent moves the firing point: the new settings' tests pass, the old ones fail", async function () {
    const promtool = requireTool(this, "promtool");
    const before = await rendered("prod");
    const after = await renderWith("prod", (c) => {
      c["aiwp-estate:observability"].alerts.errorRatePercent = 20;
    });
    const groups = rulesOfService(renderedGroups(after), "api-gateway");
    const only = ["api-gateway"];
    const errorTests = (suites: RuleTestSuite[]) =>
      suites
        .filter((s) => s.scope === "api-gateway")
        .map((s) => ({
          ...s,
          groups,
          tests: { ...s.tests, tests: s.tests.tests.filter((t) => t.name.includes("CanaryHighErrorRate")) },
        }));
    const fresh = errorTests(
      ruleTestSuites(after.config.settings, renderedGroups(after), "rules.yaml", only),
    );
    const stale = errorTests(
      ruleTestSuites(before.config.settings, renderedGroups(before), "rules.yaml", only),
    );
    assert.equal(fresh[0].tests.tests.length, 3);
    assert.equal(runSuites(promtool, fresh)[0].status, 0, "tests generated from the edited settings pass");
    const old = runSuites(promtool, stale)[0];
    assert.notEqual(old.status, 0, "tests generated from the old threshold must fail on the new rules");
    assert.match(old.output, /CanaryHighErrorRate fires 2m after the canary's 5xx ratio reaches 10%/);
  });

  // The generated series come from the telemetry contract, not from the rules: a rule that selects a label
  // the stored series do not carry (or a value in a form Prometheus 3 does not store) fails its test.
  for (const [fault, edit, expectedFailure] of [
    [
      "flagger_canary_weight selected by name instead of workload",
      (e: string) => e.replace(/flagger_canary_weight\{([^}]*)workload=/g, "flagger_canary_weight{$1name="),
      /CanaryTrafficAllocationAbnormal fires/,
    ],
    [
      'an integer le (Prometheus 3 stores le="250.0")',
      (e: string) => e.replace(/le="(\d+)\.0"/g, 'le="$1"'),
      /SLOLatencyFastBurn pages/,
    ],
    [
      "kube-state-metrics series selected by a pod label they do not carry",
      (e: string) =>
        e.replace(
          /kube_deployment_status_replicas_available\{/g,
          'kube_deployment_status_replicas_available{pod=~"api-gateway-.+", ',
        ),
      /CanaryUnhealthyInstances fires/,
    ],
    [
      "Flagger's status read from another job",
      (e: string) => e.replace(/flagger_canary_status\{job="[^"]*"/g, 'flagger_canary_status{job="flagger"'),
      /CanaryRolledBack fires/,
    ],
  ] as const) {
    it(`a rule with ${fault} fails its generated test`, async function () {
      const promtool = requireTool(this, "promtool");
      const run = await rendered("prod");
      const groups = renderedGroups(run);
      const broken = groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, expr: edit(r.expr) })) }));
      assert.notDeepEqual(broken, groups, "the edit changes the rules");
      const [suite] = ruleTestSuites(run.config.settings, broken, "rules.yaml", ["api-gateway"]);
      const result = runSuites(promtool, [{ ...suite, groups: rulesOfService(broken, "api-gateway") }])[0];
      assert.notEqual(result.status, 0, "the broken rule must fail");
      assert.match(result.output, expectedFailure);
    });
  }
});
