import * as assert from "node:assert/strict";
import { cidrContains, parseCidr } from "../../lib/cidr";
import { DENY_ALL_PRIORITY, MANAGEMENT_PORTS, nsgRules, SUBNET_ROLES } from "../../components/network";
import { ofType, rendered, STACKS } from "../support/estate";

type Rule = Record<string, any>;

const OPEN_SOURCES = new Set(["*", "internet", "0.0.0.0/0", "any"]);
const sources = (r: Rule): string[] =>
  [r.sourceAddressPrefix, ...(r.sourceAddressPrefixes ?? [])].filter(Boolean);
const ports = (r: Rule): string[] =>
  [r.destinationPortRange, ...(r.destinationPortRanges ?? [])].filter(Boolean);

/** Whether a port range expression ("*", "22", "20-30") covers the port. */
function coversPort(range: string, port: number): boolean {
  if (range === "*") return true;
  const [lo, hi] = range.split("-").map(Number);
  return port >= lo && port <= (hi ?? lo);
}

describe("network", () => {
  for (const stack of STACKS) {
    it(`${stack}: every NSG ends inbound with an explicit DenyAllInbound below every allow`, async () => {
      const nsgs = ofType(await rendered(stack), "azure-native:network:NetworkSecurityGroup");
      assert.equal(nsgs.length, SUBNET_ROLES.length);
      for (const nsg of nsgs) {
        const inbound = (nsg.inputs.securityRules as Rule[]).filter((r) => r.direction === "Inbound");
        const deny = inbound.find((r) => r.name === "DenyAllInbound");
        assert.ok(deny, `${nsg.name} has no DenyAllInbound`);
        assert.equal(deny.access, "Deny");
        assert.deepEqual(
          [deny.protocol, deny.sourceAddressPrefix, deny.destinationPortRange],
          ["*", "*", "*"],
        );
        assert.equal(deny.priority, DENY_ALL_PRIORITY);
        for (const r of inbound.filter((x) => x !== deny))
          assert.ok(r.priority < deny.priority, `${r.name} sits below the deny`);
      }
    });

    it(`${stack}: no NSG rule lets the internet reach SSH, RDP or any port`, async () => {
      for (const nsg of ofType(await rendered(stack), "azure-native:network:NetworkSecurityGroup")) {
        for (const r of (nsg.inputs.securityRules as Rule[]).filter(
          (x) => x.access === "Allow" && x.direction === "Inbound",
        )) {
          const open = sources(r).some((s) => OPEN_SOURCES.has(s.toLowerCase()));
          if (!open) continue;
          for (const port of MANAGEMENT_PORTS.map(Number)) {
            assert.ok(
              !ports(r).some((p) => coversPort(p, port)),
              `${nsg.name}/${r.name} opens ${port} to ${sources(r)}`,
            );
          }
          assert.ok(!ports(r).includes("*"), `${nsg.name}/${r.name} opens every port to ${sources(r)}`);
        }
      }
    });
  }

  /** prod's subnet plan, for the NSG rule tests. */
  const net = {
    addressSpace: "10.0.0.0/16",
    subnets: {
      aksNodes: "10.0.0.0/20",
      ingress: "10.0.16.0/24",
      privateEndpoints: "10.0.17.0/24",
      postgres: "10.0.18.0/24",
    },
    podCidr: "192.168.0.0/16",
  };

  it("allows only AKS nodes (pods leave SNATed to their node) and the subnet itself to reach PostgreSQL, on 5432", () => {
    const toPg = nsgRules("postgres", net).filter(
      (r) => r.direction === "Inbound" && r.access === "Allow" && r.destinationPortRange === "5432",
    );
    assert.deepEqual(toPg.map((r) => r.sourceAddressPrefix).sort(), ["10.0.0.0/20", "10.0.18.0/24"]);
    // The ingress subnet (Front Door's entry) has no path to the database.
    assert.ok(
      !nsgRules("postgres", net).some(
        (r) => r.access === "Allow" && sources(r).includes(net.subnets.ingress),
      ),
    );
  });

  it("lets Private Link traffic reach the gateway's frontend address on the node NSG (floating IP)", () => {
    const pls = nsgRules("aksNodes", net).find((r) => r.name === "Allow-private-link-to-gateway");
    assert.equal(pls?.sourceAddressPrefix, net.subnets.ingress);
    assert.equal(pls?.destinationAddressPrefix, "10.0.16.10");
    assert.deepEqual(pls?.destinationPortRanges, ["80", "443"]);
  });

  it("node and pod CIDRs reach each other on every port, both directions of the node NSG", () => {
    const rules = nsgRules("aksNodes", net);
    for (const [id, from, to] of [
      ["nodes-to-pods", net.subnets.aksNodes, net.podCidr],
      ["pods-to-pods", net.podCidr, net.podCidr],
      ["pods-to-nodes", net.podCidr, net.subnets.aksNodes],
    ]) {
      for (const name of [`Allow-${id}`, `AllowOut-${id}`]) {
        const r = rules.find((x) => x.name === name);
        assert.deepEqual(
          [r?.sourceAddressPrefix, r?.destinationAddressPrefix, r?.destinationPortRange, r?.protocol],
          [from, to, "*", "*"],
          name,
        );
      }
    }
  });

  it("opens Redis' OSS-cluster shard ports beside 10000 on the private endpoints NSG", () => {
    const redis = nsgRules("privateEndpoints", net).find((r) => r.name === "Allow-nodes-to-redis");
    assert.deepEqual(redis?.destinationPortRanges, ["10000", "8500-8599"]);
  });

  it("prod: subnets sit in the address space, have no default outbound access; only PostgreSQL uses the NAT gateway", async () => {
    const run = await rendered("prod");
    const space = parseCidr(run.config.settings.network.addressSpace);
    const subnets = ofType(run, "azure-native:network:Subnet");
    assert.equal(subnets.length, 4);
    for (const s of subnets) {
      assert.ok(cidrContains(space, parseCidr(s.inputs.addressPrefix as string)), s.name);
      assert.equal(s.inputs.defaultOutboundAccess, false, s.name);
      assert.ok((s.inputs.networkSecurityGroup as Rule)?.id, `${s.name} has no NSG`);
    }
    const nodes = subnets.find((s) => s.inputs.subnetName === "snet-aksNodes")!;
    // The nodes leave through the cluster's load balancer on the zone-redundant egress address (cluster tests).
    assert.equal(nodes.inputs.natGateway, undefined);
    const pg = subnets.find((s) => s.inputs.subnetName === "snet-postgres")!;
    // Entra ID authentication and WAL archive need a way out: the NAT gateway and a storage service endpoint.
    assert.match((pg.inputs.natGateway as Rule).id, /natGateways\//);
    assert.deepEqual(pg.inputs.serviceEndpoints, [{ service: "Microsoft.Storage" }]);
    assert.deepEqual(
      (pg.inputs.delegations as Rule[]).map((d) => d.serviceName),
      ["Microsoft.DBforPostgreSQL/flexibleServers"],
    );
    const nat = ofType(run, "azure-native:network:NatGateway")[0];
    assert.deepEqual(nat.inputs.zones, ["1"]);
  });

  it("prod: the nodes' egress address is zone-redundant (every zone), Standard and static", async () => {
    const run = await rendered("prod");
    const egress = ofType(run, "azure-native:network:PublicIPAddress").find(
      (p) => p.inputs.publicIpAddressName === "pip-aiwp-prod-egress",
    )!;
    assert.ok(egress, "the egress address is declared");
    // A Standard public IP listed in all three zones is zone-redundant; one zone would make it zonal.
    assert.deepEqual(egress.inputs.zones, ["1", "2", "3"]);
    assert.deepEqual(egress.inputs.sku, { name: "Standard", tier: "Regional" });
    assert.equal(egress.inputs.publicIPAllocationMethod, "Static");
  });

  it("dev: the NAT gateway and the addresses are not zonal", async () => {
    const run = await rendered("dev");
    assert.equal(ofType(run, "azure-native:network:NatGateway")[0].inputs.zones, undefined);
    for (const ip of ofType(run, "azure-native:network:PublicIPAddress"))
      assert.equal(ip.inputs.zones, undefined, String(ip.inputs.publicIpAddressName));
  });

  it("declares a private DNS zone linked to the VNet for each private endpoint service", async () => {
    const run = await rendered("prod");
    const zones = ofType(run, "azure-native:privatedns:PrivateZone").map((z) => z.inputs.privateZoneName);
    for (const z of [
      "privatelink.vaultcore.azure.net",
      "privatelink.redis.azure.net",
      "privatelink.azurecr.io",
      "privatelink.search.windows.net",
      "privatelink.blob.core.windows.net",
    ]) {
      assert.ok(zones.includes(z), z);
    }
    assert.ok(zones.some((z) => String(z).endsWith(".postgres.database.azure.com")));
    assert.equal(ofType(run, "azure-native:privatedns:VirtualNetworkLink").length, zones.length);
  });
});
