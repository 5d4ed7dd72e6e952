/**
 * Per-step holds for Flagger canaries. Flagger has one analysis interval for every step, so a hold is a
 * gate: confirm-traffic-increase and confirm-promotion webhooks (Flagger v1.44 pkg/controller/scheduler_hooks.go)
 * that pass once the canary's current weight has been held long enough. Both run after the tick's analysis
 * (scheduler.go advanceCanary: runAnalysis, then runConfirmTrafficIncreaseHooks; runCanary: confirm-promotion
 * at the last weight), so the metric checks and the rollback keep running every interval during a hold.
 *
 * The gate is a bash script run by flagger-loadtester (`type: bash`: pkg/loadtester/server.go runs
 * `bash -c <cmd>` and answers 200 on exit 0, 500 otherwise; its image is bash 5.2 with kubectl and jq,
 * Dockerfile.loadtester). Flagger's webhook payload carries no weight, so the script reads the Canary's
 * `status.canaryWeight` and `status.lastAppliedSpec` with kubectl, and keeps "this weight of this revision
 * first seen at" in a ConfigMap of its own: the Canary's `lastTransitionTime` changes on every failed check
 * (pkg/canary/status.go SetStatusFailedChecks) and would restart the hold.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { LOADTESTER_SERVICE_ACCOUNT, LOADTESTER_URL } from "../lib/names";
import { effectiveAnalysis, type DeliverySettings, type ServiceSettings } from "../settings";

/** Whether any weighted canary of the stack holds a weight (then the gate and its RBAC are declared). */
export function holdsInUse(services: Record<string, ServiceSettings>, delivery: DeliverySettings): boolean {
  return Object.values(services).some(
    (svc) =>
      svc.strategy === "canary" &&
      Object.keys(effectiveAnalysis(delivery.canary, svc.canary).holds ?? {}).length > 0,
  );
}

/** ConfigMap (in the application namespace) where the gate records when each canary's weight was first seen. */
export const HOLD_GATE_STATE = "aiwp-hold-gate-state";

/** The gate's logic. NS, CANARY, STATE and HOLDS ("<weight>=<seconds> ...") are set in front of it. */
export const HOLD_GATE_SCRIPT = `set -euo pipefail
canary_json=$(kubectl -n "$NS" get canary "$CANARY" -o json)
weight=$(jq -r '.status.canaryWeight // 0' <<<"$canary_json")
revision=$(jq -r '.status.lastAppliedSpec // ""' <<<"$canary_json")
hold=0
for pair in $HOLDS; do
  if [ "\${pair%%=*}" = "$weight" ]; then hold=\${pair#*=}; fi
done
now=$(date +%s)
recorded=$(kubectl -n "$NS" get configmap "$STATE" -o json | jq -r --arg k "$CANARY" '.data[$k] // ""')
since=\${recorded##*/}
if [ -z "$recorded" ] || [ "\${recorded%/*}" != "$weight/$revision" ]; then
  since=$now
  patch=$(jq -cn --arg k "$CANARY" --arg v "$weight/$revision/$now" '{data: {($k): $v}}')
  kubectl -n "$NS" patch configmap "$STATE" --type merge -p "$patch" >/dev/null
fi
held=$((now - since))
if [ "$held" -ge "$hold" ]; then
  echo "$CANARY weight $weight held \${held}s of \${hold}s: pass"
  exit 0
fi
echo "$CANARY weight $weight held \${held}s of \${hold}s: waiting"
exit 1`;

/** The bash command of one canary's gate: its variables, then the script. */
export function holdGateCommand(namespace: string, canary: string, holds: Record<number, number>): string {
  const pairs = Object.entries(holds)
    .map(([w, s]) => `${w}=${s}`)
    .join(" ");
  return [
    `NS=${namespace}`,
    `CANARY=${canary}`,
    `STATE=${HOLD_GATE_STATE}`,
    `HOLDS="${pairs}"`,
    HOLD_GATE_SCRIPT,
  ].join("\n");
}

/**
 * The Canary webhooks of the gate. `muteAlert`: a refused gate would otherwise post "waiting for approval" to
 * Slack on every tick of a 24 h hold (scheduler_hooks.go).
 */
export function holdGateWebhooks(
  namespace: string,
  canary: string,
  holds: Record<number, number>,
): Record<string, unknown>[] {
  if (Object.keys(holds).length === 0) return [];
  const metadata = { type: "bash", cmd: holdGateCommand(namespace, canary, holds) };
  return (["confirm-traffic-increase", "confirm-promotion"] as const).map((type) => ({
    name: `hold-gate-${type.replace("confirm-", "")}`,
    type,
    url: LOADTESTER_URL,
    timeout: "15s",
    muteAlert: true,
    metadata,
  }));
}

/** The Role the gate needs: read the Canaries, read and update its own state ConfigMap. */
export function holdGateRules(): k8s.types.input.rbac.v1.PolicyRule[] {
  return [
    { apiGroups: ["flagger.app"], resources: ["canaries"], verbs: ["get"] },
    { apiGroups: [""], resources: ["configmaps"], resourceNames: [HOLD_GATE_STATE], verbs: ["get", "patch"] },
  ];
}

export interface HoldGateArgs {
  /** Application namespace: where the Canaries and the gate's state live. */
  namespace: string;
  /** Kubernetes provider of the cluster. */
  provider: k8s.Provider;
}

/** The hold gate's state ConfigMap and the load tester's permission to run it. */
export class HoldGate extends pulumi.ComponentResource {
  /** Name of the state ConfigMap. */
  public readonly stateName: string;

  constructor(name: string, args: HoldGateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("aiwp:delivery:HoldGate", name, {}, { ...opts, providers: [args.provider] });
    const childOpts = { parent: this, provider: args.provider };
    const labels = { "app.kubernetes.io/name": "hold-gate", "app.kubernetes.io/part-of": "aiwp-delivery" };
    // No `data`: the gate writes it, and the program never takes it back.
    new k8s.core.v1.ConfigMap(
      `${name}-state`,
      { metadata: { name: HOLD_GATE_STATE, namespace: args.namespace, labels } },
      childOpts,
    );
    const role = new k8s.rbac.v1.Role(
      `${name}-role`,
      { metadata: { name: "aiwp-hold-gate", namespace: args.namespace, labels }, rules: holdGateRules() },
      childOpts,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-binding`,
      {
        metadata: { name: "aiwp-hold-gate", namespace: args.namespace, labels },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [
          {
            kind: "ServiceAccount",
            name: LOADTESTER_SERVICE_ACCOUNT.name,
            namespace: LOADTESTER_SERVICE_ACCOUNT.namespace,
          },
        ],
      },
      childOpts,
    );
    this.stateName = HOLD_GATE_STATE;
    this.registerOutputs({ stateName: this.stateName });
  }
}
