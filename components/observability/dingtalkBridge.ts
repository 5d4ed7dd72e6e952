/**
 * DingTalk's robot API does not accept Alertmanager's webhook payload, so Alertmanager posts to
 * prometheus-webhook-dingtalk, which renders the alert and calls the robot webhook (a Pulumi secret).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as yaml from "js-yaml";
import { dingtalkBridgeUrl } from "./alertmanager";
import { PRIORITY_CLASSES } from "../priorityClasses";

export const DINGTALK_IMAGE = "timonwong/prometheus-webhook-dingtalk:v2.1.0";
const PORT = 8060;

/** The bridge's config file: one target, `aiwp`, that Alertmanager's webhook URL names. */
export function dingtalkBridgeConfig(robotWebhookUrl: string): string {
  return yaml.dump({ targets: { aiwp: { url: robotWebhookUrl } } }, { lineWidth: -1 });
}

export interface DingtalkBridgeArgs {
  /** Namespace of the bridge (the monitoring namespace, next to Alertmanager). */
  namespace: string;
  /** DingTalk robot webhook URL (the `dingtalkWebhookUrl` secret). */
  robotWebhookUrl: pulumi.Input<string>;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
}

export class DingtalkBridge extends pulumi.ComponentResource {
  /** URL Alertmanager posts alerts to. */
  public readonly url: string;

  constructor(name: string, args: DingtalkBridgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:observability:DingtalkBridge", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const labels = {
      "app.kubernetes.io/name": "prometheus-webhook-dingtalk",
      "app.kubernetes.io/instance": name,
    };
    const secret = new k8s.core.v1.Secret(
      `${name}-config`,
      {
        metadata: { name: `${name}-config`, namespace: args.namespace, labels },
        stringData: {
          "config.yml": pulumi.secret(pulumi.output(args.robotWebhookUrl).apply(dingtalkBridgeConfig)),
        },
      },
      child,
    );
    const probe = { tcpSocket: { port: PORT }, periodSeconds: 10, timeoutSeconds: 3 };
    new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              automountServiceAccountToken: false,
              priorityClassName: PRIORITY_CLASSES.platform.name,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 65534,
                runAsGroup: 65534,
                seccompProfile: { type: "RuntimeDefault" },
              },
              containers: [
                {
                  name: "bridge",
                  image: DINGTALK_IMAGE,
                  // Pinned by tag only: ask the registry on every start (a re-pushed tag is not served from cache).
                  imagePullPolicy: "Always",
                  args: [`--web.listen-address=:${PORT}`, "--config.file=/config/config.yml"],
                  ports: [{ name: "http", containerPort: PORT }],
                  readinessProbe: { ...probe, initialDelaySeconds: 2 },
                  livenessProbe: { ...probe, initialDelaySeconds: 10 },
                  resources: {
                    requests: { cpu: "10m", memory: "32Mi" },
                    limits: { cpu: "100m", memory: "64Mi" },
                  },
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"] },
                  },
                  volumeMounts: [{ name: "config", mountPath: "/config", readOnly: true }],
                },
              ],
              volumes: [{ name: "config", secret: { secretName: secret.metadata.name } }],
            },
          },
        },
      },
      child,
    );
    new k8s.core.v1.Service(
      name,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: { selector: labels, ports: [{ name: "http", port: PORT, targetPort: "http" }] },
      },
      child,
    );
    this.url = dingtalkBridgeUrl(name, args.namespace);
    this.registerOutputs({ url: this.url });
  }
}
