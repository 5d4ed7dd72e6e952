import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";

export interface ReplicationPeeringArgs {
  /** Name prefix of this (the replica's) stack, "<prefix>-<env>". */
  prefix: string;
  /** Subscription of both stacks. */
  subscriptionId: pulumi.Input<string>;
  /** This stack's VNet: its resource group and name. */
  local: { resourceGroup: pulumi.Input<string>; name: pulumi.Input<string> };
  /** The source server's VNet (`data.postgres.replicaOf.virtualNetwork`). */
  remote: { resourceGroup: string; name: string };
}

/**
 * Global VNet peering between the replica's VNet and its source's, in both directions: a VNet-integrated
 * PostgreSQL read replica in another region replicates over it (Azure "Networking with private access",
 * replication across regions and virtual networks), and the NSGs of both PostgreSQL subnets decide what may cross.
 * Both halves are declared here; the source's half lives in the primary region, so it is retained on delete and
 * removing it never needs that region.
 */
export class ReplicationPeering extends pulumi.ComponentResource {
  constructor(name: string, args: ReplicationPeeringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:ReplicationPeering", name, {}, opts);
    const vnetId = (group: pulumi.Input<string>, vnet: pulumi.Input<string>) =>
      pulumi.interpolate`/subscriptions/${args.subscriptionId}/resourceGroups/${group}/providers/Microsoft.Network/virtualNetworks/${vnet}`;
    const common = {
      allowVirtualNetworkAccess: true,
      allowForwardedTraffic: false,
      useRemoteGateways: false,
    };
    new network.VirtualNetworkPeering(
      `${name}-to-source`,
      {
        ...common,
        resourceGroupName: args.local.resourceGroup,
        virtualNetworkName: args.local.name,
        virtualNetworkPeeringName: `to-${args.remote.name}`,
        remoteVirtualNetwork: { id: vnetId(args.remote.resourceGroup, args.remote.name) },
      },
      { parent: this },
    );
    new network.VirtualNetworkPeering(
      `${name}-from-source`,
      {
        ...common,
        resourceGroupName: args.remote.resourceGroup,
        virtualNetworkName: args.remote.name,
        virtualNetworkPeeringName: `to-vnet-${args.prefix}`,
        remoteVirtualNetwork: { id: vnetId(args.local.resourceGroup, args.local.name) },
      },
      { parent: this, retainOnDelete: true },
    );
    this.registerOutputs({});
  }
}
