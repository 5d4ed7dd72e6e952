import * as pulumi from "@pulumi/pulumi";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import type { Environment } from "../settings";
import { privateEndpoint } from "./privateEndpoint";
import { ROLES, roleDefinitionId } from "./workloadIdentity";

/** Premium (private endpoint, geo-replication, zone redundancy) everywhere but dev. */
export function registrySku(environment: Environment): "Standard" | "Premium" {
  return environment === "dev" ? "Standard" : "Premium";
}

/** Registry names are global, 5-50 letters and digits. */
export function registryName(prefix: string): string {
  return `acr${prefix.replace(/[^a-z0-9]/g, "")}`;
}

export interface RegistryArgs {
  /** Name prefix, "<prefix>-<env>". */
  prefix: string;
  /** Which environment: selects the SKU and whether the registry is geo-replicated. */
  environment: Environment;
  /** Resource group of the registry. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  location: string;
  /** The dr region; prod keeps a replica there, which the dr stack pulls from (`pullFrom`). */
  drLocation: string;
  /**
   * Pull from another stack's registry instead of declaring one (dr: prod's, through its replica in this
   * region): a private endpoint of this VNet to it and AcrPull for this cluster's kubelet.
   */
  pullFrom?: { resourceGroup: string; registryName: string; subscriptionId?: string };
  /** Whether the region has zones in use (zone-redundant registry). */
  zoned: boolean;
  /** Object id of the AKS kubelet identity, granted AcrPull. */
  kubeletObjectId: pulumi.Input<string>;
  /** Private endpoints subnet (used when Premium). */
  privateEndpointSubnetId: pulumi.Input<string>;
  /** privatelink.azurecr.io zone id. */
  privateDnsZoneId: pulumi.Input<string>;
  /** Tags of every resource. */
  tags: Record<string, string>;
}

/** ARM id of a registry. */
export function registryId(subscriptionId: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${name}`;
}

/** The stack's container registry: admin user off, reached privately where the SKU allows, AcrPull for nodes. */
export class Registry extends pulumi.ComponentResource {
  /** The registry this stack declares; undefined when it pulls from another stack's (`pullFrom`). */
  public readonly registry?: containerregistry.Registry;
  public readonly loginServer: pulumi.Output<string>;
  public readonly registryId: pulumi.Output<string>;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:Registry", name, {}, opts);
    const subscriptionId = authorization.getClientConfigOutput({ parent: this }).subscriptionId;
    const acrPull = (scope: pulumi.Input<string>) =>
      new authorization.RoleAssignment(
        `${name}-kubelet-acrpull`,
        {
          principalId: args.kubeletObjectId,
          principalType: "ServicePrincipal",
          roleDefinitionId: subscriptionId.apply((sub) => roleDefinitionId(sub, ROLES.acrPull)),
          scope,
        },
        { parent: this },
      );
    if (args.pullFrom) {
      const source = args.pullFrom;
      // A geo-replicated Premium registry serves pulls from its replica in the client's region, also while its
      // home region is down; the private endpoint maps the login and every regional data endpoint into this VNet.
      const id = pulumi
        .output(source.subscriptionId ?? subscriptionId)
        .apply((sub) => registryId(sub, source.resourceGroup, source.registryName));
      privateEndpoint(
        `${name}-pe`,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          subnetId: args.privateEndpointSubnetId,
          targetId: id,
          groupId: "registry",
          privateDnsZoneId: args.privateDnsZoneId,
          tags: args.tags,
        },
        this,
      );
      acrPull(id);
      this.loginServer = pulumi.output(`${source.registryName}.azurecr.io`);
      this.registryId = id;
      this.registerOutputs({ loginServer: this.loginServer, registryId: this.registryId });
      return;
    }
    const sku = registrySku(args.environment);
    const premium = sku === "Premium";
    this.registry = new containerregistry.Registry(
      `${name}-acr`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        registryName: registryName(args.prefix),
        sku: { name: sku },
        adminUserEnabled: false,
        anonymousPullEnabled: false,
        // Only Premium has private endpoints; the Standard dev registry stays public behind Entra ID auth.
        publicNetworkAccess: premium ? "Disabled" : "Enabled",
        networkRuleBypassOptions: premium ? "AzureServices" : undefined,
        networkRuleSet: premium ? { defaultAction: "Deny" } : undefined,
        dataEndpointEnabled: premium,
        zoneRedundancy: premium && args.zoned ? "Enabled" : "Disabled",
        tags: args.tags,
      },
      { parent: this },
    );
    if (premium) {
      privateEndpoint(
        `${name}-pe`,
        {
          resourceGroupName: args.resourceGroupName,
          location: args.location,
          subnetId: args.privateEndpointSubnetId,
          targetId: this.registry.id,
          groupId: "registry",
          privateDnsZoneId: args.privateDnsZoneId,
          tags: args.tags,
        },
        this,
      );
    }
    if (args.environment === "prod") {
      new containerregistry.Replication(
        `${name}-replica-${args.drLocation}`,
        {
          resourceGroupName: args.resourceGroupName,
          registryName: this.registry.name,
          replicationName: args.drLocation,
          location: args.drLocation,
          regionEndpointEnabled: true,
          zoneRedundancy: "Enabled",
          tags: args.tags,
        },
        { parent: this },
      );
    }
    acrPull(this.registry.id);
    this.loginServer = this.registry.loginServer;
    this.registryId = this.registry.id;
    this.registerOutputs({ loginServer: this.loginServer, registryId: this.registryId });
  }
}
