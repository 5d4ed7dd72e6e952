/**
 * The application layer: every service of the stack's catalogue, plus what their Canaries share (the
 * MetricTemplates, the Flagger AlertProvider) and the KEDA authentication for the workflow queue.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { AMQP_SECRET, PROMETHEUS_URL, PUBLIC_GATEWAY } from "../lib/names";
import type { DeliverySettings, ServiceSettings } from "../settings";
import { metricTemplateSpecs } from "./metricTemplates";
import { Service, delegateName } from "./service";
import type { RoleGrant } from "./workloadIdentity";
import { accessTags } from "../lib/access";

/** Name of the Flagger AlertProvider (and of its Secret's prefix) in the application namespace. */
export const ALERT_PROVIDER = "slack";
/** Name of the KEDA TriggerAuthentication that reads the AMQP URI. */
export const QUEUE_AUTHENTICATION = "rabbitmq-amqp";
/** Name of the root VirtualService of the public host, in the application namespace. */
export const PUBLIC_ROUTES = "public-routes";

/** One route of the public root: the path it matches and the service whose routes it delegates to. */
export interface PublicRoute {
  service: string;
  route: string;
  match: { uri: { exact: string } | { prefix: string } }[];
}

/**
 * The exposed services' routes in the order the gateway tries them: longest path first, so a nested
 * prefix wins over the one that contains it, and `/` (api-gateway) last, as the catch-all. Istio takes
 * the first matching route of a VirtualService, in order; across several VirtualServices sharing a host
 * the order is theirs to fight over, which is why one root holds them all. A route matches its path
 * exactly and below a slash (`/api/auth` and `/api/auth/...`, never `/api/authors`), as the services'
 * AuthorizationPolicies admit the gateway.
 */
export function publicRoutes(
  services: Record<string, Pick<ServiceSettings, "exposed" | "route">>,
): PublicRoute[] {
  return Object.entries(services)
    .filter(([, svc]) => svc.exposed)
    .map(([service, svc]) => {
      const base = svc.route.replace(/\/+$/, "");
      const match =
        base === ""
          ? [{ uri: { prefix: "/" } }]
          : [{ uri: { exact: base } }, { uri: { prefix: `${base}/` } }];
      return { service, route: base === "" ? "/" : base, match };
    })
    .sort((a, b) => b.route.length - a.route.length || a.route.localeCompare(b.route));
}

/** The public root VirtualService: the custom domain on the public gateway, each route delegated in order. */
export function publicRootSpec(
  services: Record<string, Pick<ServiceSettings, "exposed" | "route">>,
  namespace: string,
  customDomain: string,
) {
  return {
    hosts: [customDomain],
    gateways: [PUBLIC_GATEWAY],
    http: publicRoutes(services).map((r) => ({
      name: r.service,
      match: r.match,
      delegate: { name: delegateName(r.service), namespace },
    })),
  };
}

export interface WorkloadsArgs {
  /** The stack's services (`settings.services`). */
  services: Record<string, ServiceSettings>;
  /** The stack's delivery settings. */
  delivery: DeliverySettings;
  /** Application namespace (`appNamespace(settings)`). */
  namespace: string;
  /** Public host name of the estate (`settings.edge.customDomain`). */
  customDomain: string;
  /** Whether the cluster spans availability zones (`settings.cluster.zones` not empty). */
  zoned: boolean;
  /** Login server of the container registry. */
  registryLoginServer: pulumi.Input<string>;
  /** Resource group, region, OIDC issuer and tags of the services' workload identities. */
  identity: {
    resourceGroupName: pulumi.Input<string>;
    location: pulumi.Input<string>;
    oidcIssuerUrl: pulumi.Input<string>;
    tags: Record<string, string>;
  };
  /** Role grants per service name. Default: none. */
  roles?: Record<string, RoleGrant[]>;
  /** Slack incoming webhook for Flagger's alerts; required when `delivery.slackChannel` is set. */
  slackWebhookUrl?: pulumi.Input<string>;
  /**
   * Secret in the application namespace whose `key` holds the AMQP URI (amqp://user:pass@host:5672/vhost)
   * KEDA reads queue lengths with. Default: AMQP_SECRET, which the RabbitMQ component writes.
   */
  queueSecret?: { name: pulumi.Input<string>; key: string };
  /** Kubernetes provider. */
  provider: k8s.Provider;
}

/** The stack's services. */
export class Workloads extends pulumi.ComponentResource {
  /** The services by catalogue name. */
  public readonly services: Record<string, Service>;
  /** Image of each service's Deployment. */
  public readonly images: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: WorkloadsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:workloads:Workloads", name, {}, { ...opts, providers: [args.provider] });
    const k8sOpts = { parent: this, provider: args.provider };
    const ns = args.namespace;

    const templates = Object.entries(metricTemplateSpecs(PROMETHEUS_URL)).map(
      ([templateName, spec]) =>
        new k8s.apiextensions.CustomResource(
          `${name}-metric-${templateName}`,
          {
            apiVersion: "flagger.app/v1beta1",
            kind: "MetricTemplate",
            metadata: { name: templateName, namespace: ns },
            spec,
          },
          k8sOpts,
        ),
    );

    let alertProvider: { name: string; namespace: string } | undefined;
    const shared: pulumi.Resource[] = [...templates];
    if (args.delivery.slackChannel) {
      if (!args.slackWebhookUrl) {
        throw new Error(`Workloads ${name}: slackWebhookUrl is required when delivery.slackChannel is set`);
      }
      const secret = new k8s.core.v1.Secret(
        `${name}-flagger-slack`,
        {
          metadata: { name: `${ALERT_PROVIDER}-flagger-webhook`, namespace: ns },
          type: "Opaque",
          // Flagger reads the webhook URL from the key `address`.
          stringData: { address: pulumi.secret(args.slackWebhookUrl) },
        },
        k8sOpts,
      );
      const provider = new k8s.apiextensions.CustomResource(
        `${name}-alert-provider`,
        {
          apiVersion: "flagger.app/v1beta1",
          kind: "AlertProvider",
          metadata: { name: ALERT_PROVIDER, namespace: ns },
          spec: {
            type: "slack",
            channel: args.delivery.slackChannel,
            username: "flagger",
            secretRef: { name: secret.metadata.name },
          },
        },
        k8sOpts,
      );
      shared.push(provider);
      alertProvider = { name: ALERT_PROVIDER, namespace: ns };
    }

    const needsQueue = Object.values(args.services).some((s) => s.autoscaler === "keda");
    if (needsQueue) {
      const queueSecret = args.queueSecret ?? AMQP_SECRET;
      shared.push(
        new k8s.apiextensions.CustomResource(
          `${name}-queue-auth`,
          {
            apiVersion: "keda.sh/v1alpha1",
            kind: "TriggerAuthentication",
            metadata: { name: QUEUE_AUTHENTICATION, namespace: ns },
            spec: { secretTargetRef: [{ parameter: "host", name: queueSecret.name, key: queueSecret.key }] },
          },
          k8sOpts,
        ),
      );
    }

    this.services = {};
    for (const [svcName, svc] of Object.entries(args.services)) {
      this.services[svcName] = new Service(
        `${name}-${svcName}`,
        {
          serviceName: svcName,
          settings: svc,
          delivery: args.delivery,
          namespace: ns,
          registryLoginServer: args.registryLoginServer,
          zoned: args.zoned,
          // The identity's tags name the data resources it calls (lib/access.ts): the pack checks each has its grant.
          identity: {
            ...args.identity,
            tags: { ...args.identity.tags, ...accessTags(svcName, svc.access) },
            roles: args.roles?.[svcName],
          },
          alertProvider,
          queueAuthentication: svc.autoscaler === "keda" ? QUEUE_AUTHENTICATION : undefined,
          provider: args.provider,
        },
        { parent: this, dependsOn: shared },
      );
    }
    if (publicRoutes(args.services).length > 0) {
      new k8s.apiextensions.CustomResource(
        `${name}-public-routes`,
        {
          apiVersion: "networking.istio.io/v1",
          kind: "VirtualService",
          metadata: { name: PUBLIC_ROUTES, namespace: ns },
          spec: publicRootSpec(args.services, ns, args.customDomain),
        },
        { ...k8sOpts, dependsOn: Object.values(this.services) },
      );
    }
    this.images = pulumi.all(
      Object.fromEntries(Object.entries(this.services).map(([svcName, s]) => [svcName, s.image])),
    ) as pulumi.Output<Record<string, string>>;
    this.registerOutputs({ services: this.services, images: this.images });
  }
}
