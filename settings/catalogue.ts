/** The service catalogue (ESTATE section 4) at prod figures; `defaults.ts` scales it per environment. */
import type { AccessEntry } from "../lib/access";
import type { Strategy } from "../lib/rollout";

export interface CatalogueEntry {
  replicas: number;
  cpu: [request: string, limit: string];
  memory: [request: string, limit: string];
  route: string;
  strategy: Strategy;
  exposed: boolean;
  pool: "application" | "codeExecution";
  autoscaler: "hpa" | "keda";
  callers: string[];
  team: string;
  /** Scheduling tier: `revenue` for the paths every paying request crosses (gateway, login). */
  priority: "revenue" | "standard";
  /** Azure data resources the service calls and the role it needs on each (lib/access.ts). */
  access: AccessEntry[];
}

const secrets: AccessEntry = { resource: "keyVault", role: "Key Vault Secrets User" };
const database: AccessEntry = { resource: "postgres", role: "PostgreSQL Entra principal" };
const cache: AccessEntry = { resource: "redis", role: "Redis access policy assignment" };

const standard = { cpu: ["500m", "2"], memory: ["1Gi", "4Gi"] } as Pick<CatalogueEntry, "cpu" | "memory">;

export const CATALOGUE: Record<string, CatalogueEntry> = {
  "api-gateway": {
    ...standard,
    replicas: 3,
    route: "/",
    strategy: "canary",
    exposed: true,
    pool: "application",
    autoscaler: "hpa",
    callers: [],
    team: "platform",
    priority: "revenue",
    access: [secrets, cache],
  },
  "auth-service": {
    ...standard,
    replicas: 3,
    route: "/api/auth",
    strategy: "blueGreen",
    exposed: true,
    pool: "application",
    autoscaler: "hpa",
    callers: ["api-gateway"],
    team: "identity",
    priority: "revenue",
    access: [secrets, database, cache],
  },
  "agent-service": {
    ...standard,
    replicas: 5,
    route: "/api/agents",
    strategy: "abTest",
    exposed: true,
    pool: "application",
    autoscaler: "hpa",
    callers: ["api-gateway", "workflow-service"],
    team: "agents",
    priority: "standard",
    access: [secrets, database, cache],
  },
  "persona-service": {
    ...standard,
    replicas: 3,
    route: "/api/personas",
    strategy: "canary",
    exposed: true,
    pool: "application",
    autoscaler: "hpa",
    callers: ["api-gateway", "agent-service"],
    team: "agents",
    priority: "standard",
    access: [secrets, database, { resource: "storage", role: "Storage Blob Data Reader" }],
  },
  "code-execution-service": {
    cpu: ["1", "4"],
    memory: ["2Gi", "8Gi"],
    replicas: 5,
    route: "/api/code-execution",
    strategy: "canary",
    exposed: false,
    pool: "codeExecution",
    autoscaler: "hpa",
    callers: ["agent-service"],
    team: "runtime",
    priority: "standard",
    // The sandbox runs untrusted code: its identity holds no data-plane role.
    access: [],
  },
  "text-to-sql-service": {
    ...standard,
    replicas: 3,
    route: "/api/sql",
    strategy: "canary",
    exposed: true,
    pool: "application",
    autoscaler: "hpa",
    callers: ["api-gateway", "agent-service"],
    team: "data",
    priority: "standard",
    access: [secrets, database],
  },
  "knowledge-base-service": {
    ...standard,
    replicas: 3,
    route: "/api/knowledge",
    strategy: "canary",
    exposed: true,
    pool: "application",
    autoscaler: "hpa",
    callers: ["api-gateway", "agent-service"],
    team: "data",
    priority: "standard",
    access: [
      secrets,
      { resource: "search", role: "Search Index Data Contributor" },
      { resource: "storage", role: "Storage Blob Data Reader" },
    ],
  },
  "workflow-service": {
    ...standard,
    replicas: 5,
    route: "/api/workflows",
    strategy: "canary",
    exposed: true,
    pool: "application",
    autoscaler: "keda",
    callers: ["api-gateway"],
    team: "workflows",
    priority: "standard",
    access: [secrets, database, cache, { resource: "storage", role: "Storage Blob Data Contributor" }],
  },
};
