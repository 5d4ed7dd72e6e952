import type { StackValidationPolicy } from "@pulumi/policy";
import { configOf, exemptWorkloadsProperty, schema } from "../lib/config";
import { autoscalersOf, objectsOf } from "../lib/kubernetes";

const configSchema = schema({
  exemptWorkloads: exemptWorkloadsProperty('Deployments ("<namespace>/<name>") exempt.'),
});

/** Fixed replica counts either waste capacity or fall over at peak; every Deployment scales with its load. */
export const deploymentHasAutoscaler: StackValidationPolicy = {
  name: "deployment-has-autoscaler",
  description: "Every Deployment is targeted by exactly one autoscaler (HPA or KEDA ScaledObject).",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema,
  validateStack: (args, reportViolation) => {
    const { exemptWorkloads } = configOf<{ exemptWorkloads: string[] }>(configSchema, args);
    for (const deployment of objectsOf(args.resources, "apps", "Deployment")) {
      if (exemptWorkloads.includes(deployment.ref)) continue;
      const autoscalers = autoscalersOf(args.resources, deployment, "Deployment");
      if (autoscalers.length === 0) {
        reportViolation(`Deployment ${deployment.ref} has no HPA or ScaledObject.`, deployment.urn);
      } else if (autoscalers.length > 1) {
        // KEDA creates its own HPA: a second autoscaler on the same Deployment makes them fight.
        reportViolation(
          `Deployment ${deployment.ref} has ${autoscalers.length} autoscalers (${autoscalers.map((a) => a.ref).join(", ")}).`,
          deployment.urn,
        );
      }
    }
  },
};
