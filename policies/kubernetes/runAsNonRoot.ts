import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, podSpecOf } from "../lib/kubernetes";

/** A container running as root turns any escape or write into a node-level compromise. */
export const runAsNonRoot: ResourceValidationPolicy = {
  name: "k8s-run-as-non-root",
  description: "Every container runs as a non-root user (runAsNonRoot, never UID 0).",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    const pod = podSpecOf(args.type, args.props);
    const podContext = pod?.securityContext ?? {};
    for (const { container } of containersOf(pod)) {
      const context = container.securityContext ?? {};
      const nonRoot = context.runAsNonRoot ?? podContext.runAsNonRoot;
      const user = context.runAsUser ?? podContext.runAsUser;
      if (nonRoot !== true) reportViolation(`container "${container.name}" does not set runAsNonRoot: true.`);
      if (user === 0) reportViolation(`container "${container.name}" runs as UID 0.`);
    }
  },
};
