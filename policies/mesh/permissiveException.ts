import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configOf, schema } from "../lib/config";
import { isKind } from "../lib/kubernetes";

const configSchema = schema({
  permissiveExceptions: {
    type: "array",
    default: [],
    description:
      "Workloads allowed to accept plain text, each with the reason (the stack's mesh.permissiveExceptions).",
    items: {
      type: "object",
      required: ["namespace", "workload", "reason"],
      properties: {
        namespace: { type: "string" },
        workload: {
          type: "string",
          description: 'The workload\'s "app" label, or "*" for the whole namespace.',
        },
        port: {
          type: "integer",
          description:
            "The container port that accepts plain text (port-level PERMISSIVE); absent: every port.",
        },
        reason: { type: "string", minLength: 10 },
      },
    },
  },
});

interface Exception {
  namespace: string;
  workload: string;
  reason: string;
}

/** PERMISSIVE accepts plain text; each use must be a named, justified exception, not a quiet default. */
export const permissiveException: ResourceValidationPolicy = {
  name: "mesh-permissive-exception",
  description:
    "A PeerAuthentication uses PERMISSIVE only for a workload listed, with its reason, as an exception.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateResource: (args, reportViolation) => {
    if (!isKind(args.type, "security.istio.io", "PeerAuthentication")) return;
    const spec = args.props.spec ?? {};
    const modes = [
      spec.mtls?.mode,
      ...Object.values(spec.portLevelMtls ?? {}).map((m) => (m as { mode?: string }).mode),
    ];
    if (!modes.includes("PERMISSIVE")) return;
    const { permissiveExceptions } = configOf<{ permissiveExceptions: Exception[] }>(configSchema, args);
    const namespace = args.props.metadata?.namespace ?? "default";
    const labels = (spec.selector?.matchLabels ?? {}) as Record<string, string>;
    const workload = labels.app ?? labels["app.kubernetes.io/name"] ?? "*";
    const excepted = permissiveExceptions.some(
      (e) => e.namespace === namespace && e.workload === workload && e.reason.trim().length >= 10,
    );
    if (!excepted) {
      reportViolation(
        `PERMISSIVE mTLS for ${namespace}/${workload} has no exception in permissiveExceptions.`,
      );
    }
  },
};
