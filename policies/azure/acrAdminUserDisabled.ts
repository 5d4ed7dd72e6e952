import type { ResourceValidationPolicy } from "@pulumi/policy";

/** The admin user is a shared username/password for the whole registry; pulls use the kubelet identity (AcrPull). */
export const acrAdminUserDisabled: ResourceValidationPolicy = {
  name: "acr-admin-user-disabled",
  description: "Container registries keep the admin user disabled.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:containerregistry:Registry") return;
    if (args.props.adminUserEnabled === true) reportViolation("adminUserEnabled must be false.");
  },
};
