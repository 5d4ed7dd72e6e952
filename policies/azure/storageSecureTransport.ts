import type { ResourceValidationPolicy } from "@pulumi/policy";

const ACCEPTED_TLS = ["TLS1_2", "TLS1_3"];

/** Plain HTTP and TLS below 1.2 expose data and keys in transit. */
export const storageSecureTransport: ResourceValidationPolicy = {
  name: "storage-secure-transport",
  description: "Storage accounts accept HTTPS only, with TLS 1.2 or later.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:storage:StorageAccount") return;
    if (args.props.enableHttpsTrafficOnly !== true) reportViolation("enableHttpsTrafficOnly must be true.");
    if (!ACCEPTED_TLS.includes(args.props.minimumTlsVersion)) {
      reportViolation(
        `minimumTlsVersion is ${args.props.minimumTlsVersion ?? "unset"}; it must be TLS1_2 or later.`,
      );
    }
  },
};
