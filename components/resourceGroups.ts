import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";

export interface ResourceGroupsArgs {
  /** Name prefix, "<prefix>-<env>". */
  prefix: string;
  /** Azure region of the stack. */
  location: string;
  /** Tags for every group. */
  tags: Record<string, string>;
}

/** The stack's resource groups: one for the platform, one for the data tier (separate lifecycle and locks). */
export class ResourceGroups extends pulumi.ComponentResource {
  public readonly platform: resources.ResourceGroup;
  public readonly data: resources.ResourceGroup;
  public readonly platformName: pulumi.Output<string>;
  public readonly dataName: pulumi.Output<string>;

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
    this.platformName = this.platform.name;
    this.dataName = this.data.name;
    this.registerOutputs({ platformName: this.platformName, dataName: this.dataName });
  }
}
