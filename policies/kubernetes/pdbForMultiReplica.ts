import type { StackValidationPolicy } from "@pulumi/policy";
import { autoscalersOf, canaryTargets, hasPdb, objectsOf } from "../lib/kubernetes";

/** The most replicas a workload may run: its fixed count, or its autoscaler's maximum. */
function maxReplicas(
  replicas: number | undefined,
  autoscalers: { props: Record<string, unknown> }[],
): number {
  const maxima = autoscalers.map((a) => {
    const spec = (a.props.spec ?? {}) as { maxReplicas?: number; maxReplicaCount?: number };
    return spec.maxReplicas ?? spec.maxReplicaCount ?? 100;
  });
  return Math.max(replicas ?? 1, ...maxima);
}

/** Node drains and upgrades evict every replica at once unless a PodDisruptionBudget holds some back. */
export const pdbForMultiReplica: StackValidationPolicy = {
  name: "k8s-pdb-for-multi-replica",
  description:
    "Every Deployment or StatefulSet that can run more than one replica has a PodDisruptionBudget.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateStack: (args, reportViolation) => {
    const canaried = canaryTargets(args.resources);
    for (const kind of ["Deployment", "StatefulSet"]) {
      for (const workload of objectsOf(args.resources, "apps", kind)) {
        const max = maxReplicas(workload.props.spec?.replicas, autoscalersOf(args.resources, workload, kind));
        if (max < 2) continue;
        const isCanaried = kind === "Deployment" && canaried.has(workload.ref);
        if (!hasPdb(args.resources, workload, isCanaried)) {
          const whose = isCanaried ? " (its Flagger primary's pods)" : "";
          reportViolation(
            `${kind} ${workload.ref} runs up to ${max} replicas but no PodDisruptionBudget selects its pods${whose}.`,
            workload.urn,
          );
        }
      }
    }
  },
};
