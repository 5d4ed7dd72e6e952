import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isKind } from "../lib/kubernetes";

/** In-mesh hosts end in the cluster domain or have no dots at all (short service names). */
function inMesh(host: string): boolean {
  return !host.includes(".") || /\.svc(\.cluster\.local)?$/.test(host);
}

/**
 * A client-side TLS mode other than ISTIO_MUTUAL towards an in-mesh host sends plain text (DISABLE) or
 * bypasses the mesh's identities (SIMPLE/MUTUAL), even under STRICT PeerAuthentication on the server.
 */
export const istioMutualTls: ResourceValidationPolicy = {
  name: "mesh-istio-mutual-tls",
  description:
    "Traffic policies towards in-mesh hosts (DestinationRules, Flagger Canary service blocks) use ISTIO_MUTUAL TLS.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (isKind(args.type, "flagger.app", "Canary")) {
      const mode = args.props.spec?.service?.trafficPolicy?.tls?.mode;
      if (mode !== "ISTIO_MUTUAL") {
        reportViolation(
          `spec.service.trafficPolicy.tls.mode is ${mode ?? "unset"}; it must be ISTIO_MUTUAL.`,
        );
      }
    } else if (isKind(args.type, "networking.istio.io", "DestinationRule")) {
      const spec = args.props.spec ?? {};
      if (!inMesh(String(spec.host ?? ""))) return;
      const policies = [
        spec.trafficPolicy,
        ...(spec.trafficPolicy?.portLevelSettings ?? []),
        ...(spec.subsets ?? []).map((s: { trafficPolicy?: unknown }) => s.trafficPolicy),
      ];
      for (const policy of policies) {
        const mode = (policy as { tls?: { mode?: string } } | undefined)?.tls?.mode;
        if (mode !== undefined && mode !== "ISTIO_MUTUAL")
          reportViolation(`tls.mode ${mode} towards in-mesh host ${spec.host}.`);
      }
    }
  },
};
