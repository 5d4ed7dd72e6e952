import type { ResourceValidationPolicy } from "@pulumi/policy";
import type { Props } from "../lib/props";

/** User pools carry the workloads; without the cluster autoscaler a traffic peak leaves pods pending. */
export const aksUserPoolAutoscaling: ResourceValidationPolicy = {
  name: "aks-user-pool-autoscaling",
  description: "AKS user node pools enable the cluster autoscaler with minCount <= maxCount.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: (args, reportViolation) => {
    const pools: Props[] = [];
    if (args.type === "azure-native:containerservice:AgentPool") {
      pools.push({ name: args.props.agentPoolName ?? args.name, ...args.props });
    } else if (args.type === "azure-native:containerservice:ManagedCluster") {
      pools.push(...(args.props.agentPoolProfiles ?? []));
    } else {
      return;
    }
    // An agent pool is a User pool unless it says otherwise.
    for (const pool of pools.filter((p) => (p.mode ?? "User") === "User")) {
      if (pool.enableAutoScaling !== true) {
        reportViolation(`user pool "${pool.name}" must set enableAutoScaling: true.`);
      } else if (!(pool.minCount >= 1 && pool.maxCount >= pool.minCount)) {
        reportViolation(
          `user pool "${pool.name}" needs 1 <= minCount <= maxCount (got ${pool.minCount}..${pool.maxCount}).`,
        );
      }
    }
  },
};
