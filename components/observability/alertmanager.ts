/**
 * The Alertmanager configuration as a pure function of the stack settings and the receivers' secret
 * values. Routes by severity, then by team: critical pages (PagerDuty) and posts to the critical Slack
 * channel, warning posts to the warning channel, info goes nowhere. Every receiver of the source material
 * is configurable per stack (Slack, PagerDuty, e-mail, WeChat Work, DingTalk through its webhook bridge,
 * Microsoft Teams). Warnings are inhibited while a critical alert fires for the same service and namespace.
 */
import * as yaml from "js-yaml";
import type { Settings } from "../../settings";
import { grafanaUrl } from "./rules";

/** Secret values the receivers need (absent when the receiver is disabled). */
export interface ReceiverSecrets {
  slackWebhookUrl?: string;
  pagerdutyRoutingKey?: string;
  smtpPassword?: string;
  wechatApiSecret?: string;
  teamsWebhookUrl?: string;
}

/** Key of the message templates in the config Secret; prometheus-operator mounts it next to the config. */
export const TEMPLATE_KEY = "aiwp.tmpl";
/** Where prometheus-operator mounts the config Secret's keys in the Alertmanager pod. */
export const CONFIG_DIR = "/etc/alertmanager/config";

/** Receiver names, also what `amtool config routes test` reports. */
export const RECEIVERS = {
  none: "null",
  critical: "critical",
  warning: "warning",
  criticalTeam: (team: string) => `critical-${team}`,
  warningTeam: (team: string) => `warning-${team}`,
} as const;

/** The in-cluster URL Alertmanager posts to for DingTalk (the bridge's target `aiwp`). */
export function dingtalkBridgeUrl(serviceName: string, namespace: string): string {
  return `http://${serviceName}.${namespace}.svc:8060/dingtalk/aiwp/send`;
}

export interface AlertmanagerInputs {
  settings: Settings;
  secrets: ReceiverSecrets;
  /** In-cluster URL of the DingTalk bridge, when DingTalk is enabled. */
  dingtalkUrl?: string;
}

type Config = Record<string, unknown>;

function required(value: string | undefined, key: string): string {
  if (!value) throw new Error(`${key}: secret is required by the enabled Alertmanager receiver`);
  return value;
}

/** The notification integrations of one severity, optionally for one team. */
function integrations(inputs: AlertmanagerInputs, severity: "critical" | "warning"): Config {
  const { settings, secrets } = inputs;
  const r = settings.observability.receivers;
  const out: Config = {};
  if (r.slack.enabled) {
    out.slack_configs = [
      {
        channel: severity === "critical" ? r.slack.channelCritical : r.slack.channelWarning,
        send_resolved: true,
        title: '{{ template "aiwp.title" . }}',
        title_link: '{{ template "aiwp.dashboard" . }}',
        text: '{{ template "aiwp.text" . }}',
      },
    ];
  }
  if (severity === "critical" && r.pagerduty.enabled) {
    out.pagerduty_configs = [
      {
        routing_key: required(secrets.pagerdutyRoutingKey, "pagerdutyRoutingKey"),
        severity: "critical",
        description: '{{ template "aiwp.title" . }}',
        details: {
          service: "{{ .CommonLabels.service }}",
          namespace: "{{ .CommonLabels.namespace }}",
          team: "{{ .CommonLabels.team }}",
          release: "{{ .CommonAnnotations.release }}",
          canary_weight: "{{ .CommonAnnotations.canary_weight }}",
          runbook: "{{ .CommonAnnotations.runbook_url }}",
        },
        links: [{ href: '{{ template "aiwp.dashboard" . }}', text: "Grafana" }],
      },
    ];
  }
  if (severity === "critical" && r.email.enabled) {
    out.email_configs = [
      {
        to: r.email.to.join(", "),
        send_resolved: true,
        headers: { Subject: '{{ template "aiwp.title" . }}' },
        text: '{{ template "aiwp.text" . }}',
      },
    ];
  }
  if (r.wechat.enabled) {
    out.wechat_configs = [
      {
        corp_id: r.wechat.corpId,
        agent_id: r.wechat.agentId,
        to_party: r.wechat.toParty,
        api_secret: required(secrets.wechatApiSecret, "wechatApiSecret"),
        message: '{{ template "aiwp.text" . }}',
        send_resolved: true,
      },
    ];
  }
  if (r.dingtalk.enabled) {
    if (!inputs.dingtalkUrl)
      throw new Error("observability.receivers.dingtalk: enabled without the bridge's URL");
    out.webhook_configs = [{ url: inputs.dingtalkUrl, send_resolved: true }];
  }
  if (r.msteams.enabled) {
    out.msteams_configs = [
      {
        webhook_url: required(secrets.teamsWebhookUrl, "teamsWebhookUrl"),
        send_resolved: true,
        title: '{{ template "aiwp.title" . }}',
        text: '{{ template "aiwp.text" . }}',
      },
    ];
  }
  return out;
}

/** Teams that own at least one service, sorted. */
export function teams(settings: Settings): string[] {
  return [...new Set(Object.values(settings.services).map((s) => s.team))].sort();
}

/** The Alertmanager configuration object. */
export function alertmanagerConfig(inputs: AlertmanagerInputs): Config {
  const { settings, secrets } = inputs;
  const o = settings.observability;
  const r = o.receivers;
  const global: Config = { resolve_timeout: "5m" };
  if (r.slack.enabled) global.slack_api_url = required(secrets.slackWebhookUrl, "slackWebhookUrl");
  if (r.email.enabled) {
    Object.assign(global, {
      smtp_smarthost: r.email.smarthost,
      smtp_from: r.email.from,
      smtp_auth_username: r.email.from,
      smtp_auth_password: required(secrets.smtpPassword, "smtpPassword"),
      smtp_require_tls: true,
    });
  }
  const teamNames = teams(settings);
  const receivers: Config[] = [{ name: RECEIVERS.none }];
  for (const severity of ["critical", "warning"] as const) {
    const base = integrations(inputs, severity);
    receivers.push({ name: RECEIVERS[severity], ...base });
    for (const team of teamNames) {
      const name = severity === "critical" ? RECEIVERS.criticalTeam(team) : RECEIVERS.warningTeam(team);
      receivers.push({ name, ...integrations(inputs, severity) });
    }
  }
  const teamRoutes = (severity: "critical" | "warning") =>
    teamNames.map((team) => ({
      receiver: severity === "critical" ? RECEIVERS.criticalTeam(team) : RECEIVERS.warningTeam(team),
      matchers: [`team="${team}"`],
    }));
  return {
    global,
    templates: [`${CONFIG_DIR}/*.tmpl`],
    route: {
      // Alerts without a known severity still reach people.
      receiver: RECEIVERS.warning,
      group_by: ["alertname", "service", "namespace"],
      group_wait: o.routing.groupWait,
      group_interval: o.routing.groupInterval,
      repeat_interval: o.routing.repeatIntervalWarning,
      routes: [
        { receiver: RECEIVERS.none, matchers: ['severity="info"'] },
        {
          receiver: RECEIVERS.critical,
          matchers: ['severity="critical"'],
          repeat_interval: o.routing.repeatIntervalCritical,
          routes: teamRoutes("critical"),
        },
        { receiver: RECEIVERS.warning, matchers: ['severity="warning"'], routes: teamRoutes("warning") },
      ],
    },
    inhibit_rules: [
      {
        source_matchers: ['severity="critical"'],
        target_matchers: ['severity="warning"'],
        equal: ["service", "namespace"],
      },
      {
        source_matchers: ['severity=~"critical|warning"'],
        target_matchers: ['severity="info"'],
        equal: ["service", "namespace"],
      },
    ],
    receivers,
  };
}

/**
 * Message templates: every notification names the alert, the service and namespace, the release (image
 * tag) under test, Flagger's canary weight when the alert fired, the runbook and a dashboard link.
 */
export function alertmanagerTemplates(settings: Settings): string {
  const grafana = grafanaUrl(settings);
  return `{{ define "aiwp.title" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .CommonLabels.alertname }} {{ .CommonLabels.namespace }}/{{ .CommonLabels.service }}{{ end }}

{{ define "aiwp.dashboard" }}{{ with .CommonAnnotations.dashboard_url }}{{ . }}{{ else }}${grafana}{{ end }}{{ end }}

{{ define "aiwp.text" }}{{ range .Alerts }}*{{ .Annotations.summary }}*
{{ .Annotations.description }}
service: {{ .Labels.service }} ({{ .Labels.namespace }}), team: {{ .Labels.team }}, severity: {{ .Labels.severity }}
release: {{ or .Annotations.release "n/a" }}, canary weight: {{ or .Annotations.canary_weight "n/a" }}%
runbook: {{ .Annotations.runbook_url }}
dashboard: {{ or .Annotations.dashboard_url "${grafana}" }}
{{ end }}{{ end }}
`;
}

/** The configuration as the YAML Alertmanager reads. */
export function alertmanagerYaml(inputs: AlertmanagerInputs): string {
  return yaml.dump(alertmanagerConfig(inputs), { noRefs: true, lineWidth: -1, sortKeys: false });
}
