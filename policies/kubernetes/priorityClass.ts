import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isServingWorkload, podSpecOf } from "../lib/kubernetes";

/** The built-in classes an API server may limit to kube-system (ResourceQuota admission `limitedResources`). */
const SYSTEM_CLASSES = ["system-cluster-critical", "system-node-critical"];

/**
 * Without a priority class a long-running pod ties with everything else at priority 0: under node pressure
 * or preemption the scheduler cannot tell the revenue path from a debug pod.
 */
export const priorityClass: ResourceValidationPolicy = {
  name: "k8s-priority-class",
  description:
    "Every long-running workload (Deployment, StatefulSet, DaemonSet) names a priorityClassName; the system classes only in kube-system.",
  enforcementLevel: "mandatory",
  severity: "low",
  validateResource: (args, reportViolation) => {
    if (!isServingWorkload(args.type)) return;
    const pod = podSpecOf(args.type, args.props);
    if (!pod) return;
    const name = pod.priorityClassName;
    if (typeof name !== "string" || name === "") {
      reportViolation("the pod template sets no priorityClassName.");
      return;
    }
    const namespace = args.props.metadata?.namespace ?? "default";
    if (SYSTEM_CLASSES.includes(name) && namespace !== "kube-system") {
      reportViolation(
        `priorityClassName ${name} is a system class, which the API server may refuse outside kube-system without a ResourceQuota for it; use one of the estate's classes.`,
      );
    }
  },
};
