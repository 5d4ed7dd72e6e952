import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, podSpecOf } from "../lib/kubernetes";

/** Requests drive scheduling and HPA utilisation; limits keep one container from starving a node. */
export const resourceRequestsLimits: ResourceValidationPolicy = {
  name: "k8s-resource-requests-limits",
  description: "Every container sets CPU and memory requests and limits.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: (args, reportViolation) => {
    for (const { container } of containersOf(podSpecOf(args.type, args.props))) {
      const missing: string[] = [];
      for (const kind of ["requests", "limits"] as const) {
        for (const resource of ["cpu", "memory"]) {
          if (container.resources?.[kind]?.[resource] === undefined) missing.push(`${kind}.${resource}`);
        }
      }
      if (missing.length > 0) reportViolation(`container "${container.name}" has no ${missing.join(", ")}.`);
    }
  },
};
