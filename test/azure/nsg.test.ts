/**
 * The NSG evaluator against Azure's documented semantics, then every stack's declared NSGs against the Azure
 * flow table: each required flow allowed, each forbidden one blocked, naming the rule that decides.
 * Semantics: learn.microsoft.com/azure/virtual-network/network-security-groups-overview ("Security rules",
 * "Default security rules"), service-tags-overview (VirtualNetwork, AzureLoadBalancer, Internet).
 */
import * as assert from "node:assert/strict";
import { evaluate, validateRules, type Packet, type SecurityRule } from "../../lib/nsg";
import {
  AZURE_FLOWS,
  azureFlows,
  SUBNET_ROLES,
  explain,
  nsgRulesFor,
  topologyFromPlan,
  verifyFlow,
  type AzurePlacement,
  type AzureTopology,
  type SubnetRole,
} from "../../lib/wiring/azure";
import type { ProgramRun } from "../../tools/harness";
import { ofType, rendered, STACKS } from "../support/estate";

const VNET = { virtualNetwork: ["10.0.0.0/16"] };

const rule = (over: Partial<SecurityRule> & Pick<SecurityRule, "name" | "priority">): SecurityRule => ({
  direction: "Inbound",
  access: "Allow",
  protocol: "*",
  sourceAddressPrefix: "*",
  sourcePortRange: "*",
  destinationAddressPrefix: "*",
  destinationPortRange: "*",
  ...over,
});

const packet = (over: Partial<Packet>): Packet => ({
  direction: "Inbound",
  protocol: "Tcp",
  source: { ip: "10.0.1.4" },
  destination: { ip: "10.0.0.4" },
  destinationPort: 443,
  ...over,
});

const decide = (rules: SecurityRule[], p: Packet) => evaluate("nsg-test", rules, p, VNET);

describe("NSG evaluator: Azure's default rules", () => {
  it("AllowVnetInBound (65000) admits traffic from inside the VNet", () => {
    const d = decide([], packet({}));
    assert.equal(d.allowed, true);
    assert.equal(d.decidedBy, "NSG nsg-test rule AllowVnetInBound (65000)");
  });

  it("DenyAllInBound (65500) drops the internet", () => {
    const d = decide([], packet({ source: { ip: "198.51.100.7" } }));
    assert.equal(d.allowed, false);
    assert.equal(d.rule.name, "DenyAllInBound");
    assert.equal(d.rule.priority, 65500);
  });

  it("AllowAzureLoadBalancerInBound (65001) admits probes from 168.63.129.16 where VirtualNetwork is denied", () => {
    const denyVnet = rule({
      name: "DenyVnet",
      priority: 4000,
      access: "Deny",
      sourceAddressPrefix: "10.0.0.0/16",
    });
    const d = decide([denyVnet], packet({ source: { ip: "168.63.129.16" } }));
    // The host's virtual IP is part of the VirtualNetwork tag, so the first default to match is AllowVnetInBound.
    assert.equal(d.allowed, true);
    assert.equal(d.rule.name, "AllowVnetInBound");
    const customDenyVnetTag = rule({
      name: "DenyVnetTag",
      priority: 4000,
      access: "Deny",
      sourceAddressPrefix: "VirtualNetwork",
    });
    const probe = decide([customDenyVnetTag], packet({ source: { ip: "168.63.129.16" } }));
    assert.equal(probe.allowed, false, "a custom deny of VirtualNetwork also drops the host's probes");
  });

  it("AllowInternetOutBound (65001) lets public destinations out; DenyAllOutBound (65500) drops private ones outside the VNet", () => {
    const out = decide([], packet({ direction: "Outbound", destination: { ip: "198.51.100.7" } }));
    assert.equal(out.decidedBy, "NSG nsg-test rule AllowInternetOutBound (65001)");
    const pods = decide([], packet({ direction: "Outbound", destination: { ip: "192.168.3.4" } }));
    assert.equal(pods.allowed, false);
    assert.equal(pods.rule.name, "DenyAllOutBound");
  });
});

describe("NSG evaluator: custom rules", () => {
  it("processes rules by priority, lowest first, whatever order they are declared in", () => {
    const rules = [
      rule({ name: "DenyWide", priority: 200, access: "Deny" }),
      rule({ name: "AllowNarrow", priority: 100, sourceAddressPrefix: "10.0.1.0/24" }),
    ];
    assert.equal(decide(rules, packet({})).rule.name, "AllowNarrow");
    assert.equal(decide(rules, packet({ source: { ip: "10.0.2.4" } })).rule.name, "DenyWide");
  });

  it("stops at the first match even when a later rule is more specific", () => {
    const rules = [
      rule({ name: "DenyAll", priority: 100, access: "Deny" }),
      rule({
        name: "AllowExact",
        priority: 200,
        sourceAddressPrefix: "10.0.1.4",
        destinationPortRange: "443",
      }),
    ];
    assert.equal(decide(rules, packet({})).rule.name, "DenyAll");
  });

  it("matches port ranges and lists inclusively", () => {
    const shards = rule({
      name: "Shards",
      priority: 100,
      protocol: "Tcp",
      destinationPortRange: undefined,
      destinationPortRanges: ["10000", "8500-8599"],
    });
    const deny = rule({ name: "Deny", priority: 4096, access: "Deny" });
    for (const port of [10000, 8500, 8550, 8599])
      assert.equal(
        decide([shards, deny], packet({ destinationPort: port })).rule.name,
        "Shards",
        String(port),
      );
    for (const port of [8499, 8600, 9999])
      assert.equal(decide([shards, deny], packet({ destinationPort: port })).rule.name, "Deny", String(port));
  });

  it("matches protocols: Tcp is not Udp, * covers ICMP", () => {
    const tcp = rule({ name: "Tcp", priority: 100, protocol: "Tcp" });
    const deny = rule({ name: "Deny", priority: 4096, access: "Deny" });
    assert.equal(decide([tcp, deny], packet({ protocol: "Udp" })).rule.name, "Deny");
    assert.equal(
      decide([rule({ name: "Any", priority: 100 }), deny], packet({ protocol: "Icmp" })).rule.name,
      "Any",
    );
  });

  it("matches any of several source or destination prefixes", () => {
    const r = rule({
      name: "Both",
      priority: 100,
      sourceAddressPrefix: undefined,
      sourceAddressPrefixes: ["10.0.0.0/20", "192.168.0.0/16"],
      destinationAddressPrefix: undefined,
      destinationAddressPrefixes: ["10.0.0.0/20", "192.168.0.0/16"],
    });
    const deny = rule({ name: "Deny", priority: 4096, access: "Deny" });
    assert.equal(
      decide([r, deny], packet({ source: { ip: "192.168.9.9" }, destination: { ip: "192.168.1.1" } })).rule
        .name,
      "Both",
    );
    assert.equal(decide([r, deny], packet({ source: { ip: "10.0.17.4" } })).rule.name, "Deny");
  });

  it("service tags: AzureLoadBalancer is the probe address only, Internet excludes the VNet and private ranges", () => {
    const lb = rule({ name: "Probes", priority: 100, sourceAddressPrefix: "AzureLoadBalancer" });
    const internet = rule({ name: "FromInternet", priority: 200, sourceAddressPrefix: "Internet" });
    const deny = rule({ name: "Deny", priority: 4096, access: "Deny" });
    const rules = [lb, internet, deny];
    assert.equal(decide(rules, packet({ source: { ip: "168.63.129.16" } })).rule.name, "Probes");
    assert.equal(decide(rules, packet({ source: { ip: "10.0.1.4" } })).rule.name, "Deny");
    assert.equal(decide(rules, packet({ source: { ip: "172.20.0.4" } })).rule.name, "Deny");
    assert.equal(decide(rules, packet({ source: { ip: "198.51.100.7" } })).rule.name, "FromInternet");
    const fd = rule({ name: "FrontDoor", priority: 100, sourceAddressPrefix: "AzureFrontDoor.Backend" });
    assert.equal(decide([fd, deny], packet({ source: { ip: "198.51.100.7" } })).rule.name, "Deny");
    assert.equal(
      decide([fd, deny], packet({ source: { ip: "198.51.100.7", tags: ["AzureFrontDoor.Backend"] } })).rule
        .name,
      "FrontDoor",
    );
  });

  it("floating IP: a packet addressed to the load balancer's frontend is matched by that address, not the node subnet", () => {
    const toNodes = rule({
      name: "ToNodes",
      priority: 100,
      destinationAddressPrefix: "10.0.0.0/20",
      destinationPortRange: "443",
    });
    const toFrontend = rule({
      name: "ToFrontend",
      priority: 110,
      destinationAddressPrefix: "10.0.16.10",
      destinationPortRange: "443",
    });
    const deny = rule({ name: "DenyAllInbound", priority: 4096, access: "Deny" });
    const viaPls = packet({ source: { ip: "10.0.16.5" }, destination: { ip: "10.0.16.10" } });
    assert.equal(decide([toNodes, deny], viaPls).decidedBy, "NSG nsg-test rule DenyAllInbound (4096)");
    assert.equal(decide([toNodes, toFrontend, deny], viaPls).rule.name, "ToFrontend");
  });

  it("rejects what Azure rejects: priorities outside 100-4096, two rules at one priority", () => {
    assert.throws(() => validateRules("n", [rule({ name: "a", priority: 99 })]), /outside 100-4096/);
    assert.throws(
      () => validateRules("n", [rule({ name: "a", priority: 100 }), rule({ name: "b", priority: 100 })]),
      /share Inbound priority 100/,
    );
  });
});

/** prod's address plan (Pulumi.prod.yaml), for the derivation tests. */
const PROD: AzurePlacement = {
  addressSpace: "10.0.0.0/16",
  subnets: {
    aksNodes: "10.0.0.0/20",
    ingress: "10.0.16.0/24",
    privateEndpoints: "10.0.17.0/24",
    postgres: "10.0.18.0/24",
  },
  podCidr: "192.168.0.0/16",
  ingressFrontendIp: "10.0.16.10",
};

function withRules(
  topology: AzureTopology,
  role: SubnetRole,
  edit: (rules: SecurityRule[]) => SecurityRule[],
): AzureTopology {
  return {
    ...topology,
    subnets: {
      ...topology.subnets,
      [role]: { ...topology.subnets[role], rules: edit(structuredClone(topology.subnets[role].rules)) },
    },
  };
}
const flow = (id: string) => {
  const f = [...AZURE_FLOWS.required, ...AZURE_FLOWS.forbidden].find((x) => x.id === id);
  if (!f) throw new Error(`no flow ${id}`);
  return f;
};

describe("Azure flow table: what the verifier catches", () => {
  const base = topologyFromPlan(PROD, {
    prefix: "aiwp-prod",
    egressIps: ["20.0.0.10"],
    authorizedIpRanges: ["203.0.113.0/24", "20.0.0.10/32"],
  });

  it("a node/pod rule that admits only the node subnet as destination drops node-to-pod traffic at DenyAllInbound", () => {
    const broken = withRules(base, "aksNodes", (rules) =>
      rules.map((r) =>
        r.name === "Allow-nodes-to-pods" || r.name === "Allow-pods-to-pods"
          ? { ...r, destinationAddressPrefix: PROD.subnets.aksNodes }
          : r,
      ),
    );
    const v = verifyFlow(flow("nodes-to-pods"), broken);
    assert.equal(v.allowed, false);
    assert.match(explain(v, true), /nsg-aiwp-prod-aksNodes rule DenyAllInbound \(4096\)/);
    assert.equal(verifyFlow(flow("nodes-to-pods"), base).allowed, true);
  });

  it("a gateway rule addressed to the node subnet (no floating IP) drops Front Door's Private Link traffic", () => {
    const broken = withRules(base, "aksNodes", (rules) =>
      rules.map((r) =>
        r.name === "Allow-private-link-to-gateway"
          ? { ...r, destinationAddressPrefix: PROD.subnets.aksNodes }
          : r,
      ),
    );
    assert.match(
      explain(verifyFlow(flow("private-link-to-gateway"), broken), true),
      /DenyAllInbound \(4096\)/,
    );
  });

  it("a private endpoint rule without the Redis shard ports drops OSS-cluster redirects on 85xx", () => {
    const broken = withRules(base, "privateEndpoints", (rules) =>
      rules.map((r) =>
        r.destinationPortRanges?.includes("8500-8599") ? { ...r, destinationPortRanges: ["10000"] } : r,
      ),
    );
    const v = verifyFlow(flow("nodes-to-redis"), broken);
    assert.equal(v.allowed, false);
    assert.equal(v.blocked?.packet.destinationPort, 8500);
  });

  it("authorized ranges without the NAT egress address cut the nodes off the API server", () => {
    const v = verifyFlow(flow("nodes-to-api-server"), { ...base, authorizedIpRanges: ["203.0.113.0/24"] });
    assert.equal(v.allowed, false);
    assert.match(
      explain(v, true),
      /authorized IP ranges \[203\.0\.113\.0\/24\] leave out the egress address 20\.0\.0\.10/,
    );
  });

  it("a PostgreSQL subnet without NAT gateway or storage endpoint has no way out", () => {
    const noPath = {
      ...base,
      subnets: {
        ...base.subnets,
        postgres: { ...base.subnets.postgres, natGateway: false, serviceEndpoints: [] },
      },
    };
    assert.match(explain(verifyFlow(flow("postgres-to-entra"), noPath), true), /no outbound path/);
    assert.match(explain(verifyFlow(flow("postgres-to-storage"), noPath), true), /no outbound path/);
  });

  it("derived NSGs hold only valid priorities and end with DenyAllInbound at 4096", () => {
    for (const role of SUBNET_ROLES) {
      const rules = nsgRulesFor(role, PROD);
      validateRules(role, rules);
      assert.deepEqual(rules.filter((r) => r.direction === "Inbound").at(-1)?.name, "DenyAllInbound");
    }
  });
});

/** The stack's network as its rendered resources declare it. */
function topologyOf(run: ProgramRun): AzureTopology {
  const [vnet] = ofType(run, "azure-native:network:VirtualNetwork");
  const [cluster] = ofType(run, "azure-native:containerservice:ManagedCluster");
  const nsgs = new Map(
    ofType(run, "azure-native:network:NetworkSecurityGroup").map((n) => [
      n.inputs.networkSecurityGroupName as string,
      n.inputs.securityRules as SecurityRule[],
    ]),
  );
  const subnets = {} as AzureTopology["subnets"];
  const subnetCidrs = {} as Record<SubnetRole, string>;
  for (const s of ofType(run, "azure-native:network:Subnet")) {
    const role = String(s.inputs.subnetName).replace(/^snet-/, "") as SubnetRole;
    const nsgName = String((s.inputs.networkSecurityGroup as { id: string }).id)
      .split("/")
      .at(-1)!;
    subnetCidrs[role] = s.inputs.addressPrefix as string;
    subnets[role] = {
      nsgName,
      rules: nsgs.get(nsgName) ?? [],
      natGateway: Boolean(s.inputs.natGateway),
      // AKS puts the node subnet's VMs behind its Standard load balancer, whose outbound rule is the egress path.
      loadBalancerOutbound:
        role === "aksNodes" &&
        (cluster.inputs.networkProfile as { outboundType?: string }).outboundType === "loadBalancer",
      serviceEndpoints: ((s.inputs.serviceEndpoints ?? []) as { service: string }[]).map((e) => e.service),
    };
  }
  const frontend = run.registrations
    .map(
      (r) =>
        /"service\.beta\.kubernetes\.io\/azure-load-balancer-ipv4":"([\d.]+)"/.exec(
          JSON.stringify(r.inputs),
        )?.[1],
    )
    .find(Boolean);
  assert.ok(frontend, "the gateway Service declares its internal load balancer address");
  const network = cluster.inputs.networkProfile as { podCidr: string };
  const api = (cluster.inputs.apiServerAccessProfile ?? {}) as {
    authorizedIPRanges?: string[];
    enablePrivateCluster?: boolean;
  };
  return {
    placement: {
      addressSpace: (vnet.inputs.addressSpace as { addressPrefixes: string[] }).addressPrefixes[0],
      subnets: subnetCidrs,
      podCidr: network.podCidr,
      ingressFrontendIp: frontend!,
      // The peered region's subnet is settings, not a resource of this stack.
      peerPostgres: run.config.settings.network.peerPostgresSubnets ?? [],
    },
    subnets,
    egressIps: [String(run.outputs.egressIp)],
    authorizedIpRanges:
      api.enablePrivateCluster || !api.authorizedIPRanges?.length ? undefined : api.authorizedIPRanges,
  };
}

describe("Azure flow table: every stack's NSGs, as declared", () => {
  for (const stack of STACKS) {
    it(`${stack}: every required flow is allowed and every forbidden flow blocked`, async () => {
      const topology = topologyOf(await rendered(stack));
      const failures: string[] = [];
      const table = azureFlows(topology.placement);
      for (const f of table.required) {
        const v = verifyFlow(f, topology);
        if (!v.allowed) failures.push(`required ${explain(v, true)}`);
      }
      for (const f of table.forbidden) {
        const v = verifyFlow(f, topology);
        if (v.anyAllowed) failures.push(`forbidden ${explain(v, false)}`);
      }
      assert.deepEqual(failures, []);
    });

    it(`${stack}: the rule that decides is named (Front Door's path and the internet's)`, async () => {
      const topology = topologyOf(await rendered(stack));
      const pls = verifyFlow(flow("private-link-to-gateway"), topology);
      assert.match(
        pls.decidedBy.join(" "),
        /nsg-aiwp-\w+-aksNodes rule Allow-private-link-to-gateway \(\d+\)/,
      );
      const internet = verifyFlow(flow("internet-to-management-ports"), topology);
      assert.match(internet.decidedBy.join(" "), /rule DenyAllInbound \(4096\)/);
    });
  }
});

describe("Azure flow table: cross-region PostgreSQL replication", () => {
  const place: AzurePlacement = { ...PROD, peerPostgres: ["10.1.18.0/24"] };
  const replication = (table: ReturnType<typeof azureFlows>, id: string) => {
    const f = table.required.find((x) => x.id === id);
    if (!f) throw new Error(`no flow ${id}`);
    return f;
  };

  it("a stack with a peer replicates on 5432 both ways, and only there", () => {
    const table = azureFlows(place);
    const topology = topologyFromPlan(place, { prefix: "aiwp-prod" });
    for (const id of ["postgres-to-peer-postgres", "peer-postgres-to-postgres"]) {
      const v = verifyFlow(replication(table, id), topology);
      assert.ok(v.allowed, explain(v, true));
    }
    const inbound = verifyFlow(replication(table, "peer-postgres-to-postgres"), topology);
    assert.match(inbound.decidedBy.join(" "), /Allow-peer-postgres-to-postgres/);
    const mgmt = table.forbidden.find((x) => x.id === "peer-postgres-to-nodes")!;
    assert.equal(verifyFlow(mgmt, topology).anyAllowed, false);
  });

  it("without the peer's subnet in the plan, the replica's connection is denied by DenyAllInbound", () => {
    const withPeer = azureFlows(place);
    const topology = topologyFromPlan({ ...PROD, peerPostgres: [] }, { prefix: "aiwp-prod" });
    const v = verifyFlow(replication(withPeer, "peer-postgres-to-postgres"), {
      ...topology,
      placement: place,
    });
    assert.equal(v.allowed, false);
    assert.match(v.decidedBy.join(" "), /DenyAllInbound \(4096\)/);
  });

  it("a stack without a peer has no replication flows", () => {
    assert.equal(azureFlows(PROD), AZURE_FLOWS);
  });
});
