import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";

export interface ResourceGroupsArgs {
  /** Name prefix, "<prefix>-<env>". */
  prefix: string;
  /** Azure region of the stack. */
  location: string;
  /** Region of the edge group (Front Door's profile, WAF policy, routes): frontDoorLocation, not the primary's in prod. */
  edgeLocation: string;
  /** Tags for every group. */
  tags: Record<string, string>;
}

/**
 * The stack's resource groups: one for the platform, one for the data tier (separate lifecycle and locks), and
 * one for the edge (Front Door), whose region is chosen so the edge survives the loss of the primary region.
 */
export class ResourceGroups extends pulumi.ComponentResource {
  public readonly platform: resources.ResourceGroup;
  public readonly data: resources.ResourceGroup;
  public readonly edge: resources.ResourceGroup;
  public readonly platformName: pulumi.Output<string>;
  public readonly dataName: pulumi.Output<string>;
  /** Group of Front Door's profile, WAF policy and routes. */
  public readonly edgeName: pulumi.Output<string>;

  constructor(name: string, args: ResourceGroupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:ResourceGroups", name, {}, opts);
    this.platform = new resources.ResourceGroup(
      `${name}-platform`,
      { resourceGroupName: `rg-${args.prefix}-platform`, location: args.location, tags: args.tags },
      { parent: this },
    );
    this.data = new resources.ResourceGroup(
      `${name}-data`,
      { resourceGroupName: `rg-${args.prefix}-data`, location: args.location, tags: args.tags },
      { parent: this },
    );
    this.edge = new resources.ResourceGroup(
      `${name}-edge`,
      { resourceGroupName: `rg-${args.prefix}-edge`, location: args.edgeLocation, tags: args.tags },
      { parent: this },
    );
    this.platformName = this.platform.name;
    this.dataName = this.data.name;
    this.edgeName = this.edge.name;
    this.registerOutputs({
      platformName: this.platformName,
      dataName: this.dataName,
      edgeName: this.edgeName,
    });
  }
}
