/** The human summary `render` prints: resources by component and type, and each service's rollout plan. */
import { planDuration, servicePlan } from "../lib/rollout";
import { effectiveAnalysis, type Settings } from "../settings";
import type { ProgramRun } from "./harness";

/** Every service's rollout plan, from the stack's canary defaults and the service's overrides. */
export function rolloutPlans(settings: Settings) {
  return Object.entries(settings.services).map(([name, svc]) => ({
    service: name,
    ...servicePlan(settings.observability, svc, effectiveAnalysis(settings.delivery.canary, svc.canary)),
  }));
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i])).join("  ")}`.trimEnd()).join("\n");
}

/** Resource counts by top-level component and by type (component types excluded from the type table). */
function counts(run: ProgramRun) {
  const { registrations } = run;
  const byUrn = new Map(registrations.map((r) => [r.urn, r]));
  const stackUrn = registrations.find((r) => r.type === "pulumi:pulumi:Stack")?.urn;
  // A resource belongs to the top-level component it descends from.
  const componentOf = (urn: string) => {
    let current = byUrn.get(urn);
    while (current?.parent && current.parent !== stackUrn && byUrn.has(current.parent))
      current = byUrn.get(current.parent);
    return current;
  };
  const byComponent = new Map<string, number>();
  const byLayer = new Map<string, number>();
  const byType = new Map<string, number>();
  for (const r of registrations) {
    if (r.type === "pulumi:pulumi:Stack") continue;
    if (!r.type.startsWith("aiwp:")) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
    const top = componentOf(r.urn);
    const component = top ? `${top.type} ${top.name}` : r.urn;
    byComponent.set(component, (byComponent.get(component) ?? 0) + 1);
    // A layer is the module of the component's type token, aiwp:<layer>:<Type>.
    const layer = top?.type.startsWith("aiwp:") ? top.type.split(":")[1] : "stack";
    byLayer.set(layer, (byLayer.get(layer) ?? 0) + 1);
  }
  return { byComponent, byLayer, byType };
}

/**
 * The rollout-plan table, one row per service, every figure from the timing model (lib/flaggerTiming.ts):
 * worst case from `pulumi up` to 100% and to Succeeded, and from a fault's onset to all traffic on the
 * primary per failure mode; then each hold timeline.
 */
function planTable(config: ProgramRun["config"]): string[] {
  const budget = config.settings.delivery.canary.maxRollbackSeconds;
  const lines = [
    `Rollout plans (worst cases; rollback from fault onset, budget ${budget} s for 5xx, latency and unready; the alert gate is the second line):`,
  ];
  const header = [
    "service",
    "strategy",
    "steps",
    "interval",
    "100% in",
    "Succeeded",
    "5xx",
    "latency",
    "unready",
    "alert gate",
  ];
  const plans = rolloutPlans(config.settings);
  const rows = plans.map((p) => {
    if (p.strategy === "rolling") return [p.service, p.strategy, p.steps, "-", "-", "-", "-", "-", "-", "-"];
    const held = p.holdTimeline.length > 0;
    return [
      p.service,
      p.strategy,
      p.steps,
      `${p.intervalSeconds} s`,
      held
        ? `${planDuration(p.fullSeconds)} (${planDuration(p.fullWithoutHoldsSeconds)} without holds)`
        : planDuration(p.fullSeconds),
      planDuration(p.promotionSeconds),
      `${p.rollback.hard5xx} s`,
      `${p.rollback.latency} s`,
      `${p.rollback.unready} s`,
      `${p.rollback.alertGate} s`,
    ];
  });
  lines.push(table([header, ...rows]));
  // Services sharing one hold timeline are listed together.
  const timelines = new Map<string, string[]>();
  for (const p of plans) {
    if (p.holdTimeline.length === 0) continue;
    const text = p.holdTimeline
      .map(
        (h) =>
          `${h.weight}% held ${planDuration(h.holdSeconds)} (${planDuration(h.fromSeconds)} to ${planDuration(h.toSeconds)})`,
      )
      .join(", ");
    timelines.set(text, [...(timelines.get(text) ?? []), p.service]);
  }
  for (const [text, services] of timelines)
    lines.push(`  holds of ${services.join(", ")}: ${text}, then promotion`);
  return lines;
}

/** Things a reader of the render must know: placeholders standing in for secrets, active holds. */
export function warnings(run: ProgramRun): string[] {
  const out: string[] = [];
  const { config } = run;
  if (config.absentSecrets.length > 0) {
    out.push(
      `placeholders used for secrets this stack does not set: ${config.absentSecrets.join(", ")} (a deployment needs them: pulumi config set --secret --stack ${config.stack} <key> <value>)`,
    );
  }
  // Services holding the same weights for the same times share one line.
  const held = new Map<string, string[]>();
  for (const [name, svc] of Object.entries(config.settings.services)) {
    if (svc.strategy !== "canary") continue;
    const analysis = effectiveAnalysis(config.settings.delivery.canary, svc.canary);
    const holds = (analysis as { holds?: Record<string, string> }).holds ?? {};
    const listed = Object.entries(holds).map(([weight, time]) => `${weight}% for ${time}`);
    if (listed.length > 0) held.set(listed.join(", "), [...(held.get(listed.join(", ")) ?? []), name]);
  }
  for (const [holds, names] of held)
    out.push(`holds active: ${names.join(", ")} hold ${holds} before stepping on`);
  return out;
}

/** The one-screen summary `render` prints. */
export function summarize(
  run: ProgramRun,
  outDir: string,
  fileCount: number,
  seconds: number,
  diff?: { count: number; label: string },
): string {
  const { registrations, config } = run;
  const { byLayer } = counts(run);
  const lines: string[] = [];
  lines.push(
    `Rendered stack ${config.stack} (${config.settings.environment}, ${config.settings.location}): ${registrations.length} resources, ${fileCount} files in ${outDir} (${seconds.toFixed(2)} s)`,
  );
  lines.push("", ...planTable(config));
  lines.push(
    "",
    `Resources by layer: ${[...byLayer]
      .sort((a, b) => b[1] - a[1])
      .map(([l, n]) => `${l} ${n}`)
      .join(", ")} (by component and type: ${outDir}/summary.txt)`,
  );
  const warned = warnings(run);
  if (warned.length > 0) lines.push("", "Warnings:", ...warned.map((w) => `  - ${w}`));
  if (diff)
    lines.push(
      "",
      `Diff: ${diff.count} resource(s) differ from ${diff.label} (all of it in ${outDir}/diff.txt)`,
    );
  return lines.join("\n");
}

/** The full tables, written to summary.txt: plans, resources by component and by type, warnings. */
export function fullSummary(run: ProgramRun): string {
  const { config, registrations } = run;
  const { byComponent, byType } = counts(run);
  const lines: string[] = [
    `Stack ${config.stack} (${config.settings.environment}, ${config.settings.location}): ${registrations.length} resources`,
    "",
    ...planTable(config),
    "",
    "Resources by component:",
    table(
      [...byComponent]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([c, n]) => [String(n), c]),
    ),
    "",
    "Resources by type:",
    table(
      [...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([t, n]) => [String(n), t]),
    ),
  ];
  const warned = warnings(run);
  if (warned.length > 0) lines.push("", "Warnings:", ...warned.map((w) => `  - ${w}`));
  return lines.join("\n");
}
