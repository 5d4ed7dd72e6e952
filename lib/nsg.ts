/**
 * A pure evaluator of one packet through one network security group, following Azure's documented
 * semantics (learn.microsoft.com/azure/virtual-network/network-security-groups-overview and
 * network-security-group-how-it-works):
 * - rules of the packet's direction are processed in priority order (lowest number first); the first rule
 *   that matches decides, and processing stops;
 * - every NSG also holds the default rules at 65000, 65001 and 65500, which custom rules (100-4096) override;
 * - a prefix is a CIDR, a single address, "*" (or "Any", "0.0.0.0/0"), or a service tag: VirtualNetwork
 *   (the VNet's address space and the host's virtual IP 168.63.129.16), AzureLoadBalancer (168.63.129.16,
 *   where health probes come from), Internet (public addresses outside the VirtualNetwork tag), or another
 *   tag that matches only addresses known to carry it;
 * - "Any" protocol covers TCP, UDP and ICMP; port ranges are "*", "80" or "8500-8599";
 * - behind a load balancer rule with floating IP (the AKS cloud provider's default), the packet reaches the
 *   backend NIC still addressed to the frontend IP: evaluate such packets with that destination.
 */
import { parseCidr, parseIp } from "./cidr";

export type Direction = "Inbound" | "Outbound";
export type PacketProtocol = "Tcp" | "Udp" | "Icmp";

/** One security rule, in the shape of `network.SecurityRuleArgs` with plain values. */
export interface SecurityRule {
  name: string;
  priority: number;
  direction: Direction;
  access: "Allow" | "Deny";
  protocol: string;
  sourceAddressPrefix?: string;
  sourceAddressPrefixes?: string[];
  destinationAddressPrefix?: string;
  destinationAddressPrefixes?: string[];
  sourcePortRange?: string;
  sourcePortRanges?: string[];
  destinationPortRange?: string;
  destinationPortRanges?: string[];
  description?: string;
}

/** One end of a packet: its address and the service tags it carries beyond those derived from the address. */
export interface PacketAddress {
  ip: string;
  /** Service tags the address belongs to that cannot be derived from it, e.g. "AzureFrontDoor.Backend". */
  tags?: string[];
}

export interface Packet {
  direction: Direction;
  protocol: PacketProtocol;
  source: PacketAddress;
  destination: PacketAddress;
  /** Source port; default an ephemeral one. */
  sourcePort?: number;
  /** Destination port; ignored for ICMP. */
  destinationPort: number;
}

/** What the evaluator needs to know about the NSG's surroundings. */
export interface NsgContext {
  /** Address space of the VNet the NSG's subnet belongs to (and of peered VNets): the VirtualNetwork tag. */
  virtualNetwork: string[];
}

/** The verdict of one packet: allowed or not, and the rule that decided. */
export interface NsgDecision {
  allowed: boolean;
  rule: SecurityRule;
  /** "NSG <nsg> rule <name> (<priority>)", for messages. */
  decidedBy: string;
}

/** The host's virtual IP: the source of Azure Load Balancer health probes, part of the VirtualNetwork tag. */
export const AZURE_HOST_IP = "168.63.129.16";

/** Azure's default rules of every NSG (overview page, "Default security rules"), as ARM names them. */
export const DEFAULT_SECURITY_RULES: readonly SecurityRule[] = [
  defaultRule("AllowVnetInBound", 65000, "Inbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
  defaultRule("AllowAzureLoadBalancerInBound", 65001, "Inbound", "Allow", "AzureLoadBalancer", "*"),
  defaultRule("DenyAllInBound", 65500, "Inbound", "Deny", "*", "*"),
  defaultRule("AllowVnetOutBound", 65000, "Outbound", "Allow", "VirtualNetwork", "VirtualNetwork"),
  defaultRule("AllowInternetOutBound", 65001, "Outbound", "Allow", "*", "Internet"),
  defaultRule("DenyAllOutBound", 65500, "Outbound", "Deny", "*", "*"),
];

function defaultRule(
  name: string,
  priority: number,
  direction: Direction,
  access: "Allow" | "Deny",
  source: string,
  destination: string,
): SecurityRule {
  return {
    name,
    priority,
    direction,
    access,
    protocol: "*",
    sourceAddressPrefix: source,
    sourcePortRange: "*",
    destinationAddressPrefix: destination,
    destinationPortRange: "*",
  };
}

const ANY = new Set(["*", "any", "0.0.0.0/0"]);

/** Address blocks that are never on the public internet (RFC 1918, shared, loopback, link-local). */
const NON_PUBLIC = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "127.0.0.0/8",
  "169.254.0.0/16",
];

function inBlock(ip: string, prefix: string): boolean {
  const block = parseCidr(prefix.includes("/") ? prefix : `${prefix}/32`);
  const value = parseIp(ip);
  return value >= block.start && value <= block.end;
}

function isAddressPrefix(prefix: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/.test(prefix);
}

function inVirtualNetwork(ip: string, context: NsgContext): boolean {
  return ip === AZURE_HOST_IP || context.virtualNetwork.some((space) => inBlock(ip, space));
}

/** Whether an address (with its tags) falls under a rule's address prefix. */
export function prefixMatches(prefix: string, address: PacketAddress, context: NsgContext): boolean {
  const p = prefix.trim();
  if (ANY.has(p.toLowerCase())) return true;
  if (isAddressPrefix(p)) return inBlock(address.ip, p);
  if (address.tags?.some((t) => t.toLowerCase() === p.toLowerCase())) return true;
  switch (p.toLowerCase()) {
    case "virtualnetwork":
      return inVirtualNetwork(address.ip, context);
    case "azureloadbalancer":
      return address.ip === AZURE_HOST_IP;
    case "internet":
      return !inVirtualNetwork(address.ip, context) && !NON_PUBLIC.some((b) => inBlock(address.ip, b));
    default:
      // Any other service tag (Storage, AzureFrontDoor.Backend...) matches only addresses tagged with it.
      return false;
  }
}

/** Whether a port range expression ("*", "443", "8500-8599") covers the port. */
export function portMatches(range: string, port: number): boolean {
  const r = range.trim();
  if (r === "*") return true;
  const [low, high] = r.split("-").map((x) => Number(x.trim()));
  return high === undefined ? port === low : low <= port && port <= high;
}

function protocolMatches(ruleProtocol: string, protocol: PacketProtocol): boolean {
  const p = ruleProtocol.toLowerCase();
  return p === "*" || p === "any" || p === protocol.toLowerCase();
}

const listOf = (single: string | undefined, many: string[] | undefined): string[] => [
  ...(single !== undefined ? [single] : []),
  ...(many ?? []),
];

/** Whether one rule matches the packet (direction, protocol, addresses and ports). */
export function ruleMatches(rule: SecurityRule, packet: Packet, context: NsgContext): boolean {
  if (rule.direction !== packet.direction) return false;
  if (!protocolMatches(rule.protocol, packet.protocol)) return false;
  const sources = listOf(rule.sourceAddressPrefix, rule.sourceAddressPrefixes);
  const destinations = listOf(rule.destinationAddressPrefix, rule.destinationAddressPrefixes);
  if (!sources.some((p) => prefixMatches(p, packet.source, context))) return false;
  if (!destinations.some((p) => prefixMatches(p, packet.destination, context))) return false;
  // ICMP has no ports: a rule for ICMP (or Any) matches it whatever its port ranges say.
  if (packet.protocol === "Icmp") return true;
  const sourcePorts = listOf(rule.sourcePortRange, rule.sourcePortRanges);
  const destinationPorts = listOf(rule.destinationPortRange, rule.destinationPortRanges);
  const sourcePort = packet.sourcePort ?? 49152;
  if (sourcePorts.length > 0 && !sourcePorts.some((r) => portMatches(r, sourcePort))) return false;
  return (
    destinationPorts.length === 0 || destinationPorts.some((r) => portMatches(r, packet.destinationPort))
  );
}

/** Throws on rules Azure would reject: priorities outside 100-4096 or repeated within a direction, repeated names. */
export function validateRules(nsgName: string, rules: readonly SecurityRule[]): void {
  const seen = new Map<string, string>();
  const names = new Set<string>();
  for (const rule of rules) {
    if (names.has(rule.name)) throw new Error(`NSG ${nsgName}: two rules are named ${rule.name}`);
    names.add(rule.name);
    if (rule.priority < 100 || rule.priority > 4096) {
      throw new Error(`NSG ${nsgName} rule ${rule.name}: priority ${rule.priority} is outside 100-4096`);
    }
    const key = `${rule.direction}/${rule.priority}`;
    const other = seen.get(key);
    if (other) {
      throw new Error(
        `NSG ${nsgName} rules ${other} and ${rule.name} share ${rule.direction} priority ${rule.priority}`,
      );
    }
    seen.set(key, rule.name);
  }
}

/**
 * The verdict of one packet through an NSG with these custom rules: the default rules are added, rules of
 * the packet's direction are sorted by priority, and the first match decides.
 */
export function evaluate(
  nsgName: string,
  rules: readonly SecurityRule[],
  packet: Packet,
  context: NsgContext,
): NsgDecision {
  validateRules(nsgName, rules);
  const ordered = [...rules, ...DEFAULT_SECURITY_RULES]
    .filter((r) => r.direction === packet.direction)
    .sort((a, b) => a.priority - b.priority);
  for (const rule of ordered) {
    if (ruleMatches(rule, packet, context)) {
      return {
        allowed: rule.access === "Allow",
        rule,
        decidedBy: `NSG ${nsgName} rule ${rule.name} (${rule.priority})`,
      };
    }
  }
  // Unreachable: the default deny at 65500 matches every packet of its direction.
  throw new Error(`NSG ${nsgName}: no rule matched`);
}
