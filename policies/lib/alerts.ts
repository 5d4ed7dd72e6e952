/** Alerting rules as PrometheusRule objects declare them (spec.groups[].rules[]). */
import { isKind } from "./kubernetes";
import type { Props } from "./props";

export interface AlertRule {
  alert: string;
  expr: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The alerting rules (not recording rules) of a resource, none unless it is a PrometheusRule. */
export function alertRules(type: string, props: Props): AlertRule[] {
  if (!isKind(type, "monitoring.coreos.com", "PrometheusRule")) return [];
  const rules: AlertRule[] = [];
  for (const group of props.spec?.groups ?? []) {
    for (const rule of group.rules ?? []) {
      if (typeof rule.alert !== "string") continue;
      rules.push({
        alert: rule.alert,
        expr: String(rule.expr ?? ""),
        labels: rule.labels ?? {},
        annotations: rule.annotations ?? {},
      });
    }
  }
  return rules;
}
