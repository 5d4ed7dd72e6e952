import * as assert from "node:assert/strict";
import { dashboardExpressions, dashboards } from "../../../components/observability/dashboards";
import { RECORDED } from "../../../components/observability/rules";
import { renderFiles } from "../../../tools/outputs";
import { STACKS, manifests, rendered } from "../../support/estate";
import { promqlErrors } from "../../support/tools";

/** Grafana's template variables replaced by values, so the query is plain PromQL. */
function substitute(expr: string): string {
  return expr
    .replace(/\$__range/g, "1h")
    .replace(/\$__rate_interval/g, "1m")
    .replace(/\$service/g, "api-gateway")
    .replace(/\$namespace/g, "ai-workflow-prod");
}

describe("grafana dashboards", () => {
  it("render grafana/aiwp-canary.json and grafana/aiwp-slo.json from labelled ConfigMaps in monitoring", async () => {
    const run = await rendered("prod");
    const files = renderFiles(run);
    const canary = JSON.parse(files.get("grafana/aiwp-canary.json")!);
    const slo = JSON.parse(files.get("grafana/aiwp-slo.json")!);
    assert.equal(canary.uid, "aiwp-canary");
    assert.equal(slo.uid, "aiwp-slo");
    const maps = manifests(run, "ConfigMap").filter((m) => m.metadata.labels?.grafana_dashboard === "1");
    assert.equal(maps.length, 2);
    assert.ok(maps.every((m) => m.metadata.namespace === "monitoring"));
  });

  it("the canary dashboard shows traffic split, canary vs stable errors, latency, CPU, memory, throughput, health and 5xx per service", async () => {
    const settings = (await rendered("prod")).config.settings;
    const canary = dashboards(settings)[0];
    const exprs = dashboardExpressions(canary).join("\n");
    for (const needle of [
      "flagger_canary_weight",
      RECORDED.errorRatio,
      RECORDED.latencyP95,
      RECORDED.latencyP99,
      RECORDED.cpu,
      RECORDED.memory,
      RECORDED.requestRate,
      "kube_deployment_status_replicas_available",
      'response_code=~"5.."',
    ]) {
      assert.ok(exprs.includes(needle), needle);
    }
    const service = (canary.json.templating?.list ?? []).find((v) => v.name === "service");
    assert.ok(service, "service template variable");
    assert.equal(String(service.query).split(",").length, Object.keys(settings.services).length);
  });

  it("the SLO dashboard shows availability, error budget remaining, burn rates and the latency SLI", async () => {
    const slo = dashboards((await rendered("prod")).config.settings)[1];
    const titles = (slo.json.panels ?? []).map((p) => p.title);
    for (const t of [
      "Availability, 30 days",
      "Error budget remaining, 30 days",
      "Availability burn rate",
      "Latency burn rate",
      "Latency SLI (requests within threshold)",
    ]) {
      assert.ok(titles.includes(t), t);
    }
    assert.ok(
      dashboardExpressions(slo).some((e) => e.includes("/ 0.0005")),
      "burn rate divides by prod's 0.05% budget",
    );
  });

  it("every dashboard query parses as PromQL", async () => {
    for (const stack of STACKS) {
      for (const model of dashboards((await rendered(stack)).config.settings)) {
        const exprs = dashboardExpressions(model);
        assert.ok(exprs.length >= 5);
        for (const e of exprs) assert.deepEqual(promqlErrors(substitute(e)), [], e);
      }
    }
  });
});
