import * as pulumi from "@pulumi/pulumi";
import * as network from "@pulumi/azure-native/network";

export interface PrivateEndpointArgs {
  /** Resource group of the endpoint (the group of the resource it serves). */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region of the endpoint (the VNet's). */
  location: pulumi.Input<string>;
  /** The private endpoints subnet. */
  subnetId: pulumi.Input<string>;
  /** ARM id of the resource reached through the endpoint. */
  targetId: pulumi.Input<string>;
  /** Sub-resource of the target ("vault", "registry", "redisEnterprise", "searchService", "blob"). */
  groupId: string;
  /** Private DNS zone that gets the endpoint's A records. */
  privateDnsZoneId: pulumi.Input<string>;
  /** Tags of the endpoint. */
  tags: Record<string, string>;
}

/**
 * A private endpoint and its DNS zone group, so the target's public name resolves to the endpoint's private
 * address inside the VNet. Children are created under `parent` with names derived from `name`.
 */
export function privateEndpoint(
  name: string,
  args: PrivateEndpointArgs,
  parent: pulumi.Resource,
): network.PrivateEndpoint {
  const endpoint = new network.PrivateEndpoint(
    name,
    {
      resourceGroupName: args.resourceGroupName,
      location: args.location,
      subnet: { id: args.subnetId },
      privateLinkServiceConnections: [
        { name: `${name}-${args.groupId}`, privateLinkServiceId: args.targetId, groupIds: [args.groupId] },
      ],
      tags: args.tags,
    },
    { parent },
  );
  new network.PrivateDnsZoneGroup(
    `${name}-dns`,
    {
      resourceGroupName: args.resourceGroupName,
      privateEndpointName: endpoint.name,
      privateDnsZoneGroupName: "default",
      privateDnsZoneConfigs: [{ name: args.groupId, privateDnsZoneId: args.privateDnsZoneId }],
    },
    { parent },
  );
  return endpoint;
}
