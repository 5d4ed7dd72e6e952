import type { StackValidationPolicy } from "@pulumi/policy";
import { configOf, schema } from "../lib/config";
import { canaries, objectsOf, selects, servingPodLabels, type K8sObject } from "../lib/kubernetes";

const configSchema = schema({
  monitoringSelector: {
    type: "object",
    default: { "aiwp.io/monitoring": "estate" },
    description: "Labels the estate's Prometheus selects ServiceMonitors by.",
  },
});

/** Whether a ServiceMonitor watches the namespace. */
function watches(monitor: K8sObject, namespace: string): boolean {
  const selector = monitor.props.spec?.namespaceSelector;
  if (selector?.any === true) return true;
  if (Array.isArray(selector?.matchNames)) return selector.matchNames.includes(namespace);
  return monitor.namespace === namespace;
}

/**
 * Without a ServiceMonitor the service's own metrics (and the dashboards and alerts built on them) do not
 * exist for the canary. The monitor must carry the labels the estate's Prometheus selects, or it is ignored.
 */
export const canaryHasServiceMonitor: StackValidationPolicy = {
  name: "canary-has-service-monitor",
  description: "Every canaried service has a ServiceMonitor that the estate's Prometheus selects.",
  enforcementLevel: "mandatory",
  severity: "medium",
  configSchema,
  validateStack: (args, reportViolation) => {
    const { monitoringSelector } = configOf<{ monitoringSelector: Record<string, string> }>(
      configSchema,
      args,
    );
    const services = objectsOf(args.resources, "core", "Service");
    const monitors = objectsOf(args.resources, "monitoring.coreos.com", "ServiceMonitor").filter((m) =>
      selects({ matchLabels: monitoringSelector }, m.props.metadata?.labels),
    );
    for (const { canary, target } of canaries(args.resources)) {
      const name = canary.props.spec?.targetRef?.name;
      const podLabels = target ? [servingPodLabels(target, false), servingPodLabels(target, true)] : [];
      // Labels of the Services that front the workload's pods (declared ones), and the pod labels themselves,
      // which Flagger's generated Services carry.
      const serviceLabels = [
        ...services
          .filter(
            (s) =>
              s.namespace === canary.namespace &&
              s.props.spec?.selector !== undefined &&
              podLabels.some((l) => selects({ matchLabels: s.props.spec.selector }, l)),
          )
          .map((s) => (s.props.metadata?.labels ?? {}) as Record<string, string>),
        ...podLabels,
      ];
      const covered = monitors.some(
        (m) =>
          watches(m, canary.namespace) &&
          serviceLabels.some((labels) => selects(m.props.spec?.selector, labels)),
      );
      if (!covered) {
        reportViolation(
          `canaried service ${canary.namespace}/${name} has no ServiceMonitor selected by Prometheus (${JSON.stringify(monitoringSelector)}).`,
          canary.urn,
        );
      }
    }
  },
};
