import { canaryHasAlerts } from "../../policies/delivery/canaryHasAlerts";
import { canaryHasMetrics } from "../../policies/delivery/canaryHasMetrics";
import { canaryHasServiceMonitor } from "../../policies/delivery/canaryHasServiceMonitor";
import { flaggerAnalysisValid } from "../../policies/delivery/flaggerAnalysisValid";
import { rollbackBudget } from "../../policies/delivery/rollbackBudget";
import { assertCompliant, assertViolates, mutate, resource } from "./support";

const NS = "ai-workflow-prod";
const CANARY = "kubernetes:flagger.app/v1beta1:Canary";
const canary = {
  apiVersion: "flagger.app/v1beta1",
  kind: "Canary",
  metadata: { name: "api-gateway", namespace: NS },
  spec: {
    targetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "api-gateway" },
    service: { port: 8080, trafficPolicy: { tls: { mode: "ISTIO_MUTUAL" } } },
    analysis: {
      interval: "1m",
      threshold: 2,
      stepWeights: [5, 25, 50],
      metrics: [
        { name: "request-success-rate", interval: "1m", thresholdRange: { min: 99 } },
        {
          name: "latency-p95",
          interval: "1m",
          templateRef: { name: "latency-p95", namespace: "istio-system" },
          thresholdRange: { max: 500 },
        },
      ],
    },
  },
};
const TEMPLATE = "kubernetes:flagger.app/v1beta1:MetricTemplate";
const template = {
  metadata: { name: "latency-p95", namespace: "istio-system" },
  spec: { provider: { type: "prometheus" }, query: "..." },
};
const deployment = {
  metadata: { name: "api-gateway", namespace: NS },
  spec: {
    selector: { matchLabels: { app: "api-gateway" } },
    template: { metadata: { labels: { app: "api-gateway" } }, spec: { containers: [] } },
  },
};
const MONITOR = "kubernetes:monitoring.coreos.com/v1:ServiceMonitor";
const monitor = {
  metadata: { name: "api-gateway", namespace: NS, labels: { "aiwp.io/monitoring": "estate" } },
  spec: { selector: { matchLabels: { app: "api-gateway" } }, endpoints: [{ port: "http-metrics" }] },
};
const RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
const alert = (name: string) => ({
  alert: name,
  expr: 'sum(rate(istio_requests_total{destination_workload="api-gateway"}[1m])) > 0',
  for: "2m",
  labels: { severity: "critical", service: "api-gateway", namespace: NS, team: "platform" },
  annotations: { summary: "s", description: "d", runbook_url: `https://runbooks.example.com/${name}.md` },
});
const rules = {
  metadata: { name: "api-gateway-canary", namespace: NS },
  spec: {
    groups: [
      {
        name: "canary",
        rules: ["CanaryHighErrorRate", "CanaryHighLatency", "CanaryUnhealthyInstances"].map(alert),
      },
    ],
  },
};
const estate = () => [
  resource("kubernetes:apps/v1:Deployment", deployment, "deployment"),
  resource(CANARY, canary, "canary"),
  resource(TEMPLATE, template, "template"),
  resource(MONITOR, monitor, "monitor"),
  resource(RULE, rules, "rules"),
];

describe("policies/delivery", () => {
  it("flagger-analysis-valid: ascending stepWeights pass; descending weights fail", async () => {
    await assertCompliant(flaggerAnalysisValid, [resource(CANARY, canary)]);
    await assertViolates(
      flaggerAnalysisValid,
      [resource(CANARY, mutate(canary, "spec.analysis.stepWeights", [50, 25]))],
      /strictly ascending/,
    );
  });

  it("flagger-analysis-valid: two traffic modes at once, weights beyond 100 or A/B match without iterations fail", async () => {
    await assertViolates(
      flaggerAnalysisValid,
      [resource(CANARY, mutate(canary, "spec.analysis.iterations", 5))],
      /exactly one of .*got stepWeights, iterations/,
    );
    await assertViolates(
      flaggerAnalysisValid,
      [resource(CANARY, mutate(canary, "spec.analysis.stepWeights", [50, 120]))],
      /\(0, 100\]/,
    );
    await assertViolates(
      flaggerAnalysisValid,
      [
        resource(
          CANARY,
          mutate(canary, "spec.analysis.match", [{ headers: { "x-canary": { exact: "insider" } } }]),
        ),
      ],
      /needs analysis\.iterations/,
    );
    await assertViolates(
      flaggerAnalysisValid,
      [resource(CANARY, mutate(canary, "spec.analysis.interval", "1 minute"))],
      /interval/,
    );
  });

  describe("flagger-rollback-budget (worst case from fault onset, lib/flaggerTiming.ts)", () => {
    const POD_MONITOR = "kubernetes:monitoring.coreos.com/v1:PodMonitor";
    // The sidecars' merged endpoint, as Istio documents its Prometheus Operator scrape.
    const envoyStats = (interval: string) => ({
      metadata: { name: "envoy-stats", namespace: "monitoring" },
      spec: { podMetricsEndpoints: [{ path: "/stats/prometheus", interval }] },
    });
    const probed = mutate(deployment, "spec.template.spec.containers", [
      {
        name: "api-gateway",
        readinessProbe: {
          httpGet: { path: "/health/ready", port: 8080 },
          periodSeconds: 5,
          failureThreshold: 3,
          timeoutSeconds: 2,
        },
      },
    ]);
    const fast = mutate(
      mutate(mutate(canary, "spec.analysis.interval", "15s"), "spec.analysis.threshold", 3),
      "spec.progressDeadlineSeconds",
      60,
    );
    const stack = (c: unknown, scrape = "10s") => [
      resource("kubernetes:apps/v1:Deployment", probed, "deployment"),
      resource(POD_MONITOR, envoyStats(scrape), "envoy"),
      resource(CANARY, c as Record<string, unknown>, "canary"),
    ];
    const budget = { maxRollbackSeconds: 120 };

    it("a 15s tick, threshold 3, 60 s deadline and 10s mesh scrape fit 120 s (hard 5xx 90 s, unready 102 s)", async () => {
      await assertCompliant(rollbackBudget, stack(fast), budget);
    });

    it("threshold x interval = 2 x 1m is not the rollback: from onset it is 220 s, over the 120 s budget", async () => {
      const audited = mutate(canary, "spec.progressDeadlineSeconds", 60);
      await assertViolates(rollbackBudget, stack(audited, "15s"), /hard5xx 220 s/, budget);
    });

    it("an unready canary waiting out Flagger's default 600 s progress deadline breaks the budget", async () => {
      await assertViolates(
        rollbackBudget,
        stack(mutate(fast, "spec.progressDeadlineSeconds", undefined)),
        /unready 642 s .*progressDeadlineSeconds 600/,
        budget,
      );
    });

    it("reads the mesh scrape interval from the envoy-stats PodMonitor: 30s scrapes push hard 5xx past 120 s at threshold 4", async () => {
      const t4 = mutate(fast, "spec.analysis.threshold", 4);
      await assertCompliant(rollbackBudget, stack(t4, "10s"), budget);
      await assertViolates(rollbackBudget, stack(t4, "30s"), /hard5xx 145 s/, budget);
    });
  });

  it("canary-has-metrics: fails without metrics, without a threshold, or with an undeclared template", async () => {
    await assertCompliant(canaryHasMetrics, estate());
    const [d, , t, m, r] = estate();
    await assertViolates(
      canaryHasMetrics,
      [d, resource(CANARY, mutate(canary, "spec.analysis.metrics", [])), t, m, r],
      /checks no metrics/,
    );
    await assertViolates(
      canaryHasMetrics,
      [d, resource(CANARY, mutate(canary, "spec.analysis.metrics.0.thresholdRange", undefined)), t],
      /no thresholdRange/,
    );
    await assertViolates(
      canaryHasMetrics,
      [d, resource(CANARY, canary)],
      /MetricTemplate istio-system\/latency-p95, which is not declared/,
    );
  });

  it("canary-has-service-monitor: fails without a ServiceMonitor, or with one Prometheus does not select", async () => {
    await assertCompliant(canaryHasServiceMonitor, estate());
    const [d, c] = estate();
    await assertViolates(canaryHasServiceMonitor, [d, c], /no ServiceMonitor/);
    await assertViolates(
      canaryHasServiceMonitor,
      [d, c, resource(MONITOR, mutate(monitor, "metadata.labels", {}))],
      /no ServiceMonitor/,
    );
    await assertViolates(
      canaryHasServiceMonitor,
      [d, c, resource(MONITOR, mutate(monitor, "spec.selector.matchLabels.app", "persona-service"))],
      /api-gateway/,
    );
  });

  it("canary-has-alerts: fails when a gating alert is missing or covers another service", async () => {
    await assertCompliant(canaryHasAlerts, estate());
    const [d, c] = estate();
    await assertViolates(
      canaryHasAlerts,
      [d, c, resource(RULE, mutate(rules, "spec.groups.0.rules", rules.spec.groups[0].rules.slice(1)))],
      /no CanaryHighErrorRate alert/,
    );
    const other = mutate(
      mutate(rules, "spec.groups.0.rules.0.labels.service", "persona-service"),
      "spec.groups.0.rules.0.expr",
      "up == 0",
    );
    await assertViolates(canaryHasAlerts, [d, c, resource(RULE, other)], /CanaryHighErrorRate/);
  });
});
