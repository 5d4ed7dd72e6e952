import type { StackValidationPolicy } from "@pulumi/policy";
import { configOf, schema } from "../lib/config";
import { objectsOf } from "../lib/kubernetes";

const configSchema = schema({
  rootNamespace: {
    type: "string",
    default: "istio-system",
    description: "Istio's root namespace (mesh-wide policies).",
  },
});

/** Mesh-wide STRICT is what makes every hop mutually authenticated; DISABLE anywhere opens a plain-text path. */
export const mtlsStrict: StackValidationPolicy = {
  name: "mesh-mtls-strict",
  description: "A mesh-wide PeerAuthentication enforces STRICT mTLS and no PeerAuthentication disables mTLS.",
  enforcementLevel: "mandatory",
  severity: "critical",
  configSchema,
  validateStack: (args, reportViolation) => {
    const { rootNamespace } = configOf<{ rootNamespace: string }>(configSchema, args);
    const all = objectsOf(args.resources, "security.istio.io", "PeerAuthentication");
    const meshWide = all.filter((pa) => pa.namespace === rootNamespace && !pa.props.spec?.selector);
    if (!meshWide.some((pa) => pa.props.spec?.mtls?.mode === "STRICT")) {
      reportViolation(
        `no mesh-wide PeerAuthentication (namespace ${rootNamespace}, no selector) with mtls.mode STRICT.`,
      );
    }
    for (const pa of all) {
      const modes = [
        pa.props.spec?.mtls?.mode,
        ...Object.values(pa.props.spec?.portLevelMtls ?? {}).map((m) => (m as { mode?: string }).mode),
      ];
      if (modes.includes("DISABLE")) reportViolation(`PeerAuthentication ${pa.ref} disables mTLS.`, pa.urn);
    }
  },
};
