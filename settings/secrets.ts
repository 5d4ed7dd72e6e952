/**
 * Secrets are separate top-level config keys set with `pulumi config set --secret`. They never enter the
 * validated settings object as plain text: the program reads them as Pulumi secret outputs.
 */
import type { Settings } from "./schema";

export interface SecretSpec {
  /** Config key, without the project prefix. */
  key: string;
  /** What the value is; render substitutes a valid placeholder of this kind. */
  kind: "password" | "url" | "token";
  description: string;
  /** Why this stack needs the secret (the setting that asks for it), or undefined when it does not. */
  requiredBy: (settings: Settings) => string | undefined;
}

/**
 * The first smoke path that the load tester must call with a bearer token (`services.<name>.smokePaths[i].auth`
 * of a canaried service, while the acceptance or load test runs), or undefined when none needs one.
 */
export function authenticatedSmokePath(s: Settings): string | undefined {
  if (!s.delivery.acceptanceTest.enabled && !s.delivery.loadTest.enabled) return undefined;
  for (const [name, svc] of Object.entries(s.services)) {
    if (svc.strategy === "rolling") continue;
    const i = (svc.smokePaths ?? []).findIndex((p) => p.auth);
    if (i >= 0) return `services.${name}.smokePaths[${i}].auth`;
  }
  return undefined;
}

export const SECRETS: SecretSpec[] = [
  {
    key: "grafanaAdminPassword",
    kind: "password",
    description: "Grafana admin password",
    requiredBy: () => "every stack",
  },
  {
    key: "postgresAdminPassword",
    kind: "password",
    description: "PostgreSQL administrator password",
    requiredBy: () => "every stack",
  },
  {
    key: "rabbitmqPassword",
    kind: "password",
    description: "Password of the application's RabbitMQ user (the AMQP URI KEDA and the services use)",
    requiredBy: () => "every stack",
  },
  {
    key: "slackWebhookUrl",
    kind: "url",
    description: "Slack incoming webhook for Alertmanager and Flagger",
    requiredBy: (s) =>
      s.observability.receivers.slack.enabled
        ? "observability.receivers.slack.enabled is true"
        : s.delivery.slackChannel !== undefined
          ? `delivery.slackChannel is set (${s.delivery.slackChannel})`
          : undefined,
  },
  {
    key: "pagerdutyRoutingKey",
    kind: "token",
    description: "PagerDuty Events API v2 routing key",
    requiredBy: (s) =>
      s.observability.receivers.pagerduty.enabled
        ? "observability.receivers.pagerduty.enabled is true"
        : undefined,
  },
  {
    key: "smtpPassword",
    kind: "password",
    description: "Password of the SMTP relay for e-mail alerts",
    requiredBy: (s) =>
      s.observability.receivers.email.enabled ? "observability.receivers.email.enabled is true" : undefined,
  },
  {
    key: "wechatApiSecret",
    kind: "token",
    description: "WeChat Work application secret",
    requiredBy: (s) =>
      s.observability.receivers.wechat.enabled ? "observability.receivers.wechat.enabled is true" : undefined,
  },
  {
    key: "dingtalkWebhookUrl",
    kind: "url",
    description: "DingTalk robot webhook, used by the webhook bridge",
    requiredBy: (s) =>
      s.observability.receivers.dingtalk.enabled
        ? "observability.receivers.dingtalk.enabled is true"
        : undefined,
  },
  {
    key: "teamsWebhookUrl",
    kind: "url",
    description: "Microsoft Teams incoming webhook",
    requiredBy: (s) =>
      s.observability.receivers.msteams.enabled
        ? "observability.receivers.msteams.enabled is true"
        : undefined,
  },
];

SECRETS.push({
  key: "loadTestClientSecret",
  kind: "password",
  description:
    "Client secret of the load tester's app registration (bearer token of authenticated smoke paths)",
  requiredBy: (s) => {
    const path = authenticatedSmokePath(s);
    return path ? `${path} is true` : undefined;
  },
});

export const SECRET_KEYS = SECRETS.map((s) => s.key);

/** A placeholder that is valid for the secret's kind, so rendered configs still pass their validators. */
export function secretPlaceholder(spec: Pick<SecretSpec, "key" | "kind">): string {
  switch (spec.kind) {
    case "url":
      return `https://placeholder.invalid/secret/${spec.key}`;
    case "token":
      return `placeholder-${spec.key}-0000000000000000`;
    case "password":
      return `placeholder-${spec.key}-Aa1!`;
  }
}
