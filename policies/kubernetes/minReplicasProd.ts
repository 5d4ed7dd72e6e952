import type { ResourceValidationPolicy } from "@pulumi/policy";
import {
  ENVIRONMENT_PROPERTY,
  appliesToProperty,
  configOf,
  exemptWorkloadsProperty,
  requireEnvironment,
  schema,
} from "../lib/config";
import { isKind, objectRef } from "../lib/kubernetes";

const configSchema = schema({
  environment: ENVIRONMENT_PROPERTY,
  appliesTo: appliesToProperty(["prod"]),
  minReplicas: {
    type: "integer",
    minimum: 1,
    default: 2,
    description: "Fewest replicas a workload may run.",
  },
  exemptWorkloads: exemptWorkloadsProperty(
    'Workloads ("<namespace>/<name>" of the workload or autoscaler) that may run fewer.',
  ),
});

interface Config {
  environment?: string;
  appliesTo: string[];
  minReplicas: number;
  exemptWorkloads: string[];
}

/** One replica is one eviction or one crash away from an outage. */
export const minReplicasProd: ResourceValidationPolicy = {
  name: "k8s-min-replicas-prod",
  description:
    "In production, workloads run at least two replicas: fixed counts and autoscaler minimums alike.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateResource: (args, reportViolation) => {
    let floor: number | undefined;
    let field: string;
    const spec = args.props.spec ?? {};
    if (isKind(args.type, "apps", "Deployment") || isKind(args.type, "apps", "StatefulSet")) {
      // Without spec.replicas an autoscaler owns the count; its own minimum is checked on it.
      if (spec.replicas === undefined) return;
      [floor, field] = [spec.replicas, "spec.replicas"];
    } else if (isKind(args.type, "autoscaling", "HorizontalPodAutoscaler")) {
      [floor, field] = [spec.minReplicas ?? 1, "spec.minReplicas"];
    } else if (isKind(args.type, "keda.sh", "ScaledObject")) {
      [floor, field] = [spec.minReplicaCount ?? 0, "spec.minReplicaCount"];
    } else {
      return;
    }
    const config = configOf<Config>(configSchema, args);
    const environment = requireEnvironment(args, config);
    if (config.exemptWorkloads.includes(objectRef(args.props))) return;
    if ((floor as number) < config.minReplicas) {
      reportViolation(`${field} is ${floor}; ${environment} needs at least ${config.minReplicas}.`);
    }
  },
};
