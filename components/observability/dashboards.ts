/**
 * Grafana dashboards as code (grafana-foundation-sdk builders): the canary dashboard (traffic split, error
 * rate and latency canary vs stable, CPU, memory, throughput, instance health, 5xx) and the SLO dashboard
 * (availability, error budget remaining, burn rates, latency SLI). Queries read the recording rules of
 * rules.ts where one exists, so dashboards and alerts show the same numbers; raw metrics are read with the
 * telemetry contract's selectors and label names (lib/telemetry.ts).
 */
import type * as cogTypes from "@grafana/grafana-foundation-sdk/dist/cog";
import type * as dashboardTypes from "@grafana/grafana-foundation-sdk/dist/dashboard";
import type * as prometheusTypes from "@grafana/grafana-foundation-sdk/dist/prometheus";
import type * as statTypes from "@grafana/grafana-foundation-sdk/dist/stat";
import type * as timeseriesTypes from "@grafana/grafana-foundation-sdk/dist/timeseries";
import { appNamespace } from "../../lib/names";
import type { Settings } from "../../settings";
import { SELECTORS } from "../../lib/telemetry";
import { BURN_RATES, DASHBOARD_UIDS, RECORDED, errorBudget, latencyBucket } from "./rules";

// The SDK publishes its modules only through package.json `exports`, which the project's TypeScript module
// resolution ("node") does not read: types come from the dist paths, code from the exported subpaths.
const dashboard: typeof dashboardTypes = require("@grafana/grafana-foundation-sdk/dashboard");
const prometheus: typeof prometheusTypes = require("@grafana/grafana-foundation-sdk/prometheus");
const timeseries: typeof timeseriesTypes = require("@grafana/grafana-foundation-sdk/timeseries");
const stat: typeof statTypes = require("@grafana/grafana-foundation-sdk/stat");

/** The datasource uid of kube-prometheus-stack's provisioned Prometheus. */
export const PROMETHEUS_DATASOURCE = { type: "prometheus", uid: "prometheus" };

/** Each dashboard's uid, title and JSON model. */
export interface DashboardModel {
  uid: string;
  title: string;
  json: dashboardTypes.Dashboard;
}

function query(expr: string, legend: string, refId: string): cogTypes.Builder<cogTypes.Dataquery> {
  return new prometheus.DataqueryBuilder()
    .expr(expr)
    .legendFormat(legend)
    .refId(refId)
    .datasource(PROMETHEUS_DATASOURCE);
}

function timeseriesPanel(
  title: string,
  unit: string,
  queries: [expr: string, legend: string][],
): timeseriesTypes.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(title)
    .unit(unit)
    .height(8)
    .span(12)
    .datasource(PROMETHEUS_DATASOURCE);
  queries.forEach(([expr, legend], i) => panel.withTarget(query(expr, legend, String.fromCharCode(65 + i))));
  return panel;
}

function statPanel(
  title: string,
  unit: string,
  queries: [expr: string, legend: string][],
): statTypes.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .title(title)
    .unit(unit)
    .height(6)
    .span(6)
    .datasource(PROMETHEUS_DATASOURCE);
  queries.forEach(([expr, legend], i) => panel.withTarget(query(expr, legend, String.fromCharCode(65 + i))));
  return panel;
}

function serviceVariables(
  settings: Settings,
  services: string[],
): cogTypes.Builder<dashboardTypes.VariableModel>[] {
  return [
    new dashboard.ConstantVariableBuilder("namespace").value(appNamespace(settings)),
    new dashboard.CustomVariableBuilder("service")
      .label("Service")
      .values(services.join(","))
      .current({ text: services[0], value: services[0] }),
  ];
}

const sel = 'service="$service", namespace="$namespace"';

/** The canary dashboard: one service (template variable) at a time, canary against primary. */
export function canaryDashboard(settings: Settings): DashboardModel {
  const services = Object.entries(settings.services)
    .filter(([, s]) => s.strategy !== "rolling")
    .map(([name]) => name);
  const workloads =
    'destination_workload_namespace="$namespace", destination_workload=~"$service|$service-primary"';
  const deployments = `${SELECTORS.kubeStateMetrics}, namespace="$namespace", deployment=~"$service|$service-primary"`;
  const builder = new dashboard.DashboardBuilder("AIWP canary analysis")
    .uid(DASHBOARD_UIDS.canary)
    .tags(["aiwp", "canary", settings.environment])
    .refresh("30s")
    .time({ from: "now-1h", to: "now" })
    .variables(serviceVariables(settings, services))
    .withRow(new dashboard.RowBuilder("Traffic"))
    .withPanel(
      timeseriesPanel("Traffic split progress", "percent", [
        // flagger_canary_weight names the workload, not the Canary (Flagger v1.44 pkg/metrics/recorder.go).
        [
          `max(flagger_canary_weight{${SELECTORS.flagger}, workload="$service", namespace="$namespace"})`,
          "Flagger weight",
        ],
        [`100 * max(${RECORDED.canaryShare}{${sel}})`, "observed canary share"],
      ]),
    )
    .withPanel(timeseriesPanel("Throughput", "reqps", [[`${RECORDED.requestRate}{${sel}}`, "{{track}}"]]))
    .withRow(new dashboard.RowBuilder("Errors and latency"))
    .withPanel(
      timeseriesPanel("Error rate: canary vs stable", "percentunit", [
        [`${RECORDED.errorRatio}{${sel}}`, "{{track}}"],
      ]),
    )
    .withPanel(
      timeseriesPanel("P95 / P99 latency: canary vs stable", "ms", [
        [`${RECORDED.latencyP95}{${sel}}`, "P95 {{track}}"],
        [`${RECORDED.latencyP99}{${sel}}`, "P99 {{track}}"],
      ]),
    )
    .withPanel(
      statPanel("5xx responses (time range)", "short", [
        [
          `sum by (destination_workload) (increase(istio_requests_total{${SELECTORS.istio}, ${workloads}, response_code=~"5.."}[$__range]))`,
          "{{destination_workload}}",
        ],
      ]),
    )
    .withPanel(
      statPanel("Instance health (available / desired)", "short", [
        [`kube_deployment_status_replicas_available{${deployments}}`, "available {{deployment}}"],
        [`kube_deployment_spec_replicas{${deployments}}`, "desired {{deployment}}"],
      ]),
    )
    .withRow(new dashboard.RowBuilder("Resources"))
    .withPanel(
      timeseriesPanel("CPU (share of limit)", "percentunit", [[`${RECORDED.cpu}{${sel}}`, "{{track}}"]]),
    )
    .withPanel(
      timeseriesPanel("Memory (share of limit)", "percentunit", [
        [`${RECORDED.memory}{${sel}}`, "{{track}}"],
      ]),
    );
  return { uid: DASHBOARD_UIDS.canary, title: "AIWP canary analysis", json: builder.build() };
}

/** The SLO dashboard: availability and latency SLIs, error budget and burn rates of one service. */
export function sloDashboard(settings: Settings): DashboardModel {
  const slo = settings.observability.slo;
  const availBudget = errorBudget(slo.availabilityPercent);
  const latBudget = errorBudget(slo.latencyPercent);
  const workloads = `${SELECTORS.istio}, destination_workload_namespace="$namespace", destination_workload=~"$service|$service-primary"`;
  const total30d = `sum(increase(istio_requests_total{${workloads}}[30d]))`;
  const errors30d = `sum(increase(istio_requests_total{${workloads}, response_code=~"5.."}[30d]))`;
  const windows = [...BURN_RATES.fast, ...BURN_RATES.slow].flatMap((w) => [w.long, w.short]);
  const builder = new dashboard.DashboardBuilder("AIWP service level objectives")
    .uid(DASHBOARD_UIDS.slo)
    .tags(["aiwp", "slo", settings.environment])
    .refresh("1m")
    .time({ from: "now-7d", to: "now" })
    .variables(serviceVariables(settings, Object.keys(settings.services)))
    .withRow(new dashboard.RowBuilder(`Availability (objective ${slo.availabilityPercent}%)`))
    .withPanel(
      statPanel("Availability, 30 days", "percentunit", [
        [`1 - ((${errors30d} or vector(0)) / ${total30d})`, "availability"],
      ]),
    )
    .withPanel(
      statPanel("Error budget remaining, 30 days", "percentunit", [
        [`1 - (((${errors30d} or vector(0)) / ${total30d}) / ${availBudget})`, "budget remaining"],
      ]),
    )
    .withPanel(
      timeseriesPanel(
        "Availability burn rate",
        "none",
        [...new Set(windows)].map(
          (w) => [`${RECORDED.sloErrors(w)}{${sel}} / ${availBudget}`, `${w}`] as [string, string],
        ),
      ),
    )
    .withRow(
      new dashboard.RowBuilder(
        `Latency (objective ${slo.latencyPercent}% within ${latencyBucket(slo.latencyThresholdMs)} ms)`,
      ),
    )
    .withPanel(
      timeseriesPanel("Latency SLI (requests within threshold)", "percentunit", [
        [`1 - ${RECORDED.sloSlow("5m")}{${sel}}`, "5m"],
        [`1 - ${RECORDED.sloSlow("1h")}{${sel}}`, "1h"],
      ]),
    )
    .withPanel(
      timeseriesPanel(
        "Latency burn rate",
        "none",
        [...new Set(windows)].map(
          (w) => [`${RECORDED.sloSlow(w)}{${sel}} / ${latBudget}`, `${w}`] as [string, string],
        ),
      ),
    );
  return { uid: DASHBOARD_UIDS.slo, title: "AIWP service level objectives", json: builder.build() };
}

/** Every dashboard of the estate. */
export function dashboards(settings: Settings): DashboardModel[] {
  return [canaryDashboard(settings), sloDashboard(settings)];
}

/** Every PromQL expression of a dashboard's panels. */
export function dashboardExpressions(model: DashboardModel): string[] {
  const panels = (model.json.panels ?? []) as { targets?: { expr?: string }[] }[];
  return panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? "")).filter((e) => e !== "");
}
