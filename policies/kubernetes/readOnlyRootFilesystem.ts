import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, podSpecOf } from "../lib/kubernetes";

/** A writable root filesystem lets an attacker drop tools into the image; writes go to mounted volumes. */
export const readOnlyRootFilesystem: ResourceValidationPolicy = {
  name: "k8s-read-only-root-filesystem",
  description: "Every container mounts its root filesystem read-only.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: (args, reportViolation) => {
    for (const { container } of containersOf(podSpecOf(args.type, args.props))) {
      if (container.securityContext?.readOnlyRootFilesystem !== true) {
        reportViolation(`container "${container.name}" does not set readOnlyRootFilesystem: true.`);
      }
    }
  },
};
