import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { dashboardExpressions, dashboards } from "../../components/observability/dashboards";
import { PLATFORM_ALERTS, alertRules, ruleExpressions } from "../../components/observability/rules";
import { alertGateQuery, latencyQuery, successRateQuery } from "../../components/metricTemplates";
import {
  CANARY_SCOPE,
  CONTRACT_METRICS,
  EXPORTERS,
  openMetricsFloat,
  storedLabels,
  seriesNotation as seriesNotationOf,
  storedSeries,
} from "../../lib/telemetry";
import { STACKS, rendered } from "../support/estate";
import { requireTool, runTool } from "../support/tools";
import {
  recordedLabelSets,
  recordedLabels,
  recordedSelectorProblems,
  selectorProblems,
  vectorSelectors,
} from "./selectors";

/** Grafana's and Flagger's template variables replaced by values, so the query is plain PromQL. */
function substitute(expr: string): string {
  return expr
    .replace(/\$__range/g, "1h")
    .replace(/\$__rate_interval/g, "1m")
    .replace(/\$service/g, "api-gateway")
    .replace(/\$namespace/g, "ai-workflow-prod")
    .replace(/\{\{ interval \}\}/g, "1m")
    .replace(/\{\{ target \}\}/g, "api-gateway")
    .replace(/\{\{ namespace \}\}/g, "ai-workflow-prod")
    .replace(/\{\{ variables\.[a-zA-Z0-9_]+ \}\}/g, "1");
}

describe("telemetry contract: stored label sets", () => {
  it("formats le as Prometheus 3 stores it (OpenMetrics floats)", () => {
    assert.equal(openMetricsFloat(250), "250.0");
    assert.equal(openMetricsFloat(0.5), "0.5");
    assert.equal(openMetricsFloat(1), "1.0");
    assert.equal(openMetricsFloat(300000), "300000.0");
    assert.equal(openMetricsFloat(1800000), "1.8e+06");
    assert.equal(openMetricsFloat(Infinity), "+Inf");
  });

  it("adds the operator's target labels and renames clashes to exported_* where honor_labels is off", () => {
    // Velero's ServiceMonitor keeps honor_labels off: a scraped `namespace` would be stored as exported_namespace.
    const velero = storedLabels("velero_backup_failure_total", { schedule: "hourly" });
    assert.equal(velero.job, "velero");
    assert.equal(velero.namespace, "velero");
    assert.equal(velero.endpoint, "http-monitoring");
    // Flagger's PodMonitor honours labels: the canary's namespace survives the target's istio-system.
    const weight = storedLabels("flagger_canary_weight", {
      workload: "api-gateway",
      namespace: "ai-workflow-prod",
    });
    assert.equal(weight.namespace, "ai-workflow-prod");
    assert.equal(weight.job, "istio-system/flagger");
    assert.equal(weight.workload, "api-gateway");
    assert.equal(weight.name, undefined, "flagger_canary_weight has no name label");
    // The Istio sidecar's target labels carry the scraped pod's namespace; Istio's labels do not clash.
    const bucket = storedSeries(
      "istio_request_duration_milliseconds_bucket",
      { reporter: "destination", le: 250 },
      { namespace: "ai-workflow-prod" },
    );
    assert.match(bucket, /le="250\.0"/);
    assert.match(bucket, /job="istio-system\/envoy-stats"/);
  });

  it("refuses a label the exporter does not write", () => {
    assert.throws(
      () => storedLabels("flagger_canary_weight", { name: "api-gateway" }),
      /flagger_canary_weight has no label "name"/,
    );
    assert.throws(() => storedLabels("no_such_metric", {}), /not in the telemetry contract/);
  });

  it("reports selectors that can only select nothing", () => {
    const rec = new Map<string, Set<string>>();
    const problems = (e: string) => selectorProblems(e, rec);
    assert.deepEqual(problems('flagger_canary_weight{workload="a", namespace="b"}'), []);
    assert.match(problems('flagger_canary_weight{name="a"}').join(), /has no label "name"/);
    assert.match(problems('istio_request_duration_milliseconds_bucket{le="250"}').join(), /le="250\.0"/);
    assert.match(
      problems('kube_deployment_spec_replicas{job="kube-state"}').join(),
      /job="kube-state-metrics"/,
    );
    assert.match(problems("node_memory_MemAvailable_bytes").join(), /neither a contract metric/);
    assert.deepEqual(problems('container_memory_working_set_bytes{container!=""}'), []);
  });

  it("the README's telemetry contract section lists every contract metric", () => {
    const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");
    const start = readme.indexOf("### Telemetry contract");
    assert.ok(start >= 0, "README has a Telemetry contract section");
    const section = readme.slice(start, readme.indexOf("\n## ", start));
    for (const m of CONTRACT_METRICS) assert.ok(section.includes(`\`${m.name}`), `README lists ${m.name}`);
  });

  it("every exporter the contract names is either scraped or made by Prometheus itself", () => {
    for (const m of CONTRACT_METRICS) {
      const e = EXPORTERS[m.exporter];
      assert.ok("scrape" in e || m.type === "synthetic", `${m.name} has no scrape`);
    }
  });
});

describe("telemetry contract: readers", () => {
  for (const stack of STACKS) {
    it(`every rule expression of ${stack} selects contract metrics or recorded series with labels that exist`, async () => {
      const groups = alertRules((await rendered(stack)).config.settings);
      const rec = recordedLabels(groups);
      const sets = recordedLabelSets(groups);
      const problems = ruleExpressions(groups).flatMap((e) => [
        ...selectorProblems(e, rec),
        ...recordedSelectorProblems(e, sets),
      ]);
      // The check sees a recorded series selected with a value no recording rule writes.
      assert.match(
        recordedSelectorProblems('service:istio_requests:rate1m{track="stable"}', sets).join(),
        /no recording rule writes/,
      );
      assert.deepEqual(problems, [], problems.join("\n"));
    });

    it(`every dashboard panel of ${stack} reads series that exist (no panel that can only be empty)`, async () => {
      const settings = (await rendered(stack)).config.settings;
      const groups = alertRules(settings);
      const rec = recordedLabels(groups);
      const sets = recordedLabelSets(groups);
      for (const model of dashboards(settings)) {
        const panels = (model.json.panels ?? []) as { title?: string; targets?: { expr?: string }[] }[];
        for (const panel of panels) {
          for (const t of panel.targets ?? []) {
            if (!t.expr) continue;
            const expr = substitute(t.expr).replace(
              /ai-workflow-prod/g,
              `ai-workflow-${settings.environment}`,
            );
            const problems = [...selectorProblems(expr, rec), ...recordedSelectorProblems(expr, sets)];
            assert.deepEqual(problems, [], `${model.uid} panel "${panel.title}": ${problems.join("; ")}`);
          }
        }
        assert.ok(dashboardExpressions(model).length >= 5);
      }
    });
  }

  it("the MetricTemplates read contract metrics with labels that exist", () => {
    for (const q of [successRateQuery(), latencyQuery(0.95), latencyQuery(0.99), alertGateQuery()]) {
      const problems = selectorProblems(substitute(q), new Map());
      assert.deepEqual(problems, [], `${q}: ${problems.join("; ")}`);
    }
  });

  it("the alert gate counts canary-scoped critical alerts only, so service-wide SLO burns never fail a canary", async () => {
    const [gate] = vectorSelectors(substitute(alertGateQuery()));
    assert.equal(gate.metric, "ALERTS");
    const m = Object.fromEntries(gate.matchers.map((x) => [x.label, `${x.op}${x.value}`]));
    assert.equal(m[CANARY_SCOPE.label], `=${CANARY_SCOPE.value}`);
    assert.equal(m.severity, "=critical");
    const groups = alertRules((await rendered("prod")).config.settings);
    const alerts = groups.flatMap((g) => g.rules).filter((r) => "alert" in r);
    const scoped = (r: (typeof alerts)[number]) => r.labels?.[CANARY_SCOPE.label] === CANARY_SCOPE.value;
    for (const r of alerts) {
      const name = "alert" in r ? r.alert : "";
      if (name.startsWith("SLO") || (PLATFORM_ALERTS as readonly string[]).includes(name))
        assert.ok(!scoped(r), `${name} must not reach the gate`);
      if (name.startsWith("Canary")) assert.ok(scoped(r), `${name} must carry the gate's scope label`);
    }
  });

  it("the alert gate, evaluated by promtool over ALERTS as Prometheus writes them, ignores SLO burns and counts canary alerts", async function () {
    const promtool = requireTool(this, "promtool");
    const run = await rendered("prod");
    const ns = "ai-workflow-prod";
    const rules = alertRules(run.config.settings)
      .flatMap((g) => g.rules)
      .filter(
        (r) => "alert" in r && r.labels?.service === "api-gateway" && r.labels?.severity === "critical",
      );
    // ALERTS carries alertname, alertstate and the rule's labels (prometheus rules/alerting.go).
    const alerts = (name: string) =>
      rules
        .filter((r) => "alert" in r && r.alert === name)
        .map((r) => ({
          series: seriesNotationOf("ALERTS", { alertname: name, alertstate: "firing", ...(r.labels ?? {}) }),
          values: "1x10",
        }));
    const query = alertGateQuery()
      .replace(/\{\{ target \}\}/g, "api-gateway")
      .replace(/\{\{ namespace \}\}/g, ns);
    const cases: [string, string[], number][] = [
      ["nothing firing", [], 0],
      ["the service's SLO fast burns firing", ["SLOAvailabilityFastBurn", "SLOLatencyFastBurn"], 0],
      ["a past rollback", ["CanaryRolledBack"], 0],
      ["SLO burns and the canary's 5xx alert", ["SLOAvailabilityFastBurn", "CanaryHighErrorRate"], 1],
    ];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-gate-"));
    fs.writeFileSync(path.join(dir, "rules.yaml"), "groups: []\n");
    const tests = cases.map(([name, firing, expected]) => ({
      name: `alert gate with ${name}`,
      interval: "1m",
      input_series: firing.flatMap(alerts),
      promql_expr_test: [{ expr: query, eval_time: "5m", exp_samples: [{ labels: "{}", value: expected }] }],
    }));
    for (const [name, firing] of cases)
      for (const a of firing) assert.ok(alerts(a).length > 0, `${name}: a critical ${a} rule exists`);
    fs.writeFileSync(
      path.join(dir, "tests.yaml"),
      yaml.dump({ rule_files: ["rules.yaml"], tests }, { lineWidth: -1 }),
    );
    const result = runTool(promtool, ["test", "rules", "tests.yaml"], dir);
    assert.equal(result.status, 0, result.output);
  });
});
