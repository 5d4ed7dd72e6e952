import * as pulumi from "@pulumi/pulumi";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";

export interface LogAnalyticsArgs {
  /** Name prefix, "<prefix>-<env>". */
  prefix: string;
  /** Resource group of the workspace. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  location: string;
  /** Days logs are kept (settings.cluster.logRetentionDays). */
  retentionDays: number;
  /** Tags of the workspace. */
  tags: Record<string, string>;
}

/** The stack's Log Analytics workspace: Container Insights and diagnostic logs land here. */
export class LogAnalytics extends pulumi.ComponentResource {
  public readonly workspace: operationalinsights.Workspace;
  /** ARM id of the workspace (omsagent's logAnalyticsWorkspaceResourceID). */
  public readonly workspaceId: pulumi.Output<string>;

  constructor(name: string, args: LogAnalyticsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:LogAnalytics", name, {}, opts);
    this.workspace = new operationalinsights.Workspace(
      `${name}-workspace`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        workspaceName: `log-${args.prefix}`,
        sku: { name: "PerGB2018" },
        retentionInDays: args.retentionDays,
        tags: args.tags,
      },
      { parent: this },
    );
    this.workspaceId = this.workspace.id;
    this.registerOutputs({ workspaceId: this.workspaceId });
  }
}
