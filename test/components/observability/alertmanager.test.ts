import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { RECEIVERS, TEMPLATE_KEY, alertmanagerConfig } from "../../../components/observability/alertmanager";
import { ALERTMANAGER_CONFIG_SECRET } from "../../../lib/names";
import type { ProgramRun } from "../../../tools/harness";
import { renderFiles } from "../../../tools/outputs";
import { STACKS, manifest, manifests, rendered, renderWith } from "../../support/estate";
import { requireTool, runTool, toolVersion } from "../../support/tools";

type Config = Record<string, any>;

/** Writes a run's Alertmanager config and templates where amtool reads them; returns the config path. */
function writeConfig(run: ProgramRun, transform: (c: Config) => void = () => undefined): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-am-"));
  const secret = manifest(run, "Secret", ALERTMANAGER_CONFIG_SECRET, "monitoring");
  fs.writeFileSync(path.join(dir, TEMPLATE_KEY), secret.stringData[TEMPLATE_KEY]);
  const config = yaml.load(renderFiles(run).get("alertmanager/alertmanager.yaml")!) as Config;
  // The operator mounts the Secret's keys in /etc/alertmanager/config; here they sit next to the config.
  config.templates = [path.join(dir, "*.tmpl")];
  transform(config);
  const file = path.join(dir, "alertmanager.yaml");
  fs.writeFileSync(file, yaml.dump(config));
  return file;
}

function routeOf(amtool: string, file: string, labels: Record<string, string>): string {
  const r = runTool(amtool, [
    "config",
    "routes",
    "test",
    `--config.file=${file}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`),
  ]);
  assert.equal(r.status, 0, r.output);
  return r.output
    .split("\n")
    .filter((l) => l.trim() && !l.startsWith("Warning"))[0]
    .trim();
}

describe("alertmanager configuration", () => {
  for (const stack of STACKS) {
    it(`amtool check-config accepts the rendered configuration of ${stack}`, async function () {
      const amtool = requireTool(this, "amtool");
      const r = runTool(amtool, ["check-config", writeConfig(await rendered(stack))]);
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /1 templates/);
    });
  }

  it("routes a service's critical alert to its team's pager, a warning to Slack and info nowhere", async function () {
    const amtool = requireTool(this, "amtool");
    const file = writeConfig(await rendered("prod"));
    const alert = {
      service: "persona-service",
      namespace: "ai-workflow-prod",
      team: "agents",
      alertname: "CanaryHighErrorRate",
    };
    assert.equal(routeOf(amtool, file, { ...alert, severity: "critical" }), RECEIVERS.criticalTeam("agents"));
    assert.equal(routeOf(amtool, file, { ...alert, severity: "warning" }), RECEIVERS.warningTeam("agents"));
    assert.equal(routeOf(amtool, file, { ...alert, severity: "info" }), RECEIVERS.none);
    assert.equal(
      routeOf(amtool, file, { service: "x", namespace: "y", severity: "critical" }),
      RECEIVERS.critical,
    );
  });

  it("critical receivers page through PagerDuty and post to the critical Slack channel in prod; dev has no pager", async () => {
    const prod = yaml.load(
      renderFiles(await rendered("prod")).get("alertmanager/alertmanager.yaml")!,
    ) as Config;
    const critical = prod.receivers.find((r: Config) => r.name === "critical-agents");
    assert.equal(
      critical.pagerduty_configs[0].routing_key,
      "placeholder-pagerdutyRoutingKey-0000000000000000",
    );
    assert.equal(critical.slack_configs[0].channel, "#aiwp-prod-critical");
    const warning = prod.receivers.find((r: Config) => r.name === "warning-agents");
    assert.equal(warning.pagerduty_configs, undefined);
    assert.equal(warning.slack_configs[0].channel, "#aiwp-prod-alerts");
    assert.equal(prod.global.slack_api_url, "https://placeholder.invalid/secret/slackWebhookUrl");
    assert.deepEqual(prod.route.group_by, ["alertname", "service", "namespace"]);
    assert.deepEqual(prod.inhibit_rules[0], {
      source_matchers: ['severity="critical"'],
      target_matchers: ['severity="warning"'],
      equal: ["service", "namespace"],
    });
    const dev = yaml.load(
      renderFiles(await rendered("dev")).get("alertmanager/alertmanager.yaml")!,
    ) as Config;
    assert.ok(dev.receivers.every((r: Config) => r.pagerduty_configs === undefined));
  });

  it("the configuration Secret holds the YAML as a Pulumi secret and the templates it references", async () => {
    const run = await rendered("prod");
    const entry = JSON.parse(renderFiles(run).get("resources.json")!).find(
      (r: Config) => r.inputs?.metadata?.name === ALERTMANAGER_CONFIG_SECRET,
    );
    // resources.json shows what Pulumi records: the configuration, secrets included, only as "[secret]".
    assert.match(JSON.stringify(entry.inputs.stringData), /\[secret\]/);
    assert.ok(!JSON.stringify(entry.inputs).includes("placeholder-pagerdutyRoutingKey"));
    const tmpl = manifest(run, "Secret", ALERTMANAGER_CONFIG_SECRET, "monitoring").stringData[
      TEMPLATE_KEY
    ] as string;
    for (const part of [
      ".CommonLabels.service",
      ".Annotations.release",
      ".Annotations.canary_weight",
      ".Annotations.dashboard_url",
      ".Annotations.runbook_url",
    ]) {
      assert.ok(tmpl.includes(part), part);
    }
  });

  it("every optional receiver renders a configuration amtool accepts, with the DingTalk bridge deployed", async function () {
    const amtool = requireTool(this, "amtool");
    const run = await renderWith("prod", (c) => {
      c["aiwp-estate:observability"].receivers = {
        email: { enabled: true, to: ["sre@aiwp.example.com"] },
        wechat: { enabled: true, corpId: "ww0000000000000000", agentId: "1000002", toParty: "2" },
        dingtalk: { enabled: true },
        msteams: { enabled: true },
      };
      // The receivers' secrets stay unset: the offline render stands placeholders in for absent secrets.
    });
    const config = yaml.load(renderFiles(run).get("alertmanager/alertmanager.yaml")!) as Config;
    const critical = config.receivers.find((r: Config) => r.name === "critical");
    assert.equal(critical.email_configs[0].to, "sre@aiwp.example.com");
    assert.equal(critical.wechat_configs[0].corp_id, "ww0000000000000000");
    assert.equal(
      critical.webhook_configs[0].url,
      "http://aiwp-prod-alerting-dingtalk.monitoring.svc:8060/dingtalk/aiwp/send",
    );
    assert.equal(
      critical.msteams_configs[0].webhook_url,
      "https://placeholder.invalid/secret/teamsWebhookUrl",
    );
    assert.equal(config.global.smtp_auth_password, "placeholder-smtpPassword-Aa1!");
    const bridge = manifests(run, "Deployment").find(
      (d) => d.metadata.name === "aiwp-prod-alerting-dingtalk",
    )!;
    const container = bridge.spec.template.spec.containers[0];
    assert.match(container.image, /^timonwong\/prometheus-webhook-dingtalk:v\d+\.\d+\.\d+$/);
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(bridge.spec.template.spec.securityContext.runAsNonRoot, true);
    assert.ok(container.readinessProbe && container.livenessProbe && container.resources.limits);
    // msteams_configs exists from Alertmanager 0.26; an older amtool (Debian bookworm ships 0.25) cannot read
    // it, so there the rest of the configuration is checked without it.
    const [major, minor] = toolVersion(amtool);
    const teamsReadable = major > 0 || minor >= 26;
    const file = writeConfig(run, (c) => {
      if (!teamsReadable) for (const r of c.receivers) delete r.msteams_configs;
    });
    const r = runTool(amtool, ["check-config", file]);
    assert.equal(r.status, 0, r.output);
  });

  it("refuses an enabled receiver whose secret is missing", async () => {
    const settings = (await rendered("prod")).config.settings;
    assert.throws(
      () => alertmanagerConfig({ settings, secrets: { slackWebhookUrl: "https://x.invalid" } }),
      /pagerdutyRoutingKey/,
    );
  });
});
