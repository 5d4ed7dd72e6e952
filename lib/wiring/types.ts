/**
 * The wiring contract's declared format (ESTATE section 4, "The wiring contract"): one table of required flows
 * and one of forbidden flows, from which the enforcing layers are derived. The cluster's table
 * (`lib/wiring/cluster.ts`: workloads and namespaces) and Azure's (`lib/wiring/azure.ts`: subnets, CIDRs and
 * service tags) share this shape; each defines its own endpoint type.
 */

/** A port or an inclusive port range, e.g. 5432 or [8500, 8599]. */
export type PortSpec = number | readonly [number, number];

export type Protocol = "TCP" | "UDP" | "Any";

/** One row of a flow table: who talks to whom, on which ports, and why. */
export interface Flow<Endpoint> {
  /** Stable identifier, used in messages and in tests ("flagger-to-prometheus"). */
  id: string;
  from: Endpoint;
  to: Endpoint;
  /** Destination ports; "any" means every port of the protocol. */
  ports: readonly PortSpec[] | "any";
  protocol: Protocol;
  /** Why the flow exists (required) or why it must never happen (forbidden). */
  why: string;
}

/** A flow table: what must work and what must never work. A flow may not be both. */
export interface FlowTable<Endpoint> {
  required: readonly Flow<Endpoint>[];
  forbidden: readonly Flow<Endpoint>[];
}

/** The verdict of one flow through one layer: allowed or not, and the object or rule that decided. */
export interface Decision {
  allowed: boolean;
  /** The object or rule that decides, e.g. "NetworkPolicy monitoring/default-deny" or "NSG rule DenyAllInbound (4096)". */
  decidedBy: string;
}
