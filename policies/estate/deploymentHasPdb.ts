import type { StackValidationPolicy } from "@pulumi/policy";
import { configOf, exemptWorkloadsProperty, schema } from "../lib/config";
import { canaryTargets, hasPdb, objectsOf } from "../lib/kubernetes";

const configSchema = schema({
  exemptWorkloads: exemptWorkloadsProperty('Deployments ("<namespace>/<name>") exempt.'),
});

/** Every Deployment of the estate serves traffic that a node drain must not take down all at once. */
export const deploymentHasPdb: StackValidationPolicy = {
  name: "deployment-has-pdb",
  description: "Every Deployment has a PodDisruptionBudget selecting the pods that serve its traffic.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema,
  validateStack: (args, reportViolation) => {
    const { exemptWorkloads } = configOf<{ exemptWorkloads: string[] }>(configSchema, args);
    const canaried = canaryTargets(args.resources);
    for (const deployment of objectsOf(args.resources, "apps", "Deployment")) {
      if (exemptWorkloads.includes(deployment.ref)) continue;
      if (!hasPdb(args.resources, deployment, canaried.has(deployment.ref))) {
        reportViolation(`Deployment ${deployment.ref} has no PodDisruptionBudget.`, deployment.urn);
      }
    }
  },
};
