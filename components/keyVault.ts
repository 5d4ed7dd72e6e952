import * as pulumi from "@pulumi/pulumi";
import * as keyvault from "@pulumi/azure-native/keyvault";
import { privateEndpoint } from "./privateEndpoint";

/** Vault names are global, 3-24 letters, digits and dashes. */
export function vaultName(prefix: string): string {
  return `kv-${prefix}`.slice(0, 24);
}

export interface KeyVaultArgs {
  /** Name prefix, "<prefix>-<env>". */
  prefix: string;
  /** Resource group of the vault. */
  resourceGroupName: pulumi.Input<string>;
  /** Azure region. */
  location: string;
  /** Entra ID tenant (authorization.getClientConfigOutput().tenantId). */
  tenantId: pulumi.Input<string>;
  /** Private endpoints subnet. */
  privateEndpointSubnetId: pulumi.Input<string>;
  /** privatelink.vaultcore.azure.net zone id. */
  privateDnsZoneId: pulumi.Input<string>;
  /** Tags of every resource. */
  tags: Record<string, string>;
}

/** Application secrets: Azure RBAC (no access policies), purge protection, 90-day soft delete, private only. */
export class KeyVault extends pulumi.ComponentResource {
  public readonly vault: keyvault.Vault;
  public readonly vaultId: pulumi.Output<string>;
  public readonly vaultUri: pulumi.Output<string>;
  public readonly vaultName: pulumi.Output<string>;

  constructor(name: string, args: KeyVaultArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:azure:KeyVault", name, {}, opts);
    this.vault = new keyvault.Vault(
      `${name}-vault`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vaultName: vaultName(args.prefix),
        properties: {
          tenantId: args.tenantId,
          sku: { family: "A", name: "standard" },
          enableRbacAuthorization: true,
          enablePurgeProtection: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: 90,
          publicNetworkAccess: "Disabled",
          networkAcls: { defaultAction: "Deny", bypass: "AzureServices" },
        },
        tags: args.tags,
      },
      { parent: this },
    );
    privateEndpoint(
      `${name}-pe`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        subnetId: args.privateEndpointSubnetId,
        targetId: this.vault.id,
        groupId: "vault",
        privateDnsZoneId: args.privateDnsZoneId,
        tags: args.tags,
      },
      this,
    );
    this.vaultId = this.vault.id;
    this.vaultName = this.vault.name;
    this.vaultUri = this.vault.properties.apply((p) => p.vaultUri ?? "");
    this.registerOutputs({ vaultId: this.vaultId, vaultUri: this.vaultUri, vaultName: this.vaultName });
  }
}
