import type { StackValidationPolicy } from "@pulumi/policy";
import { parseCidr, parseIp } from "../../lib/cidr";

const CLUSTER = "azure-native:containerservice:ManagedCluster";
const NAT = "azure-native:network:NatGateway";
const PUBLIC_IP = "azure-native:network:PublicIPAddress";

function covered(ip: string, ranges: string[]): boolean {
  const value = parseIp(ip);
  return ranges.some((r) => {
    const block = parseCidr(r.includes("/") ? r : `${r}/32`);
    return value >= block.start && value <= block.end;
  });
}

/**
 * A public API server with authorized IP ranges must admit the cluster's own egress address: with a NAT gateway
 * as outbound type, nodes and konnectivity reach the API server from the NAT address, which AKS does not allow
 * by itself (azure-aks-docs articles/aks/api-server-authorized-ip-ranges.md). The NAT gateway's addresses are
 * read from its public IPs once Azure has assigned them (the stack check of `pulumi up`); a ManagedCluster
 * whose ranges list no /32 at all is reported at once. With outboundType loadBalancer AKS allows the load
 * balancer's outbound IPs by itself, so only the NAT gateway outbound types are checked.
 */
export const aksAuthorizedRangesIncludeEgress: StackValidationPolicy = {
  name: "aks-authorized-ranges-include-egress",
  description:
    "An AKS cluster with a public API server and authorized IP ranges lists its NAT gateway's egress address among them.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, reportViolation) => {
    const ips = new Map<string, string | undefined>();
    for (const r of args.resources) {
      if (r.type === PUBLIC_IP) ips.set(String(r.props.publicIpAddressName ?? r.name), r.props.ipAddress);
    }
    const egress: { name: string; ip?: string }[] = [];
    for (const r of args.resources) {
      if (r.type !== NAT) continue;
      for (const ref of (r.props.publicIpAddresses ?? []) as { id?: string }[]) {
        const name =
          String(ref.id ?? "")
            .split("/")
            .at(-1) ?? "";
        egress.push({ name, ip: ips.get(name) });
      }
    }
    for (const r of args.resources) {
      if (r.type !== CLUSTER) continue;
      const api = r.props.apiServerAccessProfile ?? {};
      const ranges = (api.authorizedIPRanges ?? []) as string[];
      if (api.enablePrivateCluster || api.enableVnetIntegration || ranges.length === 0) continue;
      const outbound = r.props.networkProfile?.outboundType;
      if (outbound !== "userAssignedNATGateway" && outbound !== "managedNATGateway") continue;
      const cluster = String(r.props.resourceName ?? r.name);
      if (egress.length === 0 && outbound === "userAssignedNATGateway") {
        reportViolation(
          `cluster ${cluster} egresses through a NAT gateway the stack does not declare; its address must join apiServerAccessProfile.authorizedIPRanges.`,
          r.urn,
        );
        continue;
      }
      for (const { name, ip } of egress) {
        if (ip === undefined) {
          if (!ranges.some((x) => x.endsWith("/32"))) {
            reportViolation(
              `cluster ${cluster}: apiServerAccessProfile.authorizedIPRanges [${ranges.join(", ")}] has no /32 for the NAT gateway address ${name}; nodes could not reach the API server.`,
              r.urn,
            );
          }
          continue;
        }
        if (!covered(ip, ranges)) {
          reportViolation(
            `cluster ${cluster}: apiServerAccessProfile.authorizedIPRanges [${ranges.join(", ")}] leaves out the NAT gateway address ${ip} (${name}); nodes could not reach the API server.`,
            r.urn,
          );
        }
      }
    }
  },
};
