/**
 * The Azure side of the wiring contract: which addresses of a stack's VNet must reach which others, on which
 * ports, and which must never. The subnets' NSG rules are derived from the required flows
 * (`nsgRulesFor`), and `verifyFlow` evaluates every flow through the NSGs as Azure does (lib/nsg.ts), plus
 * the egress path (load balancer outbound rule, NAT gateway or service endpoint) and the API server's authorized ranges for flows that
 * leave the VNet.
 *
 * Facts the table rests on:
 * - Azure CNI Overlay does not encapsulate: subnet NSGs see pod addresses, and need node CIDR <-> pod CIDR on
 *   every port and protocol (learn.microsoft.com/azure/aks/azure-cni-overlay, "Network security groups").
 *   Pod traffic to addresses outside the cluster leaves with the node's address (SNAT).
 * - The AKS cloud provider enables floating IP on load-balancer rules by default (cloud-provider-azure,
 *   annotation azure-disable-load-balancer-floating-ip): traffic reaches the node still addressed to the
 *   internal load balancer's frontend IP, so the node NSG must allow that destination.
 * - A Private Link Service forwards with source addresses from its NAT subnet (the ingress subnet).
 * - Azure Managed Redis with the OSS cluster policy: clients bootstrap on 10000, then reach each shard on
 *   8500-8599 (learn.microsoft.com/azure/redis/architecture).
 * - Flexible Server needs 5432 within its subnet (high availability) and outbound to Azure Storage (WAL
 *   archive) and Entra ID (Entra authentication) (postgresql/flexible-server/concepts-networking-private).
 */
import { formatIp, parseCidr } from "../cidr";
import {
  evaluate,
  AZURE_HOST_IP,
  type NsgContext,
  type Packet,
  type PacketAddress,
  type PacketProtocol,
  type SecurityRule,
} from "../nsg";
import type { Flow, FlowTable, PortSpec } from "./types";

export const SUBNET_ROLES = ["aksNodes", "ingress", "privateEndpoints", "postgres"] as const;
export type SubnetRole = (typeof SUBNET_ROLES)[number];

/** Services reached through a private endpoint in the private endpoints subnet, with their ports. */
export const PRIVATE_ENDPOINT_PORTS = {
  keyVault: [443],
  acr: [443],
  search: [443],
  blob: [443],
  // 10000 bootstraps; the OSS cluster policy then redirects clients to one port per shard.
  redis: [10000, [8500, 8599]],
} as const satisfies Record<string, readonly PortSpec[]>;
export type PrivateEndpointService = keyof typeof PRIVATE_ENDPOINT_PORTS;

/** Ports that must never be reachable from outside: SSH, RDP, WinRM over HTTP and HTTPS. */
export const MANAGEMENT_PORTS = [22, 3389, 5985, 5986] as const;

/** Lowest priority a custom NSG rule can have: the explicit deny-all sits there, below every allow. */
export const DENY_ALL_PRIORITY = 4096;

/** An endpoint of an Azure flow. */
export type AzureEndpoint =
  /** The AKS nodes' NICs (node subnet). */
  | { kind: "nodes" }
  /** Pods (the overlay pod CIDR, hosted on the nodes). */
  | { kind: "pods" }
  /** PostgreSQL Flexible Server (its delegated subnet). */
  | { kind: "postgres" }
  /** The other region's PostgreSQL subnet, across global VNet peering (cross-region read replica). */
  | { kind: "peerPostgres" }
  /** The Private Link Service's NAT addresses (ingress subnet): Front Door's traffic as the VNet sees it. */
  | { kind: "privateLinkNat" }
  /** The internal load balancer's frontend IP of the Istio gateway (floating IP: as the node NIC sees it). */
  | { kind: "ingressFrontend" }
  /** A private endpoint of a data or platform service. */
  | { kind: "privateEndpoint"; service: PrivateEndpointService }
  /** Azure Load Balancer health probes (168.63.129.16). */
  | { kind: "loadBalancerProbe" }
  /** Any address on the internet. */
  | { kind: "internet" }
  /** The AKS API server's public endpoint. */
  | { kind: "apiServer" }
  /** A public Azure service reached by its service tag. */
  | { kind: "azureService"; tag: "Storage" | "AzureActiveDirectory" };

export type AzureFlow = Flow<AzureEndpoint>;

const ANY_PORT = "any" as const;

const peFlows = (from: "nodes" | "pods"): AzureFlow[] =>
  (Object.keys(PRIVATE_ENDPOINT_PORTS) as PrivateEndpointService[]).map((service) => ({
    id: `${from}-to-${service}`,
    from: { kind: from },
    to: { kind: "privateEndpoint", service },
    ports: PRIVATE_ENDPOINT_PORTS[service],
    protocol: "TCP",
    why: `Workloads reach ${service} only through its private endpoint.`,
  }));

const inside: { name: string; endpoint: AzureEndpoint }[] = [
  { name: "nodes", endpoint: { kind: "nodes" } },
  { name: "gateway", endpoint: { kind: "ingressFrontend" } },
  { name: "postgres", endpoint: { kind: "postgres" } },
  { name: "key-vault", endpoint: { kind: "privateEndpoint", service: "keyVault" } },
  { name: "redis", endpoint: { kind: "privateEndpoint", service: "redis" } },
];

/** The Azure flow table of every stack. */
export const AZURE_FLOWS: FlowTable<AzureEndpoint> = {
  required: [
    {
      id: "nodes-to-nodes",
      from: { kind: "nodes" },
      to: { kind: "nodes" },
      ports: ANY_PORT,
      protocol: "Any",
      why: "Kubelet, node-to-node and hostNetwork traffic (CNI overlay requirement).",
    },
    {
      id: "nodes-to-pods",
      from: { kind: "nodes" },
      to: { kind: "pods" },
      ports: ANY_PORT,
      protocol: "Any",
      why: "Service traffic routed by the node to pods on other nodes, kubelet probes (CNI overlay requirement).",
    },
    {
      id: "pods-to-pods",
      from: { kind: "pods" },
      to: { kind: "pods" },
      ports: ANY_PORT,
      protocol: "Any",
      why: "Pod-to-pod and pod-to-service traffic across nodes, DNS, Istio, webhooks (CNI overlay requirement).",
    },
    {
      id: "pods-to-nodes",
      from: { kind: "pods" },
      to: { kind: "nodes" },
      ports: ANY_PORT,
      protocol: "Any",
      why: "Pods reach hostNetwork endpoints: kubelet and node-exporter scrapes, konnectivity agents.",
    },
    {
      id: "private-link-to-gateway",
      from: { kind: "privateLinkNat" },
      to: { kind: "ingressFrontend" },
      ports: [80, 443],
      protocol: "TCP",
      why: "Front Door requests and health probes through the Private Link Service to the Istio gateway.",
    },
    {
      id: "nodes-to-gateway",
      from: { kind: "nodes" },
      to: { kind: "ingressFrontend" },
      ports: [80, 443],
      protocol: "TCP",
      why: "In-cluster calls to the internal ingress address.",
    },
    {
      id: "probes-to-nodes",
      from: { kind: "loadBalancerProbe" },
      to: { kind: "nodes" },
      ports: ANY_PORT,
      protocol: "Any",
      why: "Azure Load Balancer health probes of the gateway's backends.",
    },
    {
      id: "probes-to-postgres",
      from: { kind: "loadBalancerProbe" },
      to: { kind: "postgres" },
      ports: ANY_PORT,
      protocol: "Any",
      why: "Flexible Server's platform health checks come from the host's virtual IP.",
    },
    {
      id: "nodes-to-postgres",
      from: { kind: "nodes" },
      to: { kind: "postgres" },
      ports: [5432],
      protocol: "TCP",
      why: "Services connect to PostgreSQL.",
    },
    {
      id: "pods-to-postgres",
      from: { kind: "pods" },
      to: { kind: "postgres" },
      ports: [5432],
      protocol: "TCP",
      why: "Services connect to PostgreSQL (the overlay SNATs pods to their node's address).",
    },
    {
      id: "postgres-replication",
      from: { kind: "postgres" },
      to: { kind: "postgres" },
      ports: [5432],
      protocol: "TCP",
      why: "Primary to standby replication within the delegated subnet (high availability).",
    },
    {
      id: "postgres-to-storage",
      from: { kind: "postgres" },
      to: { kind: "azureService", tag: "Storage" },
      ports: [443],
      protocol: "TCP",
      why: "WAL archive and backups to Azure Storage (Microsoft.Storage service endpoint).",
    },
    {
      id: "postgres-to-entra",
      from: { kind: "postgres" },
      to: { kind: "azureService", tag: "AzureActiveDirectory" },
      ports: [443],
      protocol: "TCP",
      why: "Entra ID authentication validates tokens against Entra ID (through the NAT gateway).",
    },
    ...peFlows("nodes"),
    ...peFlows("pods"),
    {
      id: "nodes-to-api-server",
      from: { kind: "nodes" },
      to: { kind: "apiServer" },
      ports: [443],
      protocol: "TCP",
      why: "Kubelet and konnectivity reach the public API server from the egress address.",
    },
    {
      id: "nodes-to-internet-https",
      from: { kind: "nodes" },
      to: { kind: "internet" },
      ports: [443],
      protocol: "TCP",
      why: "AKS required outbound: mcr.microsoft.com, Entra ID, packages (the cluster load balancer's outbound rule).",
    },
  ],
  forbidden: [
    ...inside.map(({ name, endpoint }): AzureFlow => ({
      id: `internet-to-${name}`,
      from: { kind: "internet" },
      to: endpoint,
      ports: ANY_PORT,
      protocol: "Any",
      why: "Nothing inside the VNet is reachable from the internet; Front Door arrives through Private Link.",
    })),
    {
      id: "internet-to-pods",
      from: { kind: "internet" },
      to: { kind: "pods" },
      ports: ANY_PORT,
      protocol: "Any",
      why: "Pods are never reachable from the internet.",
    },
    {
      id: "internet-to-management-ports",
      from: { kind: "internet" },
      to: { kind: "nodes" },
      ports: [...MANAGEMENT_PORTS],
      protocol: "TCP",
      why: "SSH, RDP and WinRM are never open to the internet.",
    },
    {
      id: "private-link-to-management-ports",
      from: { kind: "privateLinkNat" },
      to: { kind: "nodes" },
      ports: [...MANAGEMENT_PORTS],
      protocol: "TCP",
      why: "Front Door's path ends at the gateway: never at a node's management port.",
    },
    {
      id: "private-link-to-postgres",
      from: { kind: "privateLinkNat" },
      to: { kind: "postgres" },
      ports: [5432],
      protocol: "TCP",
      why: "Front Door's path never reaches the database.",
    },
    {
      id: "private-link-to-redis",
      from: { kind: "privateLinkNat" },
      to: { kind: "privateEndpoint", service: "redis" },
      ports: PRIVATE_ENDPOINT_PORTS.redis,
      protocol: "TCP",
      why: "Front Door's path never reaches the data services.",
    },
  ],
};

/** Where a stack puts the endpoints: its address plan. */
export interface AzurePlacement {
  /** The VNet's address space (the VirtualNetwork service tag). */
  addressSpace: string;
  subnets: Record<SubnetRole, string>;
  podCidr: string;
  /** Static frontend IP of the gateway's internal load balancer (lib/names ingressLoadBalancerIp). */
  ingressFrontendIp: string;
  /** The peered region's PostgreSQL subnets that replicate with this stack's server (none when nothing replicates). */
  peerPostgres?: string[];
}

/**
 * The flow table of one stack: every stack's flows, plus replication with the peered region's PostgreSQL when
 * the stack has a cross-region replica or source. Azure Database for PostgreSQL flexible server read replicas
 * with private access need the primary and replica subnets to reach each other on 5432 (concepts-read-replicas,
 * "Considerations": VNet peering and NSG rules between the two VNets).
 */
export function azureFlows(place: AzurePlacement): FlowTable<AzureEndpoint> {
  if (!place.peerPostgres?.length) return AZURE_FLOWS;
  const replication = (from: AzureEndpoint, to: AzureEndpoint, id: string): AzureFlow => ({
    id,
    from,
    to,
    ports: [5432],
    protocol: "TCP",
    why: "Cross-region read replica: streaming replication between the two regions' servers over peering.",
  });
  return {
    required: [
      ...AZURE_FLOWS.required,
      replication({ kind: "postgres" }, { kind: "peerPostgres" }, "postgres-to-peer-postgres"),
      replication({ kind: "peerPostgres" }, { kind: "postgres" }, "peer-postgres-to-postgres"),
    ],
    forbidden: [
      ...AZURE_FLOWS.forbidden,
      {
        id: "peer-postgres-to-nodes",
        from: { kind: "peerPostgres" },
        to: { kind: "nodes" },
        ports: [...MANAGEMENT_PORTS],
        protocol: "TCP",
        why: "The peering carries replication only: it never opens the nodes' management ports.",
      },
    ],
  };
}

/** Documentation addresses (RFC 5737) standing in for the internet, and public Azure service addresses. */
export const SAMPLE_INTERNET = ["198.51.100.7", "192.0.2.44"];
const SAMPLE_API_SERVER: PacketAddress = { ip: "52.170.10.20", tags: ["AzureCloud"] };
const SAMPLE_SERVICE: Record<"Storage" | "AzureActiveDirectory", PacketAddress> = {
  Storage: { ip: "52.239.10.20", tags: ["Storage", "AzureCloud"] },
  AzureActiveDirectory: { ip: "20.190.128.20", tags: ["AzureActiveDirectory"] },
};

/** The subnet whose NSG filters traffic to (inbound) or from (outbound) the endpoint; none outside the VNet. */
export function hostSubnet(endpoint: AzureEndpoint): SubnetRole | undefined {
  switch (endpoint.kind) {
    // Floating IP: the frontend's traffic lands on the node NICs.
    case "nodes":
    case "pods":
    case "ingressFrontend":
      return "aksNodes";
    case "postgres":
      return "postgres";
    case "privateEndpoint":
      return "privateEndpoints";
    default:
      return undefined;
  }
}

/** Whether the endpoint sends from a NIC of its subnet (so that subnet's outbound rules apply). */
function sendsFromNic(endpoint: AzureEndpoint): boolean {
  return endpoint.kind === "nodes" || endpoint.kind === "pods" || endpoint.kind === "postgres";
}

const inCluster = (e: AzureEndpoint) => e.kind === "nodes" || e.kind === "pods";

/** The source as the destination sees it: the overlay SNATs pods to their node for anything outside the cluster. */
function effectiveSource(from: AzureEndpoint, to: AzureEndpoint): AzureEndpoint {
  return from.kind === "pods" && !inCluster(to) ? { kind: "nodes" } : from;
}

/** The address prefixes (or service tag) an endpoint stands for in NSG rules. */
export function prefixesOf(endpoint: AzureEndpoint, place: AzurePlacement): string[] {
  switch (endpoint.kind) {
    case "nodes":
      return [place.subnets.aksNodes];
    case "pods":
      return [place.podCidr];
    case "postgres":
      return [place.subnets.postgres];
    case "peerPostgres":
      return place.peerPostgres ?? [];
    case "privateLinkNat":
      return [place.subnets.ingress];
    case "ingressFrontend":
      return [place.ingressFrontendIp];
    case "privateEndpoint":
      return [place.subnets.privateEndpoints];
    case "loadBalancerProbe":
      return ["AzureLoadBalancer"];
    case "internet":
      return ["Internet"];
    case "apiServer":
      return ["AzureCloud"];
    case "azureService":
      return [endpoint.tag];
  }
}

/** Sample addresses of a block: the first and last usable ones (Azure reserves the first four and the last). */
function edges(cidr: string, reserved: boolean): string[] {
  const block = parseCidr(cidr);
  const first = block.start + (reserved ? 4 : 1);
  const last = block.end - 1;
  return first >= last ? [formatIp(block.start)] : [formatIp(first), formatIp(last)];
}

/** Addresses a flow's packets are sent from or to, for the endpoint. */
export function sampleAddresses(endpoint: AzureEndpoint, place: AzurePlacement): PacketAddress[] {
  switch (endpoint.kind) {
    case "nodes":
      return edges(place.subnets.aksNodes, true).map((ip) => ({ ip }));
    case "pods":
      return edges(place.podCidr, false).map((ip) => ({ ip }));
    case "postgres":
      return edges(place.subnets.postgres, true).map((ip) => ({ ip }));
    case "peerPostgres":
      return (place.peerPostgres ?? []).flatMap((cidr) => edges(cidr, true).map((ip) => ({ ip })));
    case "privateLinkNat":
      return edges(place.subnets.ingress, true).map((ip) => ({ ip }));
    case "ingressFrontend":
      return [{ ip: place.ingressFrontendIp }];
    case "privateEndpoint":
      return edges(place.subnets.privateEndpoints, true).map((ip) => ({ ip }));
    case "loadBalancerProbe":
      return [{ ip: AZURE_HOST_IP, tags: ["AzureLoadBalancer"] }];
    case "internet":
      return SAMPLE_INTERNET.map((ip) => ({ ip, tags: ["Internet"] }));
    case "apiServer":
      return [SAMPLE_API_SERVER];
    case "azureService":
      return [SAMPLE_SERVICE[endpoint.tag]];
  }
}

const ANY_TCP_SAMPLES = [1, 22, 53, 80, 443, 3389, 5432, 8080, 10250, 15017, 65535];
const ANY_UDP_SAMPLES = [53, 123, 8472, 65535];

/** Protocol and destination port pairs a flow is checked with: every listed port, range edges and midpoints. */
export function samplePorts(flow: Pick<AzureFlow, "ports" | "protocol">): [PacketProtocol, number][] {
  const protocols: PacketProtocol[] =
    flow.protocol === "Any" ? ["Tcp", "Udp"] : flow.protocol === "TCP" ? ["Tcp"] : ["Udp"];
  const out: [PacketProtocol, number][] = [];
  for (const protocol of protocols) {
    if (flow.ports === "any") {
      for (const port of protocol === "Tcp" ? ANY_TCP_SAMPLES : ANY_UDP_SAMPLES) out.push([protocol, port]);
      continue;
    }
    for (const spec of flow.ports) {
      if (typeof spec === "number") out.push([protocol, spec]);
      else
        for (const port of new Set([spec[0], Math.floor((spec[0] + spec[1]) / 2), spec[1]]))
          out.push([protocol, port]);
    }
  }
  if (flow.protocol === "Any") out.push(["Icmp", 0]);
  return out;
}

const portText = (spec: PortSpec): string =>
  typeof spec === "number" ? String(spec) : `${spec[0]}-${spec[1]}`;

/** NSG protocol of a flow. */
const nsgProtocol = (p: AzureFlow["protocol"]): string => (p === "Any" ? "*" : p === "TCP" ? "Tcp" : "Udp");

function ruleFor(
  flow: AzureFlow,
  direction: "Inbound" | "Outbound",
  priority: number,
  place: AzurePlacement,
): SecurityRule {
  const sources = prefixesOf(effectiveSource(flow.from, flow.to), place);
  const destinations = prefixesOf(flow.to, place);
  const ports = flow.ports === "any" ? ["*"] : flow.ports.map(portText);
  return {
    name: `${direction === "Inbound" ? "Allow" : "AllowOut"}-${flow.id}`.slice(0, 80),
    priority,
    direction,
    access: "Allow",
    protocol: nsgProtocol(flow.protocol),
    ...(sources.length === 1 ? { sourceAddressPrefix: sources[0] } : { sourceAddressPrefixes: sources }),
    sourcePortRange: "*",
    ...(destinations.length === 1
      ? { destinationAddressPrefix: destinations[0] }
      : { destinationAddressPrefixes: destinations }),
    ...(ports.length === 1 ? { destinationPortRange: ports[0] } : { destinationPortRanges: ports }),
    description: flow.why.slice(0, 140),
  };
}

const ruleKey = (r: SecurityRule) =>
  JSON.stringify([
    r.direction,
    r.protocol,
    r.sourceAddressPrefix ?? r.sourceAddressPrefixes,
    r.destinationAddressPrefix ?? r.destinationAddressPrefixes,
    r.destinationPortRange ?? r.destinationPortRanges,
  ]);

/**
 * A subnet's NSG rules, derived from the required flows: an inbound allow where the flow's destination is
 * hosted, an outbound allow where its source sends from a NIC and the destination is inside the VNet (flows
 * leaving the VNet use the default AllowInternetOutBound), and at the lowest custom priority an explicit
 * DenyAllInbound that overrides Azure's default AllowVnetInBound. A flow whose rule would repeat an earlier
 * one (pods SNATed to their node) adds nothing.
 */
export function nsgRulesFor(
  role: SubnetRole,
  place: AzurePlacement,
  table: FlowTable<AzureEndpoint> = azureFlows(place),
): SecurityRule[] {
  const rules: SecurityRule[] = [];
  const seen = new Set<string>();
  const next = { Inbound: 100, Outbound: 100 };
  const add = (flow: AzureFlow, direction: "Inbound" | "Outbound") => {
    const rule = ruleFor(flow, direction, next[direction], place);
    const key = ruleKey(rule);
    if (seen.has(key)) return;
    seen.add(key);
    next[direction] += 10;
    if (next[direction] >= DENY_ALL_PRIORITY) throw new Error(`NSG of ${role}: more rules than priorities`);
    rules.push(rule);
  };
  for (const flow of table.required) {
    if (hostSubnet(flow.to) === role) add(flow, "Inbound");
  }
  for (const flow of table.required) {
    if (sendsFromNic(flow.from) && hostSubnet(flow.from) === role && hostSubnet(flow.to) !== undefined) {
      add(flow, "Outbound");
    }
  }
  rules.push({
    name: "DenyAllInbound",
    priority: DENY_ALL_PRIORITY,
    direction: "Inbound",
    access: "Deny",
    protocol: "*",
    sourceAddressPrefix: "*",
    sourcePortRange: "*",
    destinationAddressPrefix: "*",
    destinationPortRange: "*",
    description: "Deny by default: everything not allowed above.",
  });
  return rules;
}

/** What the verifier knows of a stack's network, as declared (from settings or from the rendered resources). */
export interface AzureTopology {
  placement: AzurePlacement;
  /** Per subnet: its NSG's name and custom rules, its egress path (NAT gateway or load balancer), its service endpoints. */
  subnets: Record<
    SubnetRole,
    {
      nsgName: string;
      rules: SecurityRule[];
      natGateway: boolean;
      /** The subnet's VMs are in the backend pool of a load balancer with an outbound rule (AKS outboundType loadBalancer). */
      loadBalancerOutbound?: boolean;
      serviceEndpoints: string[];
    }
  >;
  /** Public addresses the nodes' egress path sends from. */
  egressIps: string[];
  /** The API server's authorized ranges; undefined when it is private or unrestricted. */
  authorizedIpRanges?: string[];
}

/** The verdict of one flow: allowed when every packet passes every layer on its path. */
export interface FlowVerdict {
  flow: AzureFlow;
  /** Every sampled packet got through. */
  allowed: boolean;
  /** Some sampled packet got through. */
  anyAllowed: boolean;
  /** For the first packet that contradicts the expectation (or the first packet): the layers that decided. */
  decidedBy: string[];
  /** A packet that was blocked, if any, and one that passed, if any. */
  blocked?: { packet: Packet; decidedBy: string[] };
  passed?: { packet: Packet; decidedBy: string[] };
}

const describe = (p: Packet) =>
  `${p.protocol} ${p.source.ip} -> ${p.destination.ip}${p.protocol === "Icmp" ? "" : `:${p.destinationPort}`}`;

/** One packet through its path: source NSG outbound, the egress path, the API server's ranges, destination NSG inbound. */
function throughPath(
  flow: AzureFlow,
  packet: Omit<Packet, "direction">,
  topology: AzureTopology,
): { allowed: boolean; decidedBy: string[] } {
  const decidedBy: string[] = [];
  // The VirtualNetwork service tag covers peered address spaces too (virtual-network-service-tags).
  const context: NsgContext = {
    virtualNetwork: [topology.placement.addressSpace, ...(topology.placement.peerPostgres ?? [])],
  };
  const from = flow.from;
  const to = flow.to;
  const sourceSubnet = sendsFromNic(from) ? hostSubnet(from) : undefined;
  if (sourceSubnet) {
    const s = topology.subnets[sourceSubnet];
    const d = evaluate(s.nsgName, s.rules, { ...packet, direction: "Outbound" }, context);
    decidedBy.push(d.decidedBy);
    if (!d.allowed) return { allowed: false, decidedBy };
    const leaves =
      hostSubnet(to) === undefined &&
      (to.kind === "internet" || to.kind === "apiServer" || to.kind === "azureService");
    if (leaves) {
      const viaEndpoint =
        to.kind === "azureService" && s.serviceEndpoints.some((e) => e === `Microsoft.${to.tag}`);
      if (viaEndpoint)
        decidedBy.push(`subnet ${sourceSubnet} service endpoint Microsoft.${(to as { tag: string }).tag}`);
      else if (s.natGateway) decidedBy.push(`subnet ${sourceSubnet} NAT gateway`);
      else if (s.loadBalancerOutbound)
        decidedBy.push(`subnet ${sourceSubnet} cluster load balancer outbound rule`);
      else {
        decidedBy.push(
          `subnet ${sourceSubnet} has no outbound path (no NAT gateway or load balancer outbound rule, no default outbound access)`,
        );
        return { allowed: false, decidedBy };
      }
      if (to.kind === "apiServer" && topology.authorizedIpRanges) {
        const ranges = topology.authorizedIpRanges;
        const missing = topology.egressIps.filter(
          (ip) =>
            !ranges.some((r) => {
              const block = parseCidr(r.includes("/") ? r : `${r}/32`);
              const v = parseCidr(`${ip}/32`).start;
              return v >= block.start && v <= block.end;
            }),
        );
        if (topology.egressIps.length === 0 || missing.length > 0) {
          decidedBy.push(
            `API server authorized IP ranges [${ranges.join(", ")}] leave out the egress address ${missing.join(", ") || "(none declared)"}`,
          );
          return { allowed: false, decidedBy };
        }
        decidedBy.push(
          `API server authorized IP ranges admit the egress address ${topology.egressIps.join(", ")}`,
        );
      }
    }
  }
  const destinationSubnet = hostSubnet(to);
  if (destinationSubnet) {
    const s = topology.subnets[destinationSubnet];
    const d = evaluate(s.nsgName, s.rules, { ...packet, direction: "Inbound" }, context);
    decidedBy.push(d.decidedBy);
    if (!d.allowed) return { allowed: false, decidedBy };
  }
  return { allowed: true, decidedBy };
}

/** Every sampled packet of the flow through its path. */
export function verifyFlow(flow: AzureFlow, topology: AzureTopology): FlowVerdict {
  const place = topology.placement;
  const source = effectiveSource(flow.from, flow.to);
  let blocked: FlowVerdict["blocked"];
  let passed: FlowVerdict["passed"];
  for (const src of sampleAddresses(source, place)) {
    for (const dst of sampleAddresses(flow.to, place)) {
      for (const [protocol, port] of samplePorts(flow)) {
        const packet = { protocol, source: src, destination: dst, destinationPort: port, sourcePort: 49152 };
        const result = throughPath(flow, packet, topology);
        const entry = { packet: { ...packet, direction: "Inbound" as const }, decidedBy: result.decidedBy };
        if (result.allowed) passed ??= entry;
        else blocked ??= entry;
      }
    }
  }
  const allowed = blocked === undefined;
  const anyAllowed = passed !== undefined;
  return { flow, allowed, anyAllowed, blocked, passed, decidedBy: (blocked ?? passed)?.decidedBy ?? [] };
}

/** A one-line account of a verdict, naming the packet and the rules that decided. */
export function explain(verdict: FlowVerdict, expectAllowed: boolean): string {
  const entry = expectAllowed ? verdict.blocked : verdict.passed;
  if (!entry) return `${verdict.flow.id}: ${expectAllowed ? "allowed" : "blocked"}`;
  return `${verdict.flow.id}: ${describe(entry.packet)} ${expectAllowed ? "blocked" : "allowed"} by ${entry.decidedBy.join(" -> ")}`;
}

/** Topology of a stack as its settings declare it (the same derivation the Network component uses). */
export function topologyFromPlan(
  place: AzurePlacement,
  options: { prefix: string; egressIps?: string[]; authorizedIpRanges?: string[] },
): AzureTopology {
  const subnets = {} as AzureTopology["subnets"];
  for (const role of SUBNET_ROLES) {
    subnets[role] = {
      nsgName: `nsg-${options.prefix}-${role}`,
      rules: nsgRulesFor(role, place),
      natGateway: role === "postgres",
      loadBalancerOutbound: role === "aksNodes",
      serviceEndpoints: role === "postgres" ? ["Microsoft.Storage"] : [],
    };
  }
  return {
    placement: place,
    subnets,
    egressIps: options.egressIps ?? [],
    authorizedIpRanges: options.authorizedIpRanges,
  };
}
