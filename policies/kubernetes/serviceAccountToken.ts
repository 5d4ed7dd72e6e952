import type { StackValidationPolicy } from "@pulumi/policy";
import { configOf, exemptWorkloadsProperty, schema } from "../lib/config";
import { isWorkload, objectRef, objectsOf, podSpecOf } from "../lib/kubernetes";

const configSchema = schema({
  exemptWorkloads: exemptWorkloadsProperty(
    'Workloads ("<namespace>/<name>") that call the Kubernetes API and so keep the token.',
  ),
});

/**
 * A pod that never calls the Kubernetes API gains nothing from the default token and loses it to whoever
 * gets code running inside: it is a first step to API discovery (CIS 5.1.6). Tokens that projected
 * volumes mount for a purpose (workload identity, the mesh sidecar) are not affected by this setting.
 */
export const serviceAccountToken: StackValidationPolicy = {
  name: "k8s-service-account-token",
  description:
    "Pods do not mount a Kubernetes API token (automountServiceAccountToken false on the pod or its service account) unless the workload is a named exception.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema,
  validateStack: (args, reportViolation) => {
    const { exemptWorkloads } = configOf<{ exemptWorkloads: string[] }>(configSchema, args);
    const accounts = new Map(
      objectsOf(args.resources, "core", "ServiceAccount").map((sa) => [sa.ref, sa.props]),
    );
    for (const r of args.resources) {
      if (!isWorkload(r.type)) continue;
      const pod = podSpecOf(r.type, r.props);
      if (!pod) continue;
      const ref = objectRef(r.props);
      if (exemptWorkloads.includes(ref)) continue;
      const namespace = r.props.metadata?.namespace ?? "default";
      const accountName = pod.serviceAccountName ?? "default";
      // The pod's own setting wins; otherwise its account's; otherwise Kubernetes mounts the token.
      const mounted =
        pod.automountServiceAccountToken ??
        accounts.get(`${namespace}/${accountName}`)?.automountServiceAccountToken ??
        true;
      if (mounted !== false) {
        reportViolation(
          `${ref} mounts the Kubernetes API token of service account ${accountName}: set automountServiceAccountToken: false, or list the workload in exemptWorkloads if it calls the API.`,
          r.urn,
        );
      }
    }
  },
};
