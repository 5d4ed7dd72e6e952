import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configOf, schema } from "../lib/config";
import { isKind, objectRef } from "../lib/kubernetes";

const INTERNAL = "service.beta.kubernetes.io/azure-load-balancer-internal";

const configSchema = schema({
  allowedLoadBalancers: {
    type: "array",
    items: { type: "string" },
    default: ["istio-ingress/istio-ingressgateway"],
    description: 'Services or Helm releases ("<namespace>/<name>") allowed an (internal) LoadBalancer.',
  },
});

/**
 * Traffic enters only through Front Door to the ingress gateway's internal load balancer; any other
 * LoadBalancer Service is a second, unguarded front door. Helm releases are checked through their values.
 */
export const noPublicLoadBalancer: ResourceValidationPolicy = {
  name: "k8s-no-public-load-balancer",
  description: "Only the ingress gateway has a Service of type LoadBalancer, and it is internal.",
  enforcementLevel: "mandatory",
  severity: "critical",
  configSchema,
  validateResource: (args, reportViolation) => {
    let ref: string;
    let service: { type?: string; annotations?: Record<string, string> };
    if (isKind(args.type, "core", "Service")) {
      ref = objectRef(args.props);
      service = { type: args.props.spec?.type, annotations: args.props.metadata?.annotations };
    } else if (args.type === "kubernetes:helm.sh/v3:Release") {
      ref = `${args.props.namespace ?? "default"}/${args.props.name ?? args.name}`;
      service = args.props.values?.service ?? {};
    } else {
      return;
    }
    if (service.type !== "LoadBalancer") return;
    const { allowedLoadBalancers } = configOf<{ allowedLoadBalancers: string[] }>(configSchema, args);
    if (!allowedLoadBalancers.includes(ref))
      reportViolation(`${ref} has a LoadBalancer Service; only the ingress gateway may.`);
    if (String(service.annotations?.[INTERNAL]) !== "true")
      reportViolation(`${ref}'s LoadBalancer is not internal (${INTERNAL}: "true").`);
  },
};
