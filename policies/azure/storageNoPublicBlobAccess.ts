import type { ResourceValidationPolicy } from "@pulumi/policy";

/** A container flipped to public by mistake leaks backups or documents to anyone with the URL. */
export const storageNoPublicBlobAccess: ResourceValidationPolicy = {
  name: "storage-no-public-blob-access",
  description: "Storage accounts forbid anonymous (public) blob access.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:storage:StorageAccount") return;
    if (args.props.allowBlobPublicAccess !== false) reportViolation("allowBlobPublicAccess must be false.");
  },
};
