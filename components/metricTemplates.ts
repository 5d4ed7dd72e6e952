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

/** The Canary metric's `templateVariables` key holding its minimum request count (Flagger `{{ variables.<key> }}`). */
export const MIN_REQUESTS_VARIABLE = "minRequests";

/**
 * Guard of the success-rate and latency checks. Flagger counts an empty result or NaN as a failed check
 * (v1.44 pkg/metrics/providers/prometheus.go ErrNoValuesFound; scheduler_metrics.go), so a canary with no
 * traffic yet, or fewer than `minRequests` requests in the window, would fail for lack of data: below that
 * count the check reports `passing` instead, and the canary is judged by readiness and the alert gate.
 */
function guarded(query: string, passing: number): string {
  return [
    `(\n${query}\n)`,
    `and on() (sum(increase(istio_requests_total{${workload}}[{{ interval }}])) >= {{ variables.${MIN_REQUESTS_VARIABLE} }})`,
    `or on() vector(${passing})`,
  ].join("\n");
}

/**
 * Percentage of the canary's requests that did not answer 5xx over the metric interval. The non-5xx rate
 * falls back to 0: a canary that answers only 5xx has no such series at all and must read 0%, not "no data".
 */
export function successRateQuery(): string {
  return guarded(
    [
      `(sum(rate(istio_requests_total{${workload}, response_code!~"5.."}[{{ interval }}])) or on() vector(0))`,
      `/ sum(rate(istio_requests_total{${workload}}[{{ interval }}])) * 100`,
    ].join("\n"),
    100,
  );
}

/** The canary's latency quantile (0.95, 0.99) in milliseconds over the metric interval. */
export function latencyQuery(quantile: number): string {
  return guarded(
    [
      `histogram_quantile(${quantile},`,
      `  sum by (le) (rate(istio_request_duration_milliseconds_bucket{${workload}}[{{ interval }}])))`,
    ].join("\n"),
    0,
  );
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
