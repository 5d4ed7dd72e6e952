import * as assert from "node:assert/strict";
import { ingressLoadBalancerIp, ingressPrivateLinkServiceName } from "../../lib/names";
import { ofType, rendered, renderWith } from "../support/estate";

const inputs = (run: Awaited<ReturnType<typeof rendered>>, type: string) =>
  ofType(run, type).map((r) => r.inputs as Record<string, any>);

describe("front door", () => {
  it("WAF is Prevention in prod and Detection in dev, enabled, Premium", async () => {
    for (const [stack, mode] of [
      ["prod", "Prevention"],
      ["dev", "Detection"],
    ] as const) {
      const [waf] = inputs(await rendered(stack), "azure-native:frontdoor:Policy");
      assert.equal(waf.policySettings.mode, mode, stack);
      assert.equal(waf.policySettings.enabledState, "Enabled");
      assert.deepEqual(waf.sku, { name: "Premium_AzureFrontDoor" });
    }
  });

  it("WAF runs DefaultRuleSet 2.1 blocking, the bot manager and a per-minute rate limit from settings", async () => {
    const run = await rendered("prod");
    const [waf] = inputs(run, "azure-native:frontdoor:Policy");
    const sets = waf.managedRules.managedRuleSets.map(
      (s: any) => `${s.ruleSetType}@${s.ruleSetVersion}:${s.ruleSetAction ?? ""}`,
    );
    assert.deepEqual(sets, ["Microsoft_DefaultRuleSet@2.1:Block", "Microsoft_BotManagerRuleSet@1.1:"]);
    const [rule] = waf.customRules.rules;
    assert.equal(rule.ruleType, "RateLimitRule");
    assert.equal(rule.rateLimitThreshold, run.config.settings.edge.rateLimitPerMinute);
    assert.equal(rule.rateLimitDurationInMinutes, 1);
    assert.equal(rule.action, "Block");
  });

  it("the primary origin reaches the internal ingress through the AKS Private Link Service, priority 1", async () => {
    const run = await rendered("prod");
    const primary = inputs(run, "azure-native:cdn:AFDOrigin").find((o) => o.originName === "primary")!;
    assert.equal(primary.priority, 1);
    assert.equal(primary.hostName, ingressLoadBalancerIp(run.config.settings));
    assert.equal(primary.originHostHeader, run.config.settings.edge.customDomain);
    const pls = primary.sharedPrivateLinkResource;
    assert.match(
      pls.privateLink.id,
      new RegExp(
        `/resourceGroups/rg-aiwp-prod-aks-nodes/providers/Microsoft.Network/privateLinkServices/${ingressPrivateLinkServiceName("aiwp-prod")}$`,
      ),
    );
    assert.equal(pls.privateLinkLocation, "eastus");
    // The ingress address lies in the ingress subnet (prod 10.0.16.0/24).
    assert.equal(primary.hostName, "10.0.16.10");
  });

  it("prod's priority-2 origin is dr's ingress through dr's own Private Link Service, as the dr stack declares it", async () => {
    const prodRun = await rendered("prod");
    const drRun = await rendered("dr");
    const origins = inputs(prodRun, "azure-native:cdn:AFDOrigin");
    const dr = origins.find((o) => o.originName === "dr")!;
    assert.equal(dr.priority, 2);
    // No mixed origin group: every origin of the group is a Private Link origin (Front Door rejects a mix).
    assert.ok(
      origins.every((o) => o.sharedPrivateLinkResource?.privateLink?.id),
      "a public origin in the group",
    );
    assert.equal(new Set(origins.map((o) => o.originGroupName)).size, 1);
    // What the dr stack actually publishes: its node resource group, its Private Link Service, its address.
    const [drCluster] = ofType(drRun, "azure-native:containerservice:ManagedCluster");
    assert.match(
      dr.sharedPrivateLinkResource.privateLink.id,
      new RegExp(
        `/resourceGroups/${drCluster.inputs.nodeResourceGroup}/providers/Microsoft.Network/privateLinkServices/${ingressPrivateLinkServiceName("aiwp-dr")}$`,
      ),
    );
    assert.equal(dr.sharedPrivateLinkResource.privateLinkLocation, drRun.config.settings.location);
    assert.equal(dr.hostName, ingressLoadBalancerIp(drRun.config.settings));
    assert.equal(dr.originHostHeader, drRun.config.settings.edge.customDomain);
    assert.equal(inputs(await rendered("dev"), "azure-native:cdn:AFDOrigin").length, 1);
  });

  it("prod's profile, WAF policy and routes live in a resource group outside the primary region", async () => {
    const run = await rendered("prod");
    const edge = ofType(run, "azure-native:resources:ResourceGroup").find(
      (g) => g.inputs.resourceGroupName === "rg-aiwp-prod-edge",
    )!;
    assert.equal(edge.inputs.location, "westeurope");
    assert.notEqual(edge.inputs.location, run.config.settings.location);
    for (const type of [
      "azure-native:cdn:Profile",
      "azure-native:frontdoor:Policy",
      "azure-native:cdn:Route",
      "azure-native:cdn:AFDOriginGroup",
    ]) {
      for (const r of inputs(run, type)) assert.equal(r.resourceGroupName, "rg-aiwp-prod-edge", type);
    }
  });

  it("fails over by health probe: priority 1 then 2 in one group that probes both", async () => {
    const run = await rendered("prod");
    const [group] = inputs(run, "azure-native:cdn:AFDOriginGroup");
    assert.ok(group.healthProbeSettings.probeIntervalInSeconds > 0);
    const origins = inputs(run, "azure-native:cdn:AFDOrigin").sort((a, b) => a.priority - b.priority);
    assert.deepEqual(
      origins.map((o) => [o.originName, o.priority, o.enabledState]),
      [
        ["primary", 1, "Enabled"],
        ["dr", 2, "Enabled"],
      ],
    );
  });

  it("probes origins over HTTPS on the configured path and interval", async () => {
    const run = await rendered("prod");
    const [group] = inputs(run, "azure-native:cdn:AFDOriginGroup");
    assert.deepEqual(group.healthProbeSettings, {
      probePath: run.config.settings.edge.healthProbePath,
      probeProtocol: "Https",
      probeRequestType: "GET",
      probeIntervalInSeconds: run.config.settings.edge.healthProbeIntervalSeconds,
    });
    const custom = await renderWith("staging", (c) => {
      c["aiwp-estate:edge"] = {
        ...c["aiwp-estate:edge"],
        healthProbePath: "/healthz",
        healthProbeIntervalSeconds: 60,
      };
    });
    const [g2] = inputs(custom, "azure-native:cdn:AFDOriginGroup");
    assert.deepEqual(
      [g2.healthProbeSettings.probePath, g2.healthProbeSettings.probeIntervalInSeconds],
      ["/healthz", 60],
    );
  });

  it("routes HTTPS only (HTTP redirected), custom domain with a managed TLS 1.2 certificate, WAF attached to both domains", async () => {
    const run = await rendered("prod");
    const [route] = inputs(run, "azure-native:cdn:Route");
    assert.equal(route.httpsRedirect, "Enabled");
    assert.equal(route.forwardingProtocol, "HttpsOnly");
    assert.deepEqual([...route.supportedProtocols].sort(), ["Http", "Https"]);
    const [domain] = inputs(run, "azure-native:cdn:AFDCustomDomain");
    assert.equal(domain.hostName, "app.aiwp.example.com");
    assert.deepEqual(domain.tlsSettings, {
      certificateType: "ManagedCertificate",
      minimumTlsVersion: "TLS12",
    });
    assert.ok(route.customDomains.some((d: any) => d.id.endsWith("/app-aiwp-example-com")));
    const [policy] = inputs(run, "azure-native:cdn:SecurityPolicy");
    assert.equal(policy.parameters.type, "WebApplicationFirewall");
    assert.match(policy.parameters.wafPolicy.id, /\/wafaiwpprod$/);
    const domains = policy.parameters.associations[0].domains.map((d: any) => d.id);
    assert.ok(
      domains.some((id: string) => id.endsWith("/fde-aiwp-prod")),
      "the endpoint's default domain",
    );
    assert.ok(
      domains.some((id: string) => id.endsWith("/app-aiwp-example-com")),
      "the custom domain",
    );
  });

  it("exports the Front Door endpoint host name", async () => {
    const { outputs } = await rendered("prod");
    assert.match(String(outputs.frontDoorHostname), /^fde-aiwp-prod-[0-9a-f]+\.z01\.azurefd\.net$/);
  });
});
