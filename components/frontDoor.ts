import * as pulumi from "@pulumi/pulumi";
import * as cdn from "@pulumi/azure-native/cdn";
import * as frontdoor from "@pulumi/azure-native/frontdoor";
import type { EdgeSettings, Environment, Settings } from "../settings";

/**
 * Region of the resource group that holds the profile, WAF policy and routes. Front Door is global, but its
 * control plane is managed through that group: prod keeps it out of its primary region so the edge can be
 * changed (an origin disabled, a route switched) while that region is down.
 */
export function frontDoorLocation(
  s: Pick<Settings, "environment" | "location" | "drLocation"> & { edge: Pick<EdgeSettings, "location"> },
): string {
  return s.edge.location ?? (s.environment === "prod" ? s.drLocation : s.location);
}

/** WAF policy names are letters and digits only. */
export function wafPolicyName(prefix: string): string {
  return `waf${prefix.replace(/[^A-Za-z0-9]/g, "")}`;
}

/** ARM id of the Private Link Service the AKS cloud provider creates for the ingress gateway. */
export function privateLinkServiceId(
  subscriptionId: string,
  nodeResourceGroup: string,
  plsName: string,
): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${nodeResourceGroup}/providers/Microsoft.Network/privateLinkServices/${plsName}`;
}

/** The WAF's managed rule sets: OWASP-based default rules blocking, and bot protection. */
export const MANAGED_RULE_SETS = [
  { ruleSetType: "Microsoft_DefaultRuleSet", ruleSetVersion: "2.1", ruleSetAction: "Block" },
  { ruleSetType: "Microsoft_BotManagerRuleSet", ruleSetVersion: "1.1" },
];

/** Per-client rate limit: more than `perMinute` requests from one socket address in a minute are blocked. */
export function rateLimitRule(perMinute: number) {
  return {
    name: "RateLimitPerClient",
    priority: 100,
    enabledState: "Enabled",
    ruleType: "RateLimitRule",
    rateLimitThreshold: perMinute,
    rateLimitDurationInMinutes: 1,
    groupBy: [{ variableName: "SocketAddr" }],
    matchConditions: [{ matchVariable: "RequestUri", operator: "Contains", matchValue: ["/"] }],
    action: "Block",
  };
}

export interface FrontDoorArgs {
  /** Name prefix, "<prefix>-<env>". */
  prefix: string;
  /** Which environment: prod adds the dr origin at priority 2. */
  environment: Environment;
  /** Resource group of the profile, WAF policy and routes: in a region other than the primary's (frontDoorLocation). */
  resourceGroupName: pulumi.Input<string>;
  /** Region of the Private Link Service (the cluster's). */
  location: string;
  /** The stack's edge settings. */
  settings: EdgeSettings;
  /** Subscription of the cluster. */
  subscriptionId: pulumi.Input<string>;
  /** The AKS node resource group, where the cloud provider creates the Private Link Service. */
  nodeResourceGroup: pulumi.Input<string>;
  /** Name of the ingress Private Link Service (lib/names ingressPrivateLinkServiceName). */
  privateLinkServiceName: string;
  /** Origin host name: the static internal load balancer address of the ingress gateway. */
  ingressAddress: string;
  /** Tags of every resource. */
  tags: Record<string, string>;
}

/**
 * Azure Front Door Premium in front of the internal ingress: a WAF (managed rules, bot protection, rate limit),
 * HTTPS only with a managed certificate on the custom domain, and a Private Link origin so the gateway is
 * reachable from Front Door alone. In prod the dr stack's ingress is the priority-2 origin, reached through
 * dr's own Private Link Service: Front Door fails over to it by health probe, with nothing to change in the
 * primary region.
 */
export class FrontDoor extends pulumi.ComponentResource {
  public readonly profile: cdn.Profile;
  /** The endpoint's *.azurefd.net host name (CNAME target of the custom domain). */
  public readonly hostname: pulumi.Output<string>;
  /** TXT record value for `_dnsauth.<customDomain>` that validates the managed certificate. */
  public readonly customDomainValidationToken: pulumi.Output<string>;
  public readonly wafPolicyId: pulumi.Output<string>;

  constructor(name: string, args: FrontDoorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:FrontDoor", name, {}, opts);
    const { resourceGroupName, settings: edge, tags } = args;

    const waf = new frontdoor.Policy(
      `${name}-waf`,
      {
        resourceGroupName,
        location: "Global",
        policyName: wafPolicyName(args.prefix),
        sku: { name: "Premium_AzureFrontDoor" },
        policySettings: {
          enabledState: "Enabled",
          mode: edge.wafMode,
          requestBodyCheck: "Enabled",
          customBlockResponseStatusCode: 403,
        },
        managedRules: { managedRuleSets: MANAGED_RULE_SETS },
        customRules: { rules: [rateLimitRule(edge.rateLimitPerMinute)] },
        tags,
      },
      { parent: this },
    );

    this.profile = new cdn.Profile(
      `${name}-profile`,
      {
        resourceGroupName,
        location: "Global",
        profileName: `afd-${args.prefix}`,
        sku: { name: "Premium_AzureFrontDoor" },
        originResponseTimeoutSeconds: 60,
        tags,
      },
      { parent: this },
    );
    const profileName = this.profile.name;
    const endpoint = new cdn.AFDEndpoint(
      `${name}-endpoint`,
      {
        resourceGroupName,
        profileName,
        location: "Global",
        endpointName: `fde-${args.prefix}`,
        enabledState: "Enabled",
        tags,
      },
      { parent: this },
    );
    const originGroup = new cdn.AFDOriginGroup(
      `${name}-origins`,
      {
        resourceGroupName,
        profileName,
        originGroupName: "ingress",
        healthProbeSettings: {
          probePath: edge.healthProbePath,
          probeProtocol: cdn.ProbeProtocol.Https,
          probeRequestType: cdn.HealthProbeRequestType.GET,
          probeIntervalInSeconds: edge.healthProbeIntervalSeconds,
        },
        loadBalancingSettings: {
          sampleSize: 4,
          successfulSamplesRequired: 3,
          additionalLatencyInMilliseconds: 50,
        },
        sessionAffinityState: "Disabled",
      },
      { parent: this },
    );

    // The Istio gateway routes on the public host name and presents its certificate: Front Door sends it as
    // Host and SNI while connecting to the internal load balancer address through the Private Link Service.
    const primary = new cdn.AFDOrigin(
      `${name}-origin-primary`,
      {
        resourceGroupName,
        profileName,
        originGroupName: originGroup.name,
        originName: "primary",
        hostName: args.ingressAddress,
        originHostHeader: edge.customDomain,
        httpsPort: 443,
        httpPort: 80,
        priority: 1,
        weight: 1000,
        enabledState: "Enabled",
        enforceCertificateNameCheck: true,
        sharedPrivateLinkResource: {
          privateLink: {
            id: pulumi
              .all([args.subscriptionId, args.nodeResourceGroup])
              .apply(([sub, group]) => privateLinkServiceId(sub, group, args.privateLinkServiceName)),
          },
          privateLinkLocation: args.location,
          requestMessage: `Front Door ${args.prefix} to the ingress gateway`,
        },
      },
      { parent: this },
    );
    const origins: cdn.AFDOrigin[] = [primary];

    // Front Door accepts an origin group of Private Link origins or of public ones, never a mix
    // (learn.microsoft.com/azure/frontdoor/private-link, FAQ): the dr origin is a Private Link origin too, on
    // dr's own Private Link Service. Priority 2 receives traffic only while the health probes mark the
    // primary unhealthy (learn.microsoft.com/azure/frontdoor/routing-methods, "Priority-based").
    if (args.environment === "prod") {
      const dr = edge.drOrigin;
      if (!dr) throw new Error("edge.drOrigin is required in prod (dr's Private Link Service)");
      origins.push(
        new cdn.AFDOrigin(
          `${name}-origin-dr`,
          {
            resourceGroupName,
            profileName,
            originGroupName: originGroup.name,
            originName: "dr",
            hostName: dr.ingressAddress,
            originHostHeader: dr.hostHeader,
            httpsPort: 443,
            httpPort: 80,
            priority: 2,
            weight: 1000,
            enabledState: "Enabled",
            enforceCertificateNameCheck: true,
            sharedPrivateLinkResource: {
              privateLink: {
                id: pulumi
                  .output(dr.subscriptionId ?? args.subscriptionId)
                  .apply((sub) => privateLinkServiceId(sub, dr.nodeResourceGroup, dr.privateLinkServiceName)),
              },
              privateLinkLocation: dr.location,
              requestMessage: `Front Door ${args.prefix} to the dr ingress gateway`,
            },
          },
          { parent: this },
        ),
      );
    }

    const customDomain = new cdn.AFDCustomDomain(
      `${name}-domain`,
      {
        resourceGroupName,
        profileName,
        customDomainName: edge.customDomain.replace(/\./g, "-"),
        hostName: edge.customDomain,
        tlsSettings: {
          certificateType: "ManagedCertificate",
          minimumTlsVersion: cdn.AfdMinimumTlsVersion.TLS12,
        },
      },
      { parent: this },
    );

    new cdn.Route(
      `${name}-route`,
      {
        resourceGroupName,
        profileName,
        endpointName: endpoint.name,
        routeName: "default",
        originGroup: { id: originGroup.id },
        customDomains: [{ id: customDomain.id }],
        supportedProtocols: ["Http", "Https"],
        httpsRedirect: "Enabled",
        forwardingProtocol: "HttpsOnly",
        linkToDefaultDomain: "Enabled",
        patternsToMatch: ["/*"],
        enabledState: "Enabled",
      },
      // A route needs its origins in place before it can be enabled.
      { parent: this, dependsOn: origins },
    );

    new cdn.SecurityPolicy(
      `${name}-security`,
      {
        resourceGroupName,
        profileName,
        securityPolicyName: "waf",
        parameters: {
          type: "WebApplicationFirewall",
          wafPolicy: { id: waf.id },
          associations: [
            { domains: [{ id: endpoint.id }, { id: customDomain.id }], patternsToMatch: ["/*"] },
          ],
        },
      },
      { parent: this },
    );

    this.hostname = endpoint.hostName;
    this.customDomainValidationToken = customDomain.validationProperties.apply(
      (v) => v?.validationToken ?? "",
    );
    this.wafPolicyId = waf.id;
    this.registerOutputs({
      hostname: this.hostname,
      customDomainValidationToken: this.customDomainValidationToken,
      wafPolicyId: this.wafPolicyId,
    });
  }
}
