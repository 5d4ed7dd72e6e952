/**
 * Reads the vector selectors of a PromQL expression (Prometheus's own Lezer grammar) and checks them against
 * the telemetry contract: a selector on a contract metric may only name labels the stored series carry, with
 * values the scrape can produce (fixed target labels such as `job`, Prometheus 3's float `le`); a selector on
 * a recorded series may only name the labels its recording rules write. Anything else selects nothing.
 */
import { parser } from "@prometheus-io/lezer-promql";
import { CONTRACT_METRICS, fixedTargetLabels, openMetricsFloat, storedLabelNames } from "../../lib/telemetry";
import type { RuleGroup } from "../../components/observability/rules";

export interface Matcher {
  label: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

export interface Selector {
  metric: string;
  matchers: Matcher[];
  text: string;
}

function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  if (literal.startsWith("`")) return body;
  return body.replace(/\\(.)/g, (_m, c: string) => (c === "n" ? "\n" : c));
}

/** Every vector selector of an expression, with its metric name and label matchers. */
export function vectorSelectors(expr: string): Selector[] {
  const out: Selector[] = [];
  const cursor = parser.parse(expr).cursor();
  do {
    if (cursor.type.name !== "VectorSelector") continue;
    const node = cursor.node;
    const ident = node.getChild("Identifier");
    const matchers: Matcher[] = [];
    const list = node.getChild("LabelMatchers");
    let metric = ident ? expr.slice(ident.from, ident.to) : "";
    if (list) {
      for (let m = list.firstChild; m; m = m.nextSibling) {
        const name = m.getChild("LabelName");
        const op = m.getChild("MatchOp");
        const value = m.getChild("StringLiteral");
        if (!op || !value) continue;
        const label = name ? expr.slice(name.from, name.to) : "__name__";
        const v = unquote(expr.slice(value.from, value.to));
        const o = expr.slice(op.from, op.to) as Matcher["op"];
        if (label === "__name__" && o === "=") metric = v;
        else matchers.push({ label, op: o, value: v });
      }
    }
    out.push({ metric, matchers, text: expr.slice(node.from, node.to) });
  } while (cursor.next());
  return out;
}

/** Whether a matcher can be satisfied by a series that lacks the label (value ""). */
function matchesEmpty(m: Matcher): boolean {
  const re = new RegExp(`^(?:${m.value})$`);
  if (m.op === "=") return m.value === "";
  if (m.op === "!=") return m.value !== "";
  if (m.op === "=~") return re.test("");
  return !re.test("");
}

function matchesValue(m: Matcher, value: string): boolean {
  const re = new RegExp(`^(?:${m.value})$`);
  if (m.op === "=") return m.value === value;
  if (m.op === "!=") return m.value !== value;
  if (m.op === "=~") return re.test(value);
  return !re.test(value);
}

/** Label names each recorded series carries: the `labels` its recording rules set. */
export function recordedLabels(groups: RuleGroup[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [record, sets] of recordedLabelSets(groups)) {
    const names = new Set<string>();
    for (const set of sets) for (const k of Object.keys(set)) names.add(k);
    out.set(record, names);
  }
  return out;
}

/** The label sets each recorded series is written with, one per recording rule. */
export function recordedLabelSets(groups: RuleGroup[]): Map<string, Record<string, string>[]> {
  const out = new Map<string, Record<string, string>[]>();
  for (const g of groups)
    for (const r of g.rules) {
      if (!("record" in r)) continue;
      out.set(r.record, [...(out.get(r.record) ?? []), { ...(r.labels ?? {}) }]);
    }
  return out;
}

/**
 * Selectors on recorded series that no recording rule writes a matching series for (the label values as well
 * as the names), given the rules' label sets.
 */
export function recordedSelectorProblems(
  expr: string,
  sets: Map<string, Record<string, string>[]>,
): string[] {
  const problems: string[] = [];
  for (const sel of vectorSelectors(expr)) {
    const written = sets.get(sel.metric);
    if (!written) continue;
    const hit = written.some((labels) => sel.matchers.every((m) => matchesValue(m, labels[m.label] ?? "")));
    if (!hit) problems.push(`${sel.text}: no recording rule writes a ${sel.metric} series it selects`);
  }
  return problems;
}

/**
 * Why the selectors of `expr` can select nothing; empty when each names a contract metric or recorded series
 * with labels and values that exist.
 */
export function selectorProblems(expr: string, recorded: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  for (const sel of vectorSelectors(expr)) {
    const contract = CONTRACT_METRICS.find((m) => m.name === sel.metric);
    const rec = recorded.get(sel.metric);
    if (!contract && !rec) {
      problems.push(`${sel.text}: ${sel.metric} is neither a contract metric nor a recorded series`);
      continue;
    }
    const names = contract ? storedLabelNames(sel.metric) : rec;
    const fixed = contract ? fixedTargetLabels(sel.metric) : {};
    for (const m of sel.matchers) {
      if (names && !names.has(m.label) && !matchesEmpty(m))
        problems.push(
          `${sel.text}: ${sel.metric} has no label "${m.label}" as stored (labels: ${[...names].sort().join(", ")})`,
        );
      if (m.label in fixed && !matchesValue(m, fixed[m.label]))
        problems.push(
          `${sel.text}: every ${sel.metric} series has ${m.label}="${fixed[m.label]}", which ${m.label}${m.op}"${m.value}" excludes`,
        );
      if (contract?.type === "histogram_bucket" && m.label === "le" && m.op === "=" && m.value !== "+Inf") {
        const normal = openMetricsFloat(Number(m.value));
        if (normal !== m.value)
          problems.push(
            `${sel.text}: Prometheus 3 stores le="${normal}", so le="${m.value}" matches nothing`,
          );
      }
    }
  }
  return problems;
}
