import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { acrAdminUserDisabled } from "../../policies/azure/acrAdminUserDisabled";
import { aksAuthorizedRangesIncludeEgress } from "../../policies/azure/aksAuthorizedRangesIncludeEgress";
import { aksAvailabilityZones } from "../../policies/azure/aksAvailabilityZones";
import { aksAzureRbac } from "../../policies/azure/aksAzureRbac";
import { aksAzureRbacAdminGranted } from "../../policies/azure/aksAzureRbacAdminGranted";
import { aksLocalAccountsDisabled } from "../../policies/azure/aksLocalAccountsDisabled";
import { aksSlaTier } from "../../policies/azure/aksSlaTier";
import { aksUserPoolAutoscaling } from "../../policies/azure/aksUserPoolAutoscaling";
import { frontDoorOriginGroupNotMixed } from "../../policies/azure/frontDoorOriginGroupNotMixed";
import { frontDoorWafManagedRules } from "../../policies/azure/frontDoorWafManagedRules";
import { frontDoorWafPrevention } from "../../policies/azure/frontDoorWafPrevention";
import { identityDataAccessGranted } from "../../policies/azure/identityDataAccessGranted";
import { keyVaultPurgeProtection } from "../../policies/azure/keyVaultPurgeProtection";
import { keyVaultRbacAuthorization } from "../../policies/azure/keyVaultRbacAuthorization";
import { nsgNoAnyAnyInbound } from "../../policies/azure/nsgNoAnyAnyInbound";
import { nsgNoInternetManagementPorts } from "../../policies/azure/nsgNoInternetManagementPorts";
import { postgresGeoRedundantBackup } from "../../policies/azure/postgresGeoRedundantBackup";
import { postgresHighAvailability } from "../../policies/azure/postgresHighAvailability";
import { requiredTags } from "../../policies/azure/requiredTags";
import { storageNoPublicBlobAccess } from "../../policies/azure/storageNoPublicBlobAccess";
import { storageNoSharedKey } from "../../policies/azure/storageNoSharedKey";
import { storageSecureTransport } from "../../policies/azure/storageSecureTransport";
import { TAGGABLE_TYPES } from "../../policies/lib/taggable";
import { assertCompliant, assertViolates, mutate, resource, violationsOf } from "./support";

const TAGS = {
  environment: "prod",
  owner: "platform-team",
  "cost-center": "ai-platform",
  "managed-by": "pulumi",
};
const PROD = { environment: "prod" };

const CLUSTER_TYPE = "azure-native:containerservice:ManagedCluster";
const cluster = {
  disableLocalAccounts: true,
  aadProfile: { managed: true, enableAzureRBAC: true },
  sku: { name: "Base", tier: "Standard" },
  agentPoolProfiles: [{ name: "system", mode: "System", availabilityZones: ["1", "2", "3"], count: 3 }],
  tags: TAGS,
};
const POOL_TYPE = "azure-native:containerservice:AgentPool";
const pool = {
  agentPoolName: "application",
  mode: "User",
  enableAutoScaling: true,
  minCount: 5,
  maxCount: 20,
  availabilityZones: ["1", "2", "3"],
  tags: TAGS,
};

const NSG_TYPE = "azure-native:network:NetworkSecurityGroup";
const nsg = {
  securityRules: [
    {
      name: "allow-frontdoor",
      access: "Allow",
      direction: "Inbound",
      sourceAddressPrefix: "AzureFrontDoor.Backend",
      destinationPortRange: "443",
      protocol: "Tcp",
      priority: 100,
    },
    {
      name: "allow-lb-probes",
      access: "Allow",
      direction: "Inbound",
      sourceAddressPrefix: "AzureLoadBalancer",
      destinationPortRange: "*",
      protocol: "*",
      priority: 110,
    },
    {
      name: "deny-all-inbound",
      access: "Deny",
      direction: "Inbound",
      sourceAddressPrefix: "*",
      destinationPortRange: "*",
      protocol: "*",
      priority: 4096,
    },
  ],
  tags: TAGS,
};
const RULE_TYPE = "azure-native:network:SecurityRule";
const rule = {
  securityRuleName: "allow-https",
  access: "Allow",
  direction: "Inbound",
  sourceAddressPrefix: "VirtualNetwork",
  destinationPortRanges: ["443", "8000-8100"],
  protocol: "Tcp",
  priority: 200,
};

const STORAGE_TYPE = "azure-native:storage:StorageAccount";
const storage = {
  accountName: "aiwpprodbackup",
  enableHttpsTrafficOnly: true,
  minimumTlsVersion: "TLS1_2",
  allowBlobPublicAccess: false,
  allowSharedKeyAccess: false,
  tags: TAGS,
};
const VAULT_TYPE = "azure-native:keyvault:Vault";
const vault = {
  properties: {
    enablePurgeProtection: true,
    enableRbacAuthorization: true,
    enableSoftDelete: true,
    tenantId: "t",
    sku: { family: "A", name: "standard" },
  },
  tags: TAGS,
};
const WAF_TYPE = "azure-native:frontdoor:Policy";
const waf = {
  policySettings: { mode: "Prevention", enabledState: "Enabled" },
  managedRules: {
    managedRuleSets: [
      { ruleSetType: "Microsoft_DefaultRuleSet", ruleSetVersion: "2.1", ruleSetAction: "Block" },
      { ruleSetType: "Microsoft_BotManagerRuleSet", ruleSetVersion: "1.1" },
    ],
  },
  tags: TAGS,
};
const PG_TYPE = "azure-native:dbforpostgresql:Server";
const postgres = {
  highAvailability: { mode: "ZoneRedundant" },
  backup: { geoRedundantBackup: "Enabled", backupRetentionDays: 35 },
  tags: TAGS,
};

describe("policies/azure", () => {
  it("aks-local-accounts-disabled: passes with local accounts disabled, fails when they are left on", async () => {
    await assertCompliant(aksLocalAccountsDisabled, [resource(CLUSTER_TYPE, cluster)]);
    await assertViolates(
      aksLocalAccountsDisabled,
      [resource(CLUSTER_TYPE, mutate(cluster, "disableLocalAccounts", false))],
      /disableLocalAccounts/,
    );
  });

  it("aks-azure-rbac: passes with managed Entra ID and Azure RBAC, fails without Azure RBAC", async () => {
    await assertCompliant(aksAzureRbac, [resource(CLUSTER_TYPE, cluster)]);
    await assertViolates(
      aksAzureRbac,
      [resource(CLUSTER_TYPE, mutate(cluster, "aadProfile.enableAzureRBAC", undefined))],
      /enableAzureRBAC/,
    );
  });

  it("aks-sla-tier: prod needs the Standard tier; Free fails in prod and is not checked in dev", async () => {
    const free = mutate(cluster, "sku.tier", "Free");
    await assertCompliant(aksSlaTier, [resource(CLUSTER_TYPE, cluster)], PROD);
    await assertViolates(aksSlaTier, [resource(CLUSTER_TYPE, free)], /Standard/, PROD);
    await assertCompliant(aksSlaTier, [resource(CLUSTER_TYPE, free)], { environment: "dev" });
  });

  it("aks-sla-tier: without config, the environment tag decides", async () => {
    await assertViolates(
      aksSlaTier,
      [resource(CLUSTER_TYPE, mutate(cluster, "sku.tier", "Free"))],
      /prod needs/,
    );
    const devTagged = mutate(mutate(cluster, "sku.tier", "Free"), "tags.environment", "dev");
    await assertCompliant(aksSlaTier, [resource(CLUSTER_TYPE, devTagged)]);
  });

  it("aks-availability-zones: pools spanning three zones pass; a pool in one zone fails in prod", async () => {
    await assertCompliant(
      aksAvailabilityZones,
      [resource(CLUSTER_TYPE, cluster), resource(POOL_TYPE, pool)],
      PROD,
    );
    await assertViolates(
      aksAvailabilityZones,
      [resource(POOL_TYPE, mutate(pool, "availabilityZones", ["1"]))],
      /application.*1 zone/,
      PROD,
    );
    await assertViolates(
      aksAvailabilityZones,
      [resource(CLUSTER_TYPE, mutate(cluster, "agentPoolProfiles.0.availabilityZones", undefined))],
      /system/,
      PROD,
    );
  });

  it("aks-user-pool-autoscaling: autoscaled user pools pass; a fixed user pool fails; system pools are not checked", async () => {
    await assertCompliant(aksUserPoolAutoscaling, [
      resource(POOL_TYPE, pool),
      resource(CLUSTER_TYPE, cluster),
    ]);
    await assertViolates(
      aksUserPoolAutoscaling,
      [resource(POOL_TYPE, mutate(pool, "enableAutoScaling", false))],
      /enableAutoScaling/,
    );
    await assertViolates(
      aksUserPoolAutoscaling,
      [resource(POOL_TYPE, mutate(pool, "minCount", 30))],
      /minCount <= maxCount/,
    );
  });

  it("nsg-no-internet-management-ports: service ports pass; SSH from the internet fails, inline or as a rule", async () => {
    await assertCompliant(nsgNoInternetManagementPorts, [resource(NSG_TYPE, nsg), resource(RULE_TYPE, rule)]);
    const ssh = mutate(
      mutate(nsg, "securityRules.0.sourceAddressPrefix", "Internet"),
      "securityRules.0.destinationPortRange",
      "22",
    );
    await assertViolates(nsgNoInternetManagementPorts, [resource(NSG_TYPE, ssh)], /management port\(s\) 22/);
    const rdpRange = mutate(mutate(rule, "sourceAddressPrefix", "0.0.0.0/0"), "destinationPortRanges", [
      "3000-4000",
    ]);
    await assertViolates(nsgNoInternetManagementPorts, [resource(RULE_TYPE, rdpRange)], /3389/);
  });

  it("nsg-no-any-any-inbound: scoped rules pass; allow from any source to any port fails", async () => {
    await assertCompliant(nsgNoAnyAnyInbound, [resource(NSG_TYPE, nsg), resource(RULE_TYPE, rule)]);
    const anyAny = mutate(nsg, "securityRules.1.sourceAddressPrefix", "*");
    await assertViolates(nsgNoAnyAnyInbound, [resource(NSG_TYPE, anyAny)], /allow-lb-probes.*any port/);
  });

  it("storage-secure-transport: HTTPS and TLS 1.2 pass; TLS 1.0 fails", async () => {
    await assertCompliant(storageSecureTransport, [resource(STORAGE_TYPE, storage)]);
    await assertViolates(
      storageSecureTransport,
      [resource(STORAGE_TYPE, mutate(storage, "minimumTlsVersion", "TLS1_0"))],
      /TLS1_2/,
    );
    await assertViolates(
      storageSecureTransport,
      [resource(STORAGE_TYPE, mutate(storage, "enableHttpsTrafficOnly", false))],
      /enableHttpsTrafficOnly/,
    );
  });

  it("storage-no-public-blob-access: fails when public blob access is allowed", async () => {
    await assertCompliant(storageNoPublicBlobAccess, [resource(STORAGE_TYPE, storage)]);
    await assertViolates(
      storageNoPublicBlobAccess,
      [resource(STORAGE_TYPE, mutate(storage, "allowBlobPublicAccess", true))],
      /allowBlobPublicAccess/,
    );
  });

  it("storage-no-shared-key: fails when shared keys are allowed, unless the account is a listed exception", async () => {
    const shared = mutate(storage, "allowSharedKeyAccess", true);
    await assertCompliant(storageNoSharedKey, [resource(STORAGE_TYPE, storage)]);
    await assertViolates(storageNoSharedKey, [resource(STORAGE_TYPE, shared)], /allowSharedKeyAccess/);
    await assertCompliant(storageNoSharedKey, [resource(STORAGE_TYPE, shared)], {
      exemptAccounts: ["aiwpprodbackup"],
    });
  });

  it("keyvault-purge-protection: fails without purge protection", async () => {
    await assertCompliant(keyVaultPurgeProtection, [resource(VAULT_TYPE, vault)]);
    await assertViolates(
      keyVaultPurgeProtection,
      [resource(VAULT_TYPE, mutate(vault, "properties.enablePurgeProtection", undefined))],
      /enablePurgeProtection/,
    );
  });

  it("keyvault-rbac-authorization: fails in access-policy mode", async () => {
    await assertCompliant(keyVaultRbacAuthorization, [resource(VAULT_TYPE, vault)]);
    await assertViolates(
      keyVaultRbacAuthorization,
      [resource(VAULT_TYPE, mutate(vault, "properties.enableRbacAuthorization", false))],
      /enableRbacAuthorization/,
    );
  });

  it("acr-admin-user-disabled: fails when the admin user is enabled", async () => {
    await assertCompliant(acrAdminUserDisabled, [
      resource("azure-native:containerregistry:Registry", { adminUserEnabled: false }),
    ]);
    await assertViolates(
      acrAdminUserDisabled,
      [resource("azure-native:containerregistry:Registry", { adminUserEnabled: true })],
      /adminUserEnabled/,
    );
  });

  it("frontdoor-waf-prevention: Detection fails in prod and passes in dev", async () => {
    const detection = mutate(waf, "policySettings.mode", "Detection");
    await assertCompliant(frontDoorWafPrevention, [resource(WAF_TYPE, waf)], PROD);
    await assertViolates(frontDoorWafPrevention, [resource(WAF_TYPE, detection)], /Prevention/, PROD);
    await assertCompliant(frontDoorWafPrevention, [resource(WAF_TYPE, detection)], { environment: "dev" });
  });

  it("frontdoor-waf-managed-rules: fails without the bot manager or with DRS 1.x", async () => {
    await assertCompliant(frontDoorWafManagedRules, [resource(WAF_TYPE, waf)]);
    await assertViolates(
      frontDoorWafManagedRules,
      [resource(WAF_TYPE, mutate(waf, "managedRules.managedRuleSets.1.ruleSetType", "Other"))],
      /BotManager/,
    );
    await assertViolates(
      frontDoorWafManagedRules,
      [resource(WAF_TYPE, mutate(waf, "managedRules.managedRuleSets.0.ruleSetVersion", "1.0"))],
      /older than 2/,
    );
  });

  it("postgres-zone-redundant-ha: SameZone fails in prod", async () => {
    await assertCompliant(postgresHighAvailability, [resource(PG_TYPE, postgres)], PROD);
    await assertViolates(
      postgresHighAvailability,
      [resource(PG_TYPE, mutate(postgres, "highAvailability.mode", "SameZone"))],
      /ZoneRedundant/,
      PROD,
    );
  });

  it("postgres-geo-redundant-backup: fails in prod without geo-redundant backup or with 7 days of retention", async () => {
    await assertCompliant(postgresGeoRedundantBackup, [resource(PG_TYPE, postgres)], PROD);
    await assertViolates(
      postgresGeoRedundantBackup,
      [resource(PG_TYPE, mutate(postgres, "backup.geoRedundantBackup", "Disabled"))],
      /geoRedundantBackup/,
      PROD,
    );
    await assertViolates(
      postgresGeoRedundantBackup,
      [resource(PG_TYPE, mutate(postgres, "backup.backupRetentionDays", 7))],
      /at least 30/,
      PROD,
    );
  });

  it("postgres-*: a cross-region read replica is judged by its source, not by its own HA and backups", async () => {
    const replica = mutate(
      mutate(mutate(postgres, "highAvailability.mode", "Disabled"), "backup", undefined),
      "createMode",
      "Replica",
    );
    const dr = { environment: "dr", appliesTo: ["prod", "dr"] };
    await assertCompliant(postgresHighAvailability, [resource(PG_TYPE, replica)], dr);
    await assertCompliant(postgresGeoRedundantBackup, [resource(PG_TYPE, replica)], dr);
    await assertViolates(
      postgresHighAvailability,
      [resource(PG_TYPE, mutate(replica, "createMode", "Default"))],
      /ZoneRedundant/,
      dr,
    );
  });

  it("azure-required-tags: fails on a missing tag, on a taggable resource without tags, and on a wrong environment", async () => {
    await assertCompliant(requiredTags, [resource(STORAGE_TYPE, storage)], PROD);
    await assertViolates(
      requiredTags,
      [resource(STORAGE_TYPE, mutate(storage, "tags.cost-center", undefined))],
      /cost-center/,
      PROD,
    );
    await assertViolates(
      requiredTags,
      [resource(STORAGE_TYPE, mutate(storage, "tags", undefined))],
      /environment, owner/,
      PROD,
    );
    await assertViolates(requiredTags, [resource(STORAGE_TYPE, storage)], /"prod" in the dev stack/, {
      environment: "dev",
    });
    // Subnets take no tags: nothing to check.
    assert.equal(
      (await violationsOf(requiredTags, [resource("azure-native:network:Subnet", {})], PROD)).length,
      0,
    );
  });

  it("the taggable types list only types whose SDK inputs accept tags", () => {
    const sdk = path.resolve(__dirname, "../../node_modules/@pulumi/azure-native");
    const declarations = new Map<string, string>();
    for (const module of new Set([...TAGGABLE_TYPES].map((t) => t.split(":")[1]))) {
      for (const js of fs.readdirSync(path.join(sdk, module)).filter((f) => f.endsWith(".js"))) {
        const token = /__pulumiType = '([^']+)'/.exec(
          fs.readFileSync(path.join(sdk, module, js), "utf8"),
        )?.[1];
        if (token) declarations.set(token, path.join(sdk, module, js.replace(/\.js$/, ".d.ts")));
      }
    }
    for (const type of TAGGABLE_TYPES) {
      const file = declarations.get(type);
      assert.ok(file, `${type} is not an azure-native resource type`);
      const args = /export interface \w+Args \{[\s\S]*?\n\}/.exec(fs.readFileSync(file, "utf8"))?.[0] ?? "";
      assert.match(args, /\n {4}tags\?:/, `${type} inputs have no tags`);
    }
    for (const type of [
      "azure-native:containerservice:ManagedCluster",
      "azure-native:network:NetworkSecurityGroup",
      "azure-native:storage:StorageAccount",
    ]) {
      assert.ok(TAGGABLE_TYPES.has(type), type);
    }
  });

  // Front Door's documented rule: an origin group holds Private Link origins or public ones, never both.
  const ORIGIN_TYPE = "azure-native:cdn:AFDOrigin";
  const plsOrigin = (name: string, pls: string) => ({
    profileName: "afd-aiwp-prod",
    originGroupName: "ingress",
    originName: name,
    hostName: "10.0.16.10",
    sharedPrivateLinkResource: {
      privateLink: {
        id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/privateLinkServices/${pls}`,
      },
      privateLinkLocation: "eastus",
    },
  });

  it("frontdoor-origin-group-not-mixed: Private Link origins together pass; a public origin beside them fails", async () => {
    const primary = resource(ORIGIN_TYPE, plsOrigin("primary", "aiwp-prod-ingress-pls"), "primary");
    const dr = resource(ORIGIN_TYPE, plsOrigin("dr", "aiwp-dr-ingress-pls"), "dr");
    await assertCompliant(frontDoorOriginGroupNotMixed, [primary, dr]);
    const publicDr = resource(
      ORIGIN_TYPE,
      mutate(plsOrigin("dr", "x"), "sharedPrivateLinkResource", undefined),
      "dr",
    );
    await assertViolates(
      frontDoorOriginGroupNotMixed,
      [primary, publicDr],
      /mixes Private Link origins \(primary\) with public ones \(dr\)/,
    );
    // A public origin in another group is not a mix.
    await assertCompliant(frontDoorOriginGroupNotMixed, [
      primary,
      resource(ORIGIN_TYPE, mutate(publicDr.inputs, "originGroupName", "static"), "static"),
    ]);
  });

  // A public API server with authorized ranges, NAT gateway egress: the cluster's own address must be listed.
  const natCluster = {
    resourceName: "aks-aiwp-prod",
    networkProfile: { outboundType: "userAssignedNATGateway" },
    apiServerAccessProfile: { authorizedIPRanges: ["203.0.113.0/24", "20.0.0.10/32"] },
  };
  const egressResources = (cluster: Record<string, any>, ipAddress?: string) => [
    resource(CLUSTER_TYPE, cluster, "aks"),
    resource(
      "azure-native:network:NatGateway",
      {
        natGatewayName: "ng-aiwp-prod",
        publicIpAddresses: [
          {
            id: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/publicIPAddresses/pip-aiwp-prod-nat",
          },
        ],
      },
      "nat",
    ),
    resource(
      "azure-native:network:PublicIPAddress",
      { publicIpAddressName: "pip-aiwp-prod-nat", ...(ipAddress ? { ipAddress } : {}) },
      "pip",
    ),
  ];

  it("aks-authorized-ranges-include-egress: ranges with the NAT address pass; without it the nodes are locked out", async () => {
    await assertCompliant(aksAuthorizedRangesIncludeEgress, egressResources(natCluster, "20.0.0.10"));
    await assertCompliant(aksAuthorizedRangesIncludeEgress, egressResources(natCluster));
    const operatorsOnly = mutate(natCluster, "apiServerAccessProfile.authorizedIPRanges", ["203.0.113.0/24"]);
    await assertViolates(
      aksAuthorizedRangesIncludeEgress,
      egressResources(operatorsOnly, "20.0.0.10"),
      /leaves out the NAT gateway address 20\.0\.0\.10/,
    );
    await assertViolates(
      aksAuthorizedRangesIncludeEgress,
      egressResources(operatorsOnly),
      /has no \/32 for the NAT gateway address pip-aiwp-prod-nat/,
    );
    // A private cluster has no public endpoint to restrict.
    await assertCompliant(
      aksAuthorizedRangesIncludeEgress,
      egressResources(
        mutate(operatorsOnly, "apiServerAccessProfile.enablePrivateCluster", true),
        "20.0.0.10",
      ),
    );
  });

  const CLUSTER_ID =
    "/subscriptions/s/resourceGroups/rg-aiwp-prod-platform/providers/Microsoft.ContainerService/managedClusters/aks-aiwp-prod";
  const adminGrant = {
    principalId: "00000000-0000-4000-8000-0000000a0001",
    principalType: "Group",
    roleDefinitionId:
      "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
    scope: CLUSTER_ID,
  };
  const rbacCluster = { ...cluster, resourceName: "aks-aiwp-prod" };

  it("aks-azure-rbac-admin-granted: an RBAC Cluster Admin grant on the cluster passes; none, or one on another scope, fails", async () => {
    const grant = resource("azure-native:authorization:RoleAssignment", adminGrant, "admin");
    await assertCompliant(aksAzureRbacAdminGranted, [resource(CLUSTER_TYPE, rbacCluster, "aks"), grant]);
    await assertViolates(
      aksAzureRbacAdminGranted,
      [resource(CLUSTER_TYPE, rbacCluster, "aks")],
      /no RoleAssignment of Azure Kubernetes Service RBAC Cluster Admin/,
    );
    // Contributor on the cluster carries no Kubernetes data actions.
    const contributor = resource(
      "azure-native:authorization:RoleAssignment",
      mutate(
        adminGrant,
        "roleDefinitionId",
        "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c",
      ),
      "contributor",
    );
    await assertViolates(
      aksAzureRbacAdminGranted,
      [resource(CLUSTER_TYPE, rbacCluster, "aks"), contributor],
      /403/,
    );
    const elsewhere = resource(
      "azure-native:authorization:RoleAssignment",
      mutate(adminGrant, "scope", CLUSTER_ID.replace("aks-aiwp-prod", "aks-aiwp-dr")),
      "elsewhere",
    );
    await assertViolates(
      aksAzureRbacAdminGranted,
      [resource(CLUSTER_TYPE, rbacCluster, "aks"), elsewhere],
      /aks-aiwp-prod/,
    );
  });

  const identity = {
    tags: {
      ...TAGS,
      "aiwp-workload": "knowledge-base-service",
      "aiwp-data-access":
        "keyVault=Key Vault Secrets User;search=Search Index Data Contributor;redis=Redis access policy assignment;postgres=PostgreSQL Entra principal",
    },
  };
  const grants = [
    resource(
      "azure-native:authorization:RoleAssignment",
      {
        description: "knowledge-base-service: Key Vault Secrets User",
        principalId: "p",
        roleDefinitionId: "r",
        scope: "s",
      },
      "kv",
    ),
    resource(
      "azure-native:authorization:RoleAssignment",
      {
        description: "knowledge-base-service: Search Index Data Contributor",
        principalId: "p",
        roleDefinitionId: "r",
        scope: "s",
      },
      "search",
    ),
    resource(
      "azure-native:redisenterprise:AccessPolicyAssignment",
      { accessPolicyAssignmentName: "knowledgebaseservice", accessPolicyName: "default" },
      "redis",
    ),
    resource(
      "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra",
      { principalName: "knowledge-base-service", objectId: "p" },
      "pg",
    ),
  ];
  const IDENTITY_TYPE = "azure-native:managedidentity:UserAssignedIdentity";

  it("identity-data-access-granted: an identity with a grant for each data service it calls passes; a missing grant fails", async () => {
    await assertCompliant(identityDataAccessGranted, [resource(IDENTITY_TYPE, identity, "id"), ...grants]);
    await assertViolates(
      identityDataAccessGranted,
      [resource(IDENTITY_TYPE, identity, "id"), ...grants.filter((g) => g.name !== "search")],
      /knowledge-base-service calls search but holds no Search Index Data Contributor/,
    );
    await assertViolates(
      identityDataAccessGranted,
      [resource(IDENTITY_TYPE, identity, "id"), ...grants.filter((g) => g.name !== "redis")],
      /calls redis but holds no Redis access policy assignment/,
    );
    await assertViolates(
      identityDataAccessGranted,
      [resource(IDENTITY_TYPE, identity, "id"), ...grants.filter((g) => g.name !== "pg")],
      /calls postgres/,
    );
    // An identity that only authenticates (empty matrix entry) needs nothing.
    await assertCompliant(identityDataAccessGranted, [
      resource(IDENTITY_TYPE, mutate(identity, "tags.aiwp-data-access", ""), "id"),
    ]);
  });
});
