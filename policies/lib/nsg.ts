/** NSG rules as declared inline on a NetworkSecurityGroup or as separate SecurityRule resources. */
import type { Props } from "./props";

export interface NsgRule {
  name: string;
  access?: string;
  direction?: string;
  sources: string[];
  ports: string[];
}

/** Source prefixes that mean "anyone on the internet". */
const INTERNET = new Set(["*", "internet", "any", "0.0.0.0/0", "::/0"]);

function list(single: unknown, many: unknown): string[] {
  return [...(typeof single === "string" ? [single] : []), ...(Array.isArray(many) ? many.map(String) : [])];
}

function ruleOf(name: string, r: Props): NsgRule {
  return {
    name,
    access: r.access,
    direction: r.direction,
    sources: list(r.sourceAddressPrefix, r.sourceAddressPrefixes),
    ports: list(r.destinationPortRange, r.destinationPortRanges),
  };
}

/** The rules a resource declares, or none when it is neither an NSG nor a security rule. */
export function nsgRules(type: string, name: string, props: Props): NsgRule[] {
  if (type === "azure-native:network:SecurityRule")
    return [ruleOf(props.securityRuleName ?? props.name ?? name, props)];
  if (type === "azure-native:network:NetworkSecurityGroup") {
    return ((props.securityRules ?? []) as Props[]).map((r, i) => ruleOf(r.name ?? `#${i}`, r));
  }
  return [];
}

/** Inbound rules that allow traffic from any internet source. */
export function inboundFromInternet(rules: NsgRule[]): NsgRule[] {
  return rules.filter(
    (r) =>
      String(r.access).toLowerCase() === "allow" &&
      String(r.direction).toLowerCase() === "inbound" &&
      r.sources.some((s) => INTERNET.has(s.toLowerCase())),
  );
}

/** Whether a port spec ("*", "22", "1000-2000") covers the port. */
export function portCovers(spec: string, port: number): boolean {
  if (spec === "*") return true;
  const [low, high] = spec.split("-").map((p) => Number(p.trim()));
  return high === undefined ? low === port : low <= port && port <= high;
}
