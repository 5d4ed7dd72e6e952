/** The human summary `render` prints: resources by component and type, and each service's rollout plan. */
import { humanDuration } from "../lib/duration";
import { rolloutPlan } from "../lib/rollout";
import { effectiveAnalysis, type Settings } from "../settings";
import type { ProgramRun } from "./harness";

/** Every service's rollout plan, from the stack's canary defaults and the service's overrides. */
export function rolloutPlans(settings: Settings) {
  return Object.entries(settings.services).map(([name, svc]) => ({
    service: name,
    ...rolloutPlan(svc.strategy, effectiveAnalysis(settings.delivery.canary, svc.canary)),
  }));
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i])).join("  ")}`.trimEnd()).join("\n");
}

export function summarize(run: ProgramRun, outDir: string, fileCount: number, seconds: number): string {
  const { registrations, config } = run;
  const byUrn = new Map(registrations.map((r) => [r.urn, r]));
  const stackUrn = registrations.find((r) => r.type === "pulumi:pulumi:Stack")?.urn;
  // A resource belongs to the top-level component it descends from.
  const componentOf = (urn: string): string => {
    let current = byUrn.get(urn);
    while (current?.parent && current.parent !== stackUrn && byUrn.has(current.parent))
      current = byUrn.get(current.parent);
    return current ? `${current.type} ${current.name}` : urn;
  };
  const byComponent = new Map<string, number>();
  const byType = new Map<string, number>();
  for (const r of registrations) {
    if (r.type === "pulumi:pulumi:Stack") continue;
    byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
    const component = componentOf(r.urn);
    byComponent.set(component, (byComponent.get(component) ?? 0) + 1);
  }
  const lines: string[] = [];
  lines.push(
    `Rendered stack ${config.stack} (${config.settings.environment}, ${config.settings.location}): ${registrations.length} resources, ${fileCount} files in ${outDir} (${seconds.toFixed(2)} s)`,
  );
  lines.push("", "Resources by component:");
  lines.push(table([...byComponent].sort((a, b) => b[1] - a[1]).map(([c, n]) => [String(n), c])));
  lines.push("", "Resources by type:");
  lines.push(
    table(
      [...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t, n]) => [String(n), t]),
    ),
  );
  lines.push("", `Rollout plans (rollback budget ${config.settings.delivery.canary.maxRollbackSeconds} s):`);
  const header = ["service", "strategy", "steps", "interval", "promote in", "roll back within"];
  const rows = rolloutPlans(config.settings).map((p) =>
    p.strategy === "rolling"
      ? [p.service, p.strategy, p.steps, "-", "-", "-"]
      : [
          p.service,
          p.strategy,
          p.steps,
          `${p.intervalSeconds} s`,
          humanDuration(p.promotionSeconds),
          humanDuration(p.rollbackSeconds),
        ],
  );
  lines.push(table([header, ...rows]));
  return lines.join("\n");
}
