import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configOf, schema } from "../lib/config";
import { inboundFromInternet, nsgRules, portCovers } from "../lib/nsg";

const configSchema = schema({
  managementPorts: {
    type: "array",
    items: { type: "integer", minimum: 1, maximum: 65535 },
    default: [22, 3389, 5985, 5986],
    description: "Ports that must never be reachable from the internet (SSH, RDP, WinRM).",
  },
});

/** Management ports open to the internet are the first thing scanners find. */
export const nsgNoInternetManagementPorts: ResourceValidationPolicy = {
  name: "nsg-no-internet-management-ports",
  description: "No NSG rule allows inbound traffic from the internet to a management port (SSH, RDP, WinRM).",
  enforcementLevel: "mandatory",
  severity: "critical",
  configSchema,
  validateResource: (args, reportViolation) => {
    const { managementPorts } = configOf<{ managementPorts: number[] }>(configSchema, args);
    for (const rule of inboundFromInternet(nsgRules(args.type, args.name, args.props))) {
      const open = managementPorts.filter((port) => rule.ports.some((spec) => portCovers(spec, port)));
      if (open.length > 0) {
        reportViolation(
          `rule "${rule.name}" allows inbound from the internet to management port(s) ${open.join(", ")}.`,
        );
      }
    }
  },
};
