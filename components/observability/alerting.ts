/**
 * The alerting layer: PrometheusRules (selected by the estate's Prometheus), the Alertmanager configuration
 * Secret that kube-prometheus-stack mounts, the DingTalk bridge when enabled, and the Grafana dashboards as
 * ConfigMaps for Grafana's sidecar. Expressions, routing and panels come from the pure modules beside it.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  ALERTMANAGER_CONFIG_SECRET,
  GRAFANA_DASHBOARD_LABEL,
  MONITORING_SELECTOR,
  NAMESPACES,
} from "../../lib/names";
import type { Settings, StackSecrets } from "../../settings";
import { TEMPLATE_KEY, alertmanagerTemplates, alertmanagerYaml } from "./alertmanager";
import { dashboards } from "./dashboards";
import { DingtalkBridge } from "./dingtalkBridge";
import { alertRules, type RuleGroup } from "./rules";

export interface AlertingArgs {
  /** The stack's validated settings (observability, services, delivery, backup). */
  settings: Settings;
  /** The stack's secrets as Pulumi secret outputs; the enabled receivers' keys must be set. */
  secrets: StackSecrets;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
}

/** PrometheusRule objects: one per concern, so a broken group is easy to find. */
function ruleObjects(groups: RuleGroup[]): { name: string; groups: RuleGroup[] }[] {
  const byConcern = new Map<string, RuleGroup[]>();
  for (const g of groups) {
    const concern = g.name.split(".")[0];
    byConcern.set(concern, [...(byConcern.get(concern) ?? []), g]);
  }
  return [...byConcern.entries()].map(([name, gs]) => ({ name, groups: gs }));
}

export class Alerting extends pulumi.ComponentResource {
  /** Names of the PrometheusRule objects. */
  public readonly ruleNames: string[];
  /** Name of the Alertmanager configuration Secret. */
  public readonly alertmanagerSecretName: pulumi.Output<string>;
  /** Dashboard uids. */
  public readonly dashboardUids: string[];

  constructor(name: string, args: AlertingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:observability:Alerting", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const { settings, secrets } = args;
    const namespace = NAMESPACES.monitoring;
    const receivers = settings.observability.receivers;

    const rules = ruleObjects(alertRules(settings));
    for (const r of rules) {
      new k8s.apiextensions.CustomResource(
        `${name}-${r.name}`,
        {
          apiVersion: "monitoring.coreos.com/v1",
          kind: "PrometheusRule",
          metadata: { name: r.name, namespace, labels: { ...MONITORING_SELECTOR } },
          spec: { groups: r.groups },
        },
        child,
      );
    }

    let dingtalkUrl: string | undefined;
    if (receivers.dingtalk.enabled) {
      if (!secrets.dingtalkWebhookUrl)
        throw new Error(
          "dingtalkWebhookUrl: secret is required when observability.receivers.dingtalk.enabled",
        );
      const bridge = new DingtalkBridge(
        `${name}-dingtalk`,
        { namespace, robotWebhookUrl: secrets.dingtalkWebhookUrl, provider: args.provider },
        { parent: this },
      );
      dingtalkUrl = bridge.url;
    }

    const empty = pulumi.output<string | undefined>(undefined);
    const config = pulumi
      .all([
        secrets.slackWebhookUrl ?? empty,
        secrets.pagerdutyRoutingKey ?? empty,
        secrets.smtpPassword ?? empty,
        secrets.wechatApiSecret ?? empty,
        secrets.teamsWebhookUrl ?? empty,
      ])
      .apply(([slackWebhookUrl, pagerdutyRoutingKey, smtpPassword, wechatApiSecret, teamsWebhookUrl]) =>
        alertmanagerYaml({
          settings,
          dingtalkUrl,
          secrets: { slackWebhookUrl, pagerdutyRoutingKey, smtpPassword, wechatApiSecret, teamsWebhookUrl },
        }),
      );
    const secret = new k8s.core.v1.Secret(
      `${name}-alertmanager`,
      {
        metadata: { name: ALERTMANAGER_CONFIG_SECRET, namespace },
        stringData: {
          "alertmanager.yaml": pulumi.secret(config),
          [TEMPLATE_KEY]: alertmanagerTemplates(settings),
        },
      },
      child,
    );

    const models = dashboards(settings);
    for (const d of models) {
      new k8s.core.v1.ConfigMap(
        `${name}-${d.uid}`,
        {
          metadata: { name: `dashboard-${d.uid}`, namespace, labels: { ...GRAFANA_DASHBOARD_LABEL } },
          data: { [`${d.uid}.json`]: JSON.stringify(d.json, null, 2) },
        },
        child,
      );
    }

    this.ruleNames = rules.map((r) => r.name);
    this.alertmanagerSecretName = secret.metadata.name;
    this.dashboardUids = models.map((d) => d.uid);
    this.registerOutputs({
      ruleNames: this.ruleNames,
      alertmanagerSecretName: this.alertmanagerSecretName,
      dashboardUids: this.dashboardUids,
    });
  }
}
