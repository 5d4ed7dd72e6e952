import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configOf, schema } from "../lib/config";
import { isKind } from "../lib/kubernetes";

const LEVELS = ["privileged", "baseline", "restricted"];
const ENFORCE = "pod-security.kubernetes.io/enforce";

const configSchema = schema({
  privilegedNamespaces: {
    type: "array",
    items: { type: "string" },
    default: [],
    description: "Namespaces allowed to enforce the `privileged` level, each a deliberate exception.",
  },
});

/** Without an enforce label a namespace admits privileged pods silently. */
export const namespacePsaLabels: ResourceValidationPolicy = {
  name: "k8s-namespace-psa-labels",
  description:
    "Namespaces enforce a Pod Security Admission level (baseline or restricted; privileged only as an exception).",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (!isKind(args.type, "core", "Namespace")) return;
    const { privilegedNamespaces } = configOf<{ privilegedNamespaces: string[] }>(configSchema, args);
    const name = args.props.metadata?.name;
    const level = args.props.metadata?.labels?.[ENFORCE];
    if (!LEVELS.includes(level)) {
      reportViolation(`namespace ${name} has no valid ${ENFORCE} label (got ${level ?? "none"}).`);
    } else if (level === "privileged" && !privilegedNamespaces.includes(name)) {
      reportViolation(`namespace ${name} enforces "privileged" but is not in privilegedNamespaces.`);
    }
  },
};
