/**
 * Every policy of the pack, each with its default enforcement level (the stack's policy config may override
 * it). Importing this module has no side effects, unlike constructing the PolicyPack (which starts the
 * analyzer's gRPC server): the offline runner and the tests import this list, `index.ts` serves it.
 */
import type { Policies } from "@pulumi/policy";
import { acrAdminUserDisabled } from "./azure/acrAdminUserDisabled";
import { aksAuthorizedRangesIncludeEgress } from "./azure/aksAuthorizedRangesIncludeEgress";
import { aksAvailabilityZones } from "./azure/aksAvailabilityZones";
import { aksAzureRbac } from "./azure/aksAzureRbac";
import { aksAzureRbacAdminGranted } from "./azure/aksAzureRbacAdminGranted";
import { aksLocalAccountsDisabled } from "./azure/aksLocalAccountsDisabled";
import { aksSlaTier } from "./azure/aksSlaTier";
import { aksUserPoolAutoscaling } from "./azure/aksUserPoolAutoscaling";
import { frontDoorOriginGroupNotMixed } from "./azure/frontDoorOriginGroupNotMixed";
import { frontDoorWafManagedRules } from "./azure/frontDoorWafManagedRules";
import { frontDoorWafPrevention } from "./azure/frontDoorWafPrevention";
import { identityDataAccessGranted } from "./azure/identityDataAccessGranted";
import { keyVaultPurgeProtection } from "./azure/keyVaultPurgeProtection";
import { keyVaultRbacAuthorization } from "./azure/keyVaultRbacAuthorization";
import { nsgNoAnyAnyInbound } from "./azure/nsgNoAnyAnyInbound";
import { nsgNoInternetManagementPorts } from "./azure/nsgNoInternetManagementPorts";
import { postgresGeoRedundantBackup } from "./azure/postgresGeoRedundantBackup";
import { postgresHighAvailability } from "./azure/postgresHighAvailability";
import { requiredTags } from "./azure/requiredTags";
import { storageNoPublicBlobAccess } from "./azure/storageNoPublicBlobAccess";
import { storageNoSharedKey } from "./azure/storageNoSharedKey";
import { storageSecureTransport } from "./azure/storageSecureTransport";
import { canaryHasAlerts } from "./delivery/canaryHasAlerts";
import { canaryHasMetrics } from "./delivery/canaryHasMetrics";
import { canaryHasServiceMonitor } from "./delivery/canaryHasServiceMonitor";
import { flaggerAnalysisValid } from "./delivery/flaggerAnalysisValid";
import { rollbackBudget } from "./delivery/rollbackBudget";
import { alertsHaveContractLabels } from "./estate/alertsHaveContractLabels";
import { alertsHaveRunbookUrl } from "./estate/alertsHaveRunbookUrl";
import { deploymentHasAutoscaler } from "./estate/deploymentHasAutoscaler";
import { deploymentHasPdb } from "./estate/deploymentHasPdb";
import { veleroSchedulesMeetRpo } from "./estate/veleroSchedulesMeetRpo";
import { approvedRegistries } from "./kubernetes/approvedRegistries";
import { healthProbes } from "./kubernetes/healthProbes";
import { imagePinned } from "./kubernetes/imagePinned";
import { imagePullPolicy } from "./kubernetes/imagePullPolicy";
import { minReplicasProd } from "./kubernetes/minReplicasProd";
import { namespacePsaLabels } from "./kubernetes/namespacePsaLabels";
import { noPrivilegeEscalation } from "./kubernetes/noPrivilegeEscalation";
import { noPublicLoadBalancer } from "./kubernetes/noPublicLoadBalancer";
import { pdbForMultiReplica } from "./kubernetes/pdbForMultiReplica";
import { priorityClass } from "./kubernetes/priorityClass";
import { readOnlyRootFilesystem } from "./kubernetes/readOnlyRootFilesystem";
import { resourceRequestsLimits } from "./kubernetes/resourceRequestsLimits";
import { runAsNonRoot } from "./kubernetes/runAsNonRoot";
import { serviceAccountToken } from "./kubernetes/serviceAccountToken";
import { istioMutualTls } from "./mesh/istioMutualTls";
import { mtlsStrict } from "./mesh/mtlsStrict";
import { permissiveException } from "./mesh/permissiveException";

export const PACK_NAME = "aiwp-estate-policies";

/** Enforcement level of a policy that sets none (each policy here sets its own). */
export const PACK_ENFORCEMENT_LEVEL = "advisory";

export const POLICIES: Policies = [
  // Azure
  aksLocalAccountsDisabled,
  aksAzureRbac,
  aksAzureRbacAdminGranted,
  aksAuthorizedRangesIncludeEgress,
  aksSlaTier,
  aksAvailabilityZones,
  aksUserPoolAutoscaling,
  nsgNoInternetManagementPorts,
  nsgNoAnyAnyInbound,
  storageSecureTransport,
  storageNoPublicBlobAccess,
  storageNoSharedKey,
  keyVaultPurgeProtection,
  keyVaultRbacAuthorization,
  acrAdminUserDisabled,
  frontDoorWafPrevention,
  frontDoorWafManagedRules,
  frontDoorOriginGroupNotMixed,
  postgresHighAvailability,
  postgresGeoRedundantBackup,
  requiredTags,
  identityDataAccessGranted,
  // Kubernetes
  resourceRequestsLimits,
  healthProbes,
  runAsNonRoot,
  readOnlyRootFilesystem,
  noPrivilegeEscalation,
  imagePinned,
  imagePullPolicy,
  approvedRegistries,
  pdbForMultiReplica,
  minReplicasProd,
  namespacePsaLabels,
  noPublicLoadBalancer,
  serviceAccountToken,
  priorityClass,
  // Mesh
  mtlsStrict,
  permissiveException,
  istioMutualTls,
  // Delivery
  flaggerAnalysisValid,
  rollbackBudget,
  canaryHasMetrics,
  canaryHasServiceMonitor,
  canaryHasAlerts,
  // Estate
  deploymentHasPdb,
  deploymentHasAutoscaler,
  alertsHaveRunbookUrl,
  alertsHaveContractLabels,
  veleroSchedulesMeetRpo,
];
