import type { ClusterSettings } from "../settings";

/**
 * The cluster settings the dr stack deploys: while `cluster.drActive` is true (dr serves production after a
 * failover), each pool with a `drActiveMin` runs at that lower bound instead of its cold-standby `min`.
 */
export function effectiveCluster(cluster: ClusterSettings): ClusterSettings {
  if (!cluster.drActive) return cluster;
  const pools = Object.fromEntries(
    Object.entries(cluster.pools).map(([name, pool]) => [
      name,
      pool && pool.drActiveMin !== undefined ? { ...pool, min: Math.max(pool.min, pool.drActiveMin) } : pool,
    ]),
  ) as ClusterSettings["pools"];
  return { ...cluster, pools };
}
