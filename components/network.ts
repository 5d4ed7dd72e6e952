import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import * as privatedns from "@pulumi/azure-native/privatedns";
import type { NetworkSettings } from "../settings";

export type SubnetRole = keyof NetworkSettings["subnets"];
export const SUBNET_ROLES: SubnetRole[] = ["aksNodes", "ingress", "privateEndpoints", "postgres"];

/** Lowest priority a custom NSG rule can have: the explicit deny-all sits there, below every allow. */
export const DENY_ALL_PRIORITY = 4096;

/** Ports that must never be reachable from the internet. */
export const MANAGEMENT_PORTS = ["22", "3389"];

/** Azure Managed Redis listens on 10000 (TLS) for its OSS-cluster and Enterprise policies. */
export const REDIS_PORT = "10000";

/** One NSG rule, in the shape of `network.SecurityRuleArgs` with plain values. */
export interface NsgRule {
  name: string;
  priority: number;
  direction: "Inbound" | "Outbound";
  access: "Allow" | "Deny";
  protocol: "Tcp" | "Udp" | "*";
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  sourcePortRange: string;
  destinationAddressPrefix: string;
  destinationPortRange?: string;
  destinationPortRanges?: string[];
  description: string;
}

const allow = (
  name: string,
  priority: number,
  source: string | string[],
  destination: string,
  ports: string[],
  description: string,
  protocol: NsgRule["protocol"] = "Tcp",
): NsgRule => ({
  name,
  priority,
  direction: "Inbound",
  access: "Allow",
  protocol,
  ...(Array.isArray(source) ? { sourceAddressPrefixes: source } : { sourceAddressPrefix: source }),
  sourcePortRange: "*",
  destinationAddressPrefix: destination,
  ...(ports.length === 1 ? { destinationPortRange: ports[0] } : { destinationPortRanges: ports }),
  description,
});

/**
 * Inbound rules of a subnet's NSG: the flows the estate needs and, at the lowest custom priority, an
 * explicit DenyAllInbound that overrides Azure's default AllowVnetInBound. Outbound stays at Azure's
 * defaults; egress to the internet leaves only through the NAT gateway.
 */
export function nsgRules(role: SubnetRole, net: Pick<NetworkSettings, "subnets" | "podCidr">): NsgRule[] {
  const s = net.subnets;
  const probes = allow(
    "AllowAzureLoadBalancerProbes",
    100,
    "AzureLoadBalancer",
    "*",
    ["*"],
    "Load balancer health probes.",
    "*",
  );
  const rules: NsgRule[] = [probes];
  switch (role) {
    case "aksNodes":
      rules.push(
        // Azure CNI overlay keeps pod addresses between nodes, so the pod CIDR is a source as well.
        allow(
          "AllowNodesAndPods",
          200,
          [s.aksNodes, net.podCidr],
          s.aksNodes,
          ["*"],
          "Node-to-node and pod-to-pod traffic.",
          "*",
        ),
        // The Istio gateway's internal load balancer and Private Link Service NAT addresses live in the ingress subnet.
        allow(
          "AllowIngressToGateway",
          300,
          s.ingress,
          s.aksNodes,
          ["80", "443"],
          "Ingress (Front Door Private Link) to the Istio gateway pods.",
        ),
      );
      break;
    case "ingress":
      rules.push(
        allow(
          "AllowFrontDoorPrivateLink",
          200,
          s.ingress,
          s.ingress,
          ["80", "443"],
          "Front Door traffic arrives through the Private Link Service, NATed to addresses of this subnet.",
        ),
        allow(
          "AllowNodesToInternalLb",
          300,
          s.aksNodes,
          s.ingress,
          ["80", "443"],
          "In-cluster calls to the internal ingress address.",
        ),
      );
      break;
    case "privateEndpoints":
      rules.push(
        allow(
          "AllowNodesToPrivateEndpoints",
          200,
          s.aksNodes,
          s.privateEndpoints,
          ["443", REDIS_PORT],
          "Key Vault, ACR, Search and blob on 443; Azure Managed Redis on 10000.",
        ),
      );
      break;
    case "postgres":
      rules.push(
        allow("AllowNodesToPostgres", 200, s.aksNodes, s.postgres, ["5432"], "AKS nodes to PostgreSQL."),
        allow(
          "AllowPostgresReplication",
          300,
          s.postgres,
          s.postgres,
          ["5432"],
          "Primary to standby replication (high availability).",
        ),
      );
      break;
  }
  rules.push({
    name: "DenyAllInbound",
    priority: DENY_ALL_PRIORITY,
    direction: "Inbound",
    access: "Deny",
    protocol: "*",
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefix: "*",
    destinationPortRange: "*",
    description: "Deny by default: everything not allowed above.",
  });
  return rules;
}

/** Private DNS zones of the private endpoints, by the service they serve. */
export const PRIVATE_DNS_ZONES = {
  keyVault: "privatelink.vaultcore.azure.net",
  redis: "privatelink.redis.azure.net",
  acr: "privatelink.azurecr.io",
  search: "privatelink.search.windows.net",
  blob: "privatelink.blob.core.windows.net",
} as const;
export type PrivateZone = keyof typeof PRIVATE_DNS_ZONES | "postgres";

/** Flexible Server with VNet integration needs a zone ending in postgres.database.azure.com of its own. */
export function postgresDnsZone(prefix: string): string {
  return `${prefix}.private.postgres.database.azure.com`;
}

export interface NetworkArgs {
  /** Name prefix, "<prefix>-<env>". */
  prefix: string;
  /** Resource group of the network. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  location: string;
  /** The stack's network settings (address space, subnets, pod/service CIDRs, NAT idle timeout). */
  settings: NetworkSettings;
  /** Availability zones of the stack; the NAT gateway and its address are zonal outside dev. Empty: no zones. */
  zones: string[];
  /** Tags of every resource. */
  tags: Record<string, string>;
}

/**
 * The stack's VNet: one subnet per role, one deny-by-default NSG per subnet, egress through a NAT gateway on
 * the node subnet (no default outbound access anywhere), and the private DNS zones the endpoints register in.
 */
export class Network extends pulumi.ComponentResource {
  public readonly vnet: network.VirtualNetwork;
  /** Subnet resources by role. */
  public readonly subnets: Record<SubnetRole, network.Subnet>;
  /** Subnet ids by role. */
  public readonly subnetIds: Record<SubnetRole, pulumi.Output<string>>;
  /** Subnet names by role (the ingress one goes into the PLS annotation). */
  public readonly subnetNames: Record<SubnetRole, string>;
  /** NSGs by subnet role. */
  public readonly nsgs: Record<SubnetRole, network.NetworkSecurityGroup>;
  /** Private DNS zone ids by service. */
  public readonly privateDnsZoneIds: Record<PrivateZone, pulumi.Output<string>>;
  public readonly natGatewayId: pulumi.Output<string>;
  /** The egress address of the cluster (allow-list it at third parties). */
  public readonly egressIp: pulumi.Output<string>;
  public readonly vnetId: pulumi.Output<string>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:Network", name, {}, opts);
    const { resourceGroupName, location, tags, settings } = args;
    const zonal = args.zones.length > 0 ? [args.zones[0]] : undefined;

    this.vnet = new network.VirtualNetwork(
      `${name}-vnet`,
      {
        resourceGroupName,
        location,
        virtualNetworkName: `vnet-${args.prefix}`,
        addressSpace: { addressPrefixes: [settings.addressSpace] },
        tags,
      },
      { parent: this },
    );

    const egressIp = new network.PublicIPAddress(
      `${name}-nat-ip`,
      {
        resourceGroupName,
        location,
        publicIpAddressName: `pip-${args.prefix}-nat`,
        sku: { name: "Standard", tier: "Regional" },
        publicIPAllocationMethod: "Static",
        publicIPAddressVersion: "IPv4",
        // A Standard NAT gateway is zonal: its address lives in the same zone.
        zones: zonal,
        tags,
      },
      { parent: this },
    );
    const nat = new network.NatGateway(
      `${name}-nat`,
      {
        resourceGroupName,
        location,
        natGatewayName: `ng-${args.prefix}`,
        sku: { name: "Standard" },
        idleTimeoutInMinutes: settings.natIdleTimeoutMinutes,
        publicIpAddresses: [{ id: egressIp.id }],
        zones: zonal,
        tags,
      },
      { parent: this },
    );

    this.nsgs = {} as Record<SubnetRole, network.NetworkSecurityGroup>;
    this.subnets = {} as Record<SubnetRole, network.Subnet>;
    this.subnetNames = {} as Record<SubnetRole, string>;
    let previous: network.Subnet | undefined;
    for (const role of SUBNET_ROLES) {
      const nsg = new network.NetworkSecurityGroup(
        `${name}-nsg-${role}`,
        {
          resourceGroupName,
          location,
          networkSecurityGroupName: `nsg-${args.prefix}-${role}`,
          securityRules: nsgRules(role, settings),
          tags,
        },
        { parent: this },
      );
      this.nsgs[role] = nsg;
      const subnetName = `snet-${role}`;
      this.subnetNames[role] = subnetName;
      const subnet = new network.Subnet(
        `${name}-snet-${role}`,
        {
          resourceGroupName,
          virtualNetworkName: this.vnet.name,
          subnetName,
          addressPrefix: settings.subnets[role],
          networkSecurityGroup: { id: nsg.id },
          defaultOutboundAccess: false,
          natGateway: role === "aksNodes" ? { id: nat.id } : undefined,
          delegations:
            role === "postgres"
              ? [{ name: "postgres", serviceName: "Microsoft.DBforPostgreSQL/flexibleServers" }]
              : undefined,
          // NSGs apply to private endpoints only with network policies enabled.
          privateEndpointNetworkPolicies: role === "privateEndpoints" ? "Enabled" : undefined,
          // The AKS cloud provider places the Private Link Service's NAT addresses in the ingress subnet.
          privateLinkServiceNetworkPolicies: role === "ingress" ? "Disabled" : undefined,
        },
        // Azure rejects concurrent writes to one VNet's subnets: declare them one after another.
        { parent: this, dependsOn: previous ? [previous] : [] },
      );
      this.subnets[role] = subnet;
      previous = subnet;
    }

    const zoneNames: Record<PrivateZone, string> = {
      ...PRIVATE_DNS_ZONES,
      postgres: postgresDnsZone(args.prefix),
    };
    this.privateDnsZoneIds = {} as Record<PrivateZone, pulumi.Output<string>>;
    for (const [service, zoneName] of Object.entries(zoneNames) as [PrivateZone, string][]) {
      const zone = new privatedns.PrivateZone(
        `${name}-dns-${service}`,
        { resourceGroupName, location: "global", privateZoneName: zoneName, tags },
        { parent: this },
      );
      new privatedns.VirtualNetworkLink(
        `${name}-dns-${service}-link`,
        {
          resourceGroupName,
          location: "global",
          privateZoneName: zone.name,
          virtualNetworkLinkName: `link-${args.prefix}`,
          virtualNetwork: { id: this.vnet.id },
          registrationEnabled: false,
          tags,
        },
        { parent: this },
      );
      this.privateDnsZoneIds[service] = zone.id;
    }

    this.subnetIds = Object.fromEntries(SUBNET_ROLES.map((r) => [r, this.subnets[r].id])) as Record<
      SubnetRole,
      pulumi.Output<string>
    >;
    this.natGatewayId = nat.id;
    this.egressIp = egressIp.ipAddress.apply((ip) => ip ?? "");
    this.vnetId = this.vnet.id;
    this.registerOutputs({
      subnetIds: this.subnetIds,
      subnetNames: this.subnetNames,
      privateDnsZoneIds: this.privateDnsZoneIds,
      natGatewayId: this.natGatewayId,
      egressIp: this.egressIp,
      vnetId: this.vnetId,
    });
  }
}
