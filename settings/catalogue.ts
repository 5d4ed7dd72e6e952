/** The service catalogue (ESTATE section 4) at prod figures; `defaults.ts` scales it per environment. */
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
}

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
  },
};
