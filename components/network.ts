import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";
import * as privatedns from "@pulumi/azure-native/privatedns";
import type { NetworkSettings } from "../settings";
import { ingressLoadBalancerIp } from "../lib/names";
import type { SecurityRule } from "../lib/nsg";
import {
  DENY_ALL_PRIORITY,
  MANAGEMENT_PORTS,
  nsgRulesFor,
  SUBNET_ROLES,
  type AzurePlacement,
  type SubnetRole,
} from "../lib/wiring/azure";

export type { SubnetRole };
export { SUBNET_ROLES, DENY_ALL_PRIORITY, MANAGEMENT_PORTS };

/** One NSG rule, in the shape of `network.SecurityRuleArgs` with plain values. */
export type NsgRule = SecurityRule;

/** The stack's address plan as the Azure flow table places its endpoints. */
export function placementOf(
  net: Pick<NetworkSettings, "addressSpace" | "subnets" | "podCidr" | "peerPostgresSubnets">,
): AzurePlacement {
  return {
    addressSpace: net.addressSpace,
    subnets: net.subnets,
    podCidr: net.podCidr,
    ingressFrontendIp: ingressLoadBalancerIp({ network: net as NetworkSettings }),
    peerPostgres: net.peerPostgresSubnets ?? [],
  };
}

/**
 * A subnet's NSG rules, derived from the Azure flow table (lib/wiring/azure.ts): inbound allows for the flows
 * that end in the subnet, outbound allows for those that start there, and an explicit DenyAllInbound at 4096
 * that overrides Azure's default AllowVnetInBound.
 */
export function nsgRules(
  role: SubnetRole,
  net: Pick<NetworkSettings, "addressSpace" | "subnets" | "podCidr" | "peerPostgresSubnets">,
): NsgRule[] {
  return nsgRulesFor(role, placementOf(net));
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
  /**
   * Availability zones of the stack: the nodes' egress address spans all of them (zone-redundant); the PostgreSQL
   * subnet's NAT gateway is zonal in the first. Empty: no zones.
   */
  zones: string[];
  /** Tags of every resource. */
  tags: Record<string, string>;
}

/**
 * The stack's VNet: one subnet per role, one deny-by-default NSG per subnet, the nodes' zone-redundant egress
 * address (the cluster load balancer's outbound IP) and PostgreSQL's NAT gateway (no default outbound access
 * anywhere), and the private DNS zones the endpoints register in.
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
  /** NAT gateway of the PostgreSQL subnet (its Entra ID calls). */
  public readonly natGatewayId: pulumi.Output<string>;
  /** The egress address of the cluster's nodes (allow-list it at third parties). */
  public readonly egressIp: pulumi.Output<string>;
  /** ARM id of that address: the outbound IP of the cluster's Standard load balancer. */
  public readonly egressIpId: pulumi.Output<string>;
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

    // The nodes leave through the AKS Standard load balancer's outbound rule on this address. A Standard public IP
    // listed in every zone is zone-redundant, and so is a load balancer frontend on it: it keeps serving through
    // the loss of a zone (load-balancer/load-balancer-standard-availability-zones). A Standard NAT gateway can be
    // zonal only (nat-gateway/nat-availability-zones), so a single one would take every node's egress, and its path
    // to the API server, down with its zone.
    const staticIp = (role: string, zones: string[] | undefined) =>
      new network.PublicIPAddress(
        `${name}-${role}-ip`,
        {
          resourceGroupName,
          location,
          publicIpAddressName: `pip-${args.prefix}-${role}`,
          sku: { name: "Standard", tier: "Regional" },
          publicIPAllocationMethod: "Static",
          publicIPAddressVersion: "IPv4",
          zones,
          tags,
        },
        { parent: this },
      );
    const egressIp = staticIp("egress", args.zones.length > 0 ? [...args.zones] : undefined);
    // PostgreSQL's delegated subnet cannot use the cluster's load balancer: its Entra ID calls leave through a NAT
    // gateway, zonal in the first zone (Flexible Server's HA standby in another zone keeps serving password logins
    // and data through a loss of that zone, not Entra ID sign-ins).
    // A Standard NAT gateway is zonal: its address lives in the same zone.
    const natIp = staticIp("nat", zonal);
    const nat = new network.NatGateway(
      `${name}-nat`,
      {
        resourceGroupName,
        location,
        natGatewayName: `ng-${args.prefix}`,
        sku: { name: "Standard" },
        idleTimeoutInMinutes: settings.natIdleTimeoutMinutes,
        publicIpAddresses: [{ id: natIp.id }],
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
          // Nodes leave through the cluster's load balancer (egressIp); PostgreSQL, whose Entra ID authentication
          // calls Entra ID, through the NAT gateway.
          natGateway: role === "postgres" ? { id: nat.id } : undefined,
          // Flexible Server archives WAL to Azure Storage: keep that path on the Azure backbone.
          serviceEndpoints: role === "postgres" ? [{ service: "Microsoft.Storage" }] : undefined,
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
    this.egressIpId = egressIp.id;
    this.vnetId = this.vnet.id;
    this.registerOutputs({
      subnetIds: this.subnetIds,
      subnetNames: this.subnetNames,
      privateDnsZoneIds: this.privateDnsZoneIds,
      natGatewayId: this.natGatewayId,
      egressIp: this.egressIp,
      egressIpId: this.egressIpId,
      vnetId: this.vnetId,
    });
  }
}
