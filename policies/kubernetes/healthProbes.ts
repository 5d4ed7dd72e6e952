import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, isServingWorkload, podSpecOf } from "../lib/kubernetes";

/** Without a readiness probe traffic reaches pods that are not ready; without liveness a hung pod stays. */
export const healthProbes: ResourceValidationPolicy = {
  name: "k8s-health-probes",
  description: "Every container of a long-running workload has readiness and liveness probes.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: (args, reportViolation) => {
    if (!isServingWorkload(args.type)) return;
    for (const { container, init } of containersOf(podSpecOf(args.type, args.props))) {
      if (init) continue;
      if (!container.readinessProbe) reportViolation(`container "${container.name}" has no readinessProbe.`);
      if (!container.livenessProbe) reportViolation(`container "${container.name}" has no livenessProbe.`);
    }
  },
};
