import * as assert from "node:assert/strict";
import { alertsHaveContractLabels } from "../../policies/estate/alertsHaveContractLabels";
import { alertsHaveRunbookUrl } from "../../policies/estate/alertsHaveRunbookUrl";
import { deploymentHasAutoscaler } from "../../policies/estate/deploymentHasAutoscaler";
import { deploymentHasPdb } from "../../policies/estate/deploymentHasPdb";
import { veleroSchedulesMeetRpo } from "../../policies/estate/veleroSchedulesMeetRpo";
import { maxIntervalSeconds } from "../../policies/lib/cron";
import { assertCompliant, assertViolates, mutate, resource } from "./support";

const NS = "ai-workflow-prod";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const deployment = {
  metadata: { name: "persona-service", namespace: NS },
  spec: {
    selector: { matchLabels: { app: "persona-service" } },
    template: { metadata: { labels: { app: "persona-service" } }, spec: { containers: [] } },
  },
};
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const pdb = {
  metadata: { name: "persona-service", namespace: NS },
  spec: { maxUnavailable: 1, selector: { matchLabels: { app: "persona-service" } } },
};
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const hpa = {
  metadata: { name: "persona-service", namespace: NS },
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "persona-service" },
    minReplicas: 3,
    maxReplicas: 12,
  },
};
const SCALED = "kubernetes:keda.sh/v1alpha1:ScaledObject";
const RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";
const BASE = "https://github.com/aiwp/aiwp-estate/blob/main/docs/runbooks";
const rules = {
  metadata: { name: "platform", namespace: "monitoring" },
  spec: {
    groups: [
      {
        name: "velero",
        rules: [
          { record: "velero:backup_age_seconds", expr: "time() - velero_backup_last_successful_timestamp" },
          {
            alert: "VeleroBackupTooOld",
            expr: "velero:backup_age_seconds > 3600",
            labels: { severity: "critical", service: "velero", namespace: "velero", team: "platform" },
            annotations: { summary: "s", description: "d", runbook_url: `${BASE}/VeleroBackupTooOld.md` },
          },
        ],
      },
    ],
  },
};
const SCHEDULE = "kubernetes:velero.io/v1:Schedule";
const hourly = {
  metadata: { name: "hourly", namespace: "velero" },
  spec: { schedule: "0 * * * *", template: { includedNamespaces: [NS, "rabbitmq"], ttl: "72h" } },
};
const daily = {
  metadata: { name: "daily", namespace: "velero" },
  spec: { schedule: "0 2 * * *", template: { includedNamespaces: ["*"], ttl: "720h" } },
};
const RPO = { rpoMinutes: 60, protectedNamespaces: [NS, "rabbitmq"] };

describe("policies/estate", () => {
  it("deployment-has-pdb: fails for a Deployment whose pods no PDB selects", async () => {
    await assertCompliant(deploymentHasPdb, [resource(DEPLOYMENT, deployment), resource(PDB, pdb)]);
    await assertViolates(
      deploymentHasPdb,
      [resource(DEPLOYMENT, deployment), resource(PDB, mutate(pdb, "metadata.namespace", "other"))],
      /persona-service has no PodDisruptionBudget/,
    );
  });

  it("deployment-has-autoscaler: an HPA or a ScaledObject passes; none, or both at once, fails", async () => {
    await assertCompliant(deploymentHasAutoscaler, [resource(DEPLOYMENT, deployment), resource(HPA, hpa)]);
    const scaled = {
      metadata: { name: "persona-service", namespace: NS },
      spec: { scaleTargetRef: { name: "persona-service" } },
    };
    await assertCompliant(deploymentHasAutoscaler, [
      resource(DEPLOYMENT, deployment),
      resource(SCALED, scaled),
    ]);
    await assertViolates(
      deploymentHasAutoscaler,
      [resource(DEPLOYMENT, deployment), resource(HPA, mutate(hpa, "spec.scaleTargetRef.name", "other"))],
      /no HPA or ScaledObject/,
    );
    await assertViolates(
      deploymentHasAutoscaler,
      [resource(DEPLOYMENT, deployment), resource(HPA, hpa), resource(SCALED, scaled)],
      /2 autoscalers/,
    );
  });

  it("alerts-have-runbook-url: fails for an alert without runbook_url or off the runbook base; recording rules need none", async () => {
    await assertCompliant(alertsHaveRunbookUrl, [resource(RULE, rules)], { runbookBaseUrl: BASE });
    await assertViolates(
      alertsHaveRunbookUrl,
      [resource(RULE, mutate(rules, "spec.groups.0.rules.1.annotations.runbook_url", undefined))],
      /VeleroBackupTooOld has no runbook_url/,
    );
    await assertViolates(
      alertsHaveRunbookUrl,
      [resource(RULE, mutate(rules, "spec.groups.0.rules.1.annotations.runbook_url", `${BASE}/Other.md`))],
      /is not/,
      { runbookBaseUrl: BASE },
    );
  });

  it("alerts-have-contract-labels: fails without a team label or with an unknown severity", async () => {
    await assertCompliant(alertsHaveContractLabels, [resource(RULE, rules)]);
    await assertViolates(
      alertsHaveContractLabels,
      [resource(RULE, mutate(rules, "spec.groups.0.rules.1.labels.team", undefined))],
      /lacks label team/,
    );
    await assertViolates(
      alertsHaveContractLabels,
      [resource(RULE, mutate(rules, "spec.groups.0.rules.1.labels.severity", "page"))],
      /severity "page"/,
    );
  });

  it("velero-schedules-meet-rpo: an hourly schedule meets a 60-minute RPO; a two-hourly one, a paused one or a missing namespace fails", async () => {
    await assertCompliant(
      veleroSchedulesMeetRpo,
      [resource(SCHEDULE, hourly), resource(SCHEDULE, daily, "daily")],
      RPO,
    );
    await assertViolates(
      veleroSchedulesMeetRpo,
      [
        resource(SCHEDULE, mutate(hourly, "spec.schedule", "0 */2 * * *")),
        resource(SCHEDULE, daily, "daily"),
      ],
      /ai-workflow-prod at least every 1 h|ai-workflow-prod at least every 60 min/,
      RPO,
    );
    await assertViolates(
      veleroSchedulesMeetRpo,
      [resource(SCHEDULE, mutate(hourly, "spec.paused", true))],
      /no active Velero Schedule/,
      RPO,
    );
    await assertViolates(
      veleroSchedulesMeetRpo,
      [resource(SCHEDULE, mutate(hourly, "spec.template.includedNamespaces", [NS]))],
      /rabbitmq/,
      RPO,
    );
  });

  it("velero-schedules-meet-rpo: a TTL shorter than the gap between runs fails", async () => {
    await assertViolates(
      veleroSchedulesMeetRpo,
      [resource(SCHEDULE, mutate(daily, "spec.template.ttl", "12h"))],
      /keeps backups 12h/,
      { rpoMinutes: 1440 },
    );
  });

  it("cron gaps: hourly is 1 h, business hours leave the night uncovered, @every and descriptors are read", () => {
    assert.equal(maxIntervalSeconds("0 * * * *"), 3600);
    assert.equal(maxIntervalSeconds("*/15 * * * *"), 900);
    assert.equal(maxIntervalSeconds("0 8-18 * * *"), 14 * 3600);
    assert.equal(maxIntervalSeconds("0 2 * * 1-5"), 3 * 86400);
    assert.equal(maxIntervalSeconds("@every 30m"), 1800);
    assert.equal(maxIntervalSeconds("@daily"), 86400);
    assert.throws(() => maxIntervalSeconds("0 25 * * *"), /out of range/);
  });
});
