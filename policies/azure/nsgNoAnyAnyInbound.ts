import type { ResourceValidationPolicy } from "@pulumi/policy";
import { inboundFromInternet, nsgRules } from "../lib/nsg";

/** An any-source, any-port allow rule undoes deny-by-default for the whole subnet. */
export const nsgNoAnyAnyInbound: ResourceValidationPolicy = {
  name: "nsg-no-any-any-inbound",
  description: "No NSG rule allows inbound traffic from any source to any port.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: (args, reportViolation) => {
    for (const rule of inboundFromInternet(nsgRules(args.type, args.name, args.props))) {
      if (rule.ports.length === 0 || rule.ports.includes("*")) {
        reportViolation(`rule "${rule.name}" allows inbound from any source to any port.`);
      }
    }
  },
};
