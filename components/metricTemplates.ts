/**
 * The Flagger MetricTemplates every Canary's analysis uses, on the Istio metrics of the metric contract
 * (ESTATE section 5). Flagger fills `{{ namespace }}`, `{{ target }}` (the canary workload) and
 * `{{ interval }}` (the metric's own interval) when it runs a check.
 */
import { CANARY_SCOPE } from "../lib/telemetry";

/** Names of the shared templates; a Canary refers to them by name in the application namespace. */
export const METRIC_TEMPLATES = {
  successRate: "aiwp-request-success-rate",
  latencyP95: "aiwp-request-latency-p95",
  latencyP99: "aiwp-request-latency-p99",
  alertGate: "aiwp-critical-alerts",
} as const;

/** Alerts the gate ignores: a past rollback must not block the rollout of its fix. */
export const ALERT_GATE_IGNORED = ["CanaryRolledBack"] as const;

const workload =
  'reporter="destination", destination_workload_namespace="{{ namespace }}", destination_workload="{{ target }}"';

/** Percentage of the canary's requests that did not answer 5xx over the metric interval. */
export function successRateQuery(): string {
  return [
    `sum(rate(istio_requests_total{${workload}, response_code!~"5.."}[{{ interval }}]))`,
    `/ sum(rate(istio_requests_total{${workload}}[{{ interval }}])) * 100`,
  ].join("\n");
}

/** The canary's latency quantile (0.95, 0.99) in milliseconds over the metric interval. */
export function latencyQuery(quantile: number): string {
  return [
    `histogram_quantile(${quantile},`,
    `  sum by (le) (rate(istio_request_duration_milliseconds_bucket{${workload}}[{{ interval }}])))`,
  ].join("\n");
}

/**
 * Number of critical canary-scoped alerts firing for the workload (CANARY_SCOPE: never the service-wide SLO
 * burn alerts, which the primary alone can trip); 0 when none (`or on() vector(0)`: an empty result is
 * Flagger's "no values found", a failed check, Flagger v1.44 pkg/metrics/providers/prometheus.go).
 */
export function alertGateQuery(): string {
  const ignored = ALERT_GATE_IGNORED.join("|");
  return [
    `sum(ALERTS{alertstate="firing", severity="critical", ${CANARY_SCOPE.label}="${CANARY_SCOPE.value}", service="{{ target }}", namespace="{{ namespace }}", alertname!~"${ignored}"})`,
    "or on() vector(0)",
  ].join("\n");
}

/** The templates' specs keyed by template name, each querying the Prometheus at `address`. */
export function metricTemplateSpecs(
  address: string,
): Record<string, { provider: { type: "prometheus"; address: string }; query: string }> {
  const provider = { type: "prometheus" as const, address };
  return {
    [METRIC_TEMPLATES.successRate]: { provider, query: successRateQuery() },
    [METRIC_TEMPLATES.latencyP95]: { provider, query: latencyQuery(0.95) },
    [METRIC_TEMPLATES.latencyP99]: { provider, query: latencyQuery(0.99) },
    [METRIC_TEMPLATES.alertGate]: { provider, query: alertGateQuery() },
  };
}
