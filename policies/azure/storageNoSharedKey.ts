import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configOf, schema } from "../lib/config";

const configSchema = schema({
  exemptAccounts: {
    type: "array",
    items: { type: "string" },
    default: [],
    description: "Storage account names (accountName or resource name) that still need shared keys.",
  },
});

/** Shared keys are long-lived, all-powerful secrets; Entra ID (workload identity) replaces them. */
export const storageNoSharedKey: ResourceValidationPolicy = {
  name: "storage-no-shared-key",
  description: "Storage accounts disable shared key access unless the account is a named exception.",
  enforcementLevel: "advisory",
  severity: "medium",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (args.type !== "azure-native:storage:StorageAccount") return;
    const { exemptAccounts } = configOf<{ exemptAccounts: string[] }>(configSchema, args);
    if (exemptAccounts.includes(args.props.accountName) || exemptAccounts.includes(args.name)) return;
    if (args.props.allowSharedKeyAccess !== false) {
      reportViolation(
        "allowSharedKeyAccess must be false (use Entra ID); list the account in exemptAccounts if it cannot.",
      );
    }
  },
};
