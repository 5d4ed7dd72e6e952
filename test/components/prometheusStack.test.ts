import assert from "node:assert/strict";
import { manifest, manifests, ofType, rendered } from "../support/estate";
import {
  ALERTMANAGER_CONFIG_SECRET,
  MONITORING_SELECTOR,
  NAMESPACES,
  PROMETHEUS_URL,
  RELEASES,
} from "../../lib/names";
import { CHARTS, isExactVersion } from "../../components/charts";

const releases = async () =>
  ofType(await rendered("prod"), "kubernetes:helm.sh/v3:Release").map((r) => r.inputs as Record<string, any>);

describe("prometheus stack", () => {
  it("Prometheus selects the estate's rules, ServiceMonitors and PodMonitors by MONITORING_SELECTOR", async () => {
    const kps = (await releases()).find((r) => r.name === RELEASES.prometheusStack)!;
    const spec = kps.values.prometheus.prometheusSpec;
    for (const key of ["ruleSelector", "serviceMonitorSelector", "podMonitorSelector"]) {
      assert.deepEqual(spec[key].matchLabels, MONITORING_SELECTOR);
      assert.equal(spec[`${key}NilUsesHelmValues`], false);
    }
    assert.ok(PROMETHEUS_URL.startsWith(`http://${kps.values.fullnameOverride}-prometheus.`));
    assert.equal(spec.storageSpec.volumeClaimTemplate.spec.storageClassName, "managed-csi-premium");
    assert.equal(spec.replicas, 2);
    assert.equal(kps.values.alertmanager.alertmanagerSpec.configSecret, ALERTMANAGER_CONFIG_SECRET);
  });

  it("the Grafana admin password is in no Helm values, only in a Secret the chart references", async () => {
    const run = await rendered("prod");
    const [password] = run.config.placeholders.filter((p) => p.includes("grafanaAdminPassword"));
    assert.ok(password);
    for (const r of await releases())
      assert.doesNotMatch(JSON.stringify(r.values ?? {}), new RegExp(password.replace(/[!]/g, "\\!")));
    const grafana = (await releases()).find((r) => r.name === RELEASES.prometheusStack)!.values.grafana;
    assert.equal(grafana.adminPassword, undefined);
    assert.equal(grafana.admin.existingSecret, "grafana-admin");
    assert.match(
      JSON.stringify(manifest(run, "Secret", "grafana-admin", NAMESPACES.monitoring)),
      /admin-password/,
    );
  });

  it("Istio sidecars, istiod and Flagger are scraped by monitors carrying MONITORING_SELECTOR", async () => {
    const run = await rendered("prod");
    const envoy = manifest(run, "PodMonitor", "envoy-stats");
    assert.equal(envoy.spec.podMetricsEndpoints[0].path, "/stats/prometheus");
    assert.equal(manifest(run, "ServiceMonitor", "istiod").spec.endpoints[0].port, "http-monitoring");
    assert.ok(manifest(run, "PodMonitor", "flagger"));
    for (const m of [...manifests(run, "PodMonitor"), ...manifests(run, "ServiceMonitor")]) {
      assert.deepEqual(
        { ...m.metadata.labels, ...MONITORING_SELECTOR },
        m.metadata.labels,
        `${m.metadata.name} is selected`,
      );
    }
  });

  it("every Helm release, and cert-manager's, pins an exact chart version from charts.ts", async () => {
    const rs = await releases();
    assert.ok(rs.length >= 8);
    for (const r of rs) assert.ok(isExactVersion(r.version), `${r.name} pins ${r.version}`);
    const cm = rs.find((r) => r.chart === CHARTS.certManager.chart)!;
    assert.equal(cm.version, CHARTS.certManager.version);
    for (const pin of Object.values(CHARTS))
      assert.ok(isExactVersion(pin.version), `${pin.chart} ${pin.version}`);
    assert.equal(isExactVersion("^1.2.0"), false);
    assert.equal(isExactVersion("1.x"), false);
  });
});
