import type { ResourceValidationPolicy } from "@pulumi/policy";
import { containersOf, podSpecOf } from "../lib/kubernetes";

/** setuid binaries and privileged mode hand a process more rights than its user has. */
export const noPrivilegeEscalation: ResourceValidationPolicy = {
  name: "k8s-no-privilege-escalation",
  description: "No container is privileged or allows privilege escalation.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    for (const { container } of containersOf(podSpecOf(args.type, args.props))) {
      const context = container.securityContext ?? {};
      if (context.allowPrivilegeEscalation !== false) {
        reportViolation(`container "${container.name}" does not set allowPrivilegeEscalation: false.`);
      }
      if (context.privileged === true) reportViolation(`container "${container.name}" is privileged.`);
    }
  },
};
