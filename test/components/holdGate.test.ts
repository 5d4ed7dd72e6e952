import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { HOLD_GATE_STATE, holdGateCommand, holdGateRules, holdGateWebhooks } from "../../components/holdGate";
import { loadtesterValues } from "../../components/delivery";
import { LOADTESTER_SERVICE_ACCOUNT, LOADTESTER_URL } from "../../lib/names";
import { manifest, manifests, rendered } from "../support/estate";
import { requireTool } from "../support/tools";

const NS = "ai-workflow-prod";

/**
 * A stub kubectl with the real CLI's argument shapes for what the gate runs: `get canary`, `get configmap`,
 * `patch configmap --type merge -p`. Canaries and the ConfigMap live as JSON files; every call is logged.
 */
const KUBECTL = `#!/usr/bin/env bash
set -euo pipefail
echo "$*" >> "$STUB/calls"
[ "$1" = "-n" ] || { echo "namespace expected" >&2; exit 2; }
ns=$2; shift 2
case "$1 $2" in
  "get canary") f="$STUB/$ns/canary-$3.json" ;;
  "get configmap") f="$STUB/$ns/configmap-$3.json" ;;
  "patch configmap")
    f="$STUB/$ns/configmap-$3.json"
    [ -f "$f" ] || { echo "Error from server (NotFound): configmaps \\"$3\\" not found" >&2; exit 1; }
    [ "$4 $5 $6" = "--type merge -p" ] || { echo "unexpected patch flags" >&2; exit 2; }
    jq --argjson p "$7" '. * $p' "$f" > "$f.new" && mv "$f.new" "$f"
    exit 0 ;;
  *) echo "unexpected kubectl $*" >&2; exit 2 ;;
esac
[ -f "$f" ] || { echo "Error from server (NotFound): $2 \\"$3\\" not found" >&2; exit 1; }
cat "$f"
`;
/** A stub `date` that answers `+%s` with the recorded time. */
const DATE = `#!/usr/bin/env bash
[ "$1" = "+%s" ] || exec /bin/date "$@"
cat "$STUB/now"
`;

/** One recorded tick: Flagger's Canary status at that moment (pkg/apis/flagger/v1beta1 CanaryStatus). */
interface Tick {
  at: number;
  status: {
    phase: string;
    canaryWeight: number;
    failedChecks: number;
    lastAppliedSpec: string;
    lastTransitionTime: string;
  };
}

class Cluster {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "hold-gate-"));
  constructor() {
    const bin = path.join(this.dir, "bin");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(this.dir, NS));
    fs.writeFileSync(path.join(bin, "kubectl"), KUBECTL, { mode: 0o755 });
    fs.writeFileSync(path.join(bin, "date"), DATE, { mode: 0o755 });
    // The ConfigMap as the program declares it: no data.
    this.write(`configmap-${HOLD_GATE_STATE}.json`, {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: HOLD_GATE_STATE, namespace: NS },
    });
  }
  write(file: string, value: unknown) {
    fs.writeFileSync(path.join(this.dir, NS, file), JSON.stringify(value));
  }
  /** Runs the gate's command as the load tester does (`bash -c <cmd>`) at the recorded tick; true on exit 0. */
  gate(cmd: string, canary: string, tick: Tick): { pass: boolean; out: string } {
    this.write(`canary-${canary}.json`, {
      apiVersion: "flagger.app/v1beta1",
      kind: "Canary",
      metadata: { name: canary, namespace: NS },
      status: tick.status,
    });
    fs.writeFileSync(path.join(this.dir, "now"), String(tick.at));
    const run = spawnSync("bash", ["-c", cmd], {
      env: { PATH: `${path.join(this.dir, "bin")}:/usr/bin:/bin`, STUB: this.dir },
      encoding: "utf8",
    });
    if (run.status !== 0 && run.status !== 1) throw new Error(`gate crashed (${run.status}): ${run.stderr}`);
    return { pass: run.status === 0, out: run.stdout.trim() };
  }
  calls(): string[] {
    const file = path.join(this.dir, "calls");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n") : [];
  }
}

/** A 15 s-tick canary run as Flagger records it: weight steps, a failed check that rewrites lastTransitionTime. */
function recordedRun(revision: string, start: number, weights: number[], failedAt: number[]): Tick[] {
  const ticks: Tick[] = [];
  let failed = 0;
  weights.forEach((w, i) => {
    const at = start + 15 * i;
    if (failedAt.includes(i)) failed++;
    ticks.push({
      at,
      status: {
        phase: "Progressing",
        canaryWeight: w,
        failedChecks: failed,
        lastAppliedSpec: revision,
        // Flagger rewrites it on every status change, failed checks included (pkg/canary/status.go).
        lastTransitionTime: new Date((at - (failedAt.includes(i) ? 0 : 15)) * 1000).toISOString(),
      },
    });
  });
  return ticks;
}

describe("components/holdGate", () => {
  const holds = { 5: 60, 25: 30, 50: 30 };
  const cmd = holdGateCommand(NS, "api-gateway", holds);

  it("passes once the current weight has been held long enough, counting from its own first sighting", () => {
    const cluster = new Cluster();
    // Weight 0 (the pre-rollout tick), then 5 for 5 ticks, 25 for 3, 50 for 3; failed checks at 5% and 25%.
    const ticks = recordedRun("rev-a", 1000, [0, 5, 5, 5, 5, 5, 25, 25, 25, 50, 50, 50], [2, 7]);
    const verdicts = ticks.map((t) => cluster.gate(cmd, "api-gateway", t).pass);
    assert.deepEqual(verdicts, [
      true,
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      true,
      false,
      false,
      true,
    ]);
  });

  it("does not restart a hold when a failed check rewrites lastTransitionTime", () => {
    const cluster = new Cluster();
    const ticks = recordedRun("rev-a", 0, [5, 5, 5, 5, 5], [1, 2, 3]);
    const out = ticks.map((t) => cluster.gate(cmd, "api-gateway", t).out);
    assert.equal(out[4], "api-gateway weight 5 held 60s of 60s: pass");
  });

  it("answers confirm-traffic-increase and confirm-promotion alike within one tick at the last weight", () => {
    const cluster = new Cluster();
    const ticks = recordedRun("rev-a", 0, [50, 50, 50], []);
    cluster.gate(cmd, "api-gateway", ticks[0]);
    cluster.gate(cmd, "api-gateway", ticks[1]);
    assert.equal(cluster.gate(cmd, "api-gateway", ticks[2]).pass, true);
    assert.equal(cluster.gate(cmd, "api-gateway", ticks[2]).pass, true);
  });

  it("starts the hold afresh for a new revision at the same weight, and after a rollback", () => {
    const cluster = new Cluster();
    for (const t of recordedRun("rev-a", 0, [5, 5, 5], [])) cluster.gate(cmd, "api-gateway", t);
    // New revision: Flagger restarts the analysis; the gate must not credit rev-a's time to rev-b.
    const [b] = recordedRun("rev-b", 45, [5], []);
    assert.equal(cluster.gate(cmd, "api-gateway", b).out, "api-gateway weight 5 held 0s of 60s: waiting");
    // Rolled back to 0 (Failed), then the next release reaches 5% again: a new hold.
    cluster.gate(cmd, "api-gateway", { at: 100, status: { ...b.status, phase: "Failed", canaryWeight: 0 } });
    const [c] = recordedRun("rev-c", 200, [5], []);
    assert.equal(cluster.gate(cmd, "api-gateway", c).out, "api-gateway weight 5 held 0s of 60s: waiting");
  });

  it("keeps each canary's state under its own key and passes weights without a hold", () => {
    const cluster = new Cluster();
    const other = holdGateCommand(NS, "persona-service", { 5: 600 });
    cluster.gate(other, "persona-service", recordedRun("p", 0, [5], [])[0]);
    assert.equal(cluster.gate(cmd, "api-gateway", recordedRun("a", 0, [10], [])[0]).pass, true);
    const state = JSON.parse(
      fs.readFileSync(path.join(cluster.dir, NS, `configmap-${HOLD_GATE_STATE}.json`), "utf8"),
    );
    assert.deepEqual(Object.keys(state.data).sort(), ["api-gateway", "persona-service"]);
    assert.equal(state.data["persona-service"], "5/p/0");
  });

  it("fails closed when it cannot read the Canary (no RBAC, no such canary): Flagger then keeps the weight", () => {
    const cluster = new Cluster();
    const run = spawnSync("bash", ["-c", cmd], {
      env: { PATH: `${path.join(cluster.dir, "bin")}:/usr/bin:/bin`, STUB: cluster.dir },
      encoding: "utf8",
    });
    assert.notEqual(run.status, 0);
  });

  it("calls the API only as its Role allows: get canaries, get and patch its own ConfigMap", () => {
    const cluster = new Cluster();
    for (const t of recordedRun("rev-a", 0, [5, 5], [])) cluster.gate(cmd, "api-gateway", t);
    const rules = holdGateRules();
    for (const call of cluster.calls()) {
      const [, , verb, kind, name] = call.split(" ");
      const resource = ({ canary: "canaries", configmap: "configmaps" } as Record<string, string>)[kind];
      const allowed = rules.some(
        (r: any) =>
          r.verbs.includes(verb) &&
          r.resources.includes(resource) &&
          (!r.resourceNames || r.resourceNames.includes(name)),
      );
      assert.ok(allowed, `kubectl ${call} is not allowed by the gate's Role`);
    }
    assert.ok(cluster.calls().some((c) => / patch configmap /.test(c)));
  });

  it("is clean under shellcheck", function () {
    const shellcheck = requireTool(this, "shellcheck");
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gate-")), "gate.sh");
    fs.writeFileSync(file, `#!/usr/bin/env bash\n${cmd}\n`);
    execFileSync(shellcheck, ["-s", "bash", file]);
  });

  it("is two muted webhooks on the load tester, confirm-traffic-increase and confirm-promotion", () => {
    const hooks = holdGateWebhooks(NS, "api-gateway", holds);
    assert.deepEqual(
      hooks.map((h) => [h.type, h.url, h.muteAlert, (h.metadata as any).type]),
      [
        ["confirm-traffic-increase", LOADTESTER_URL, true, "bash"],
        ["confirm-promotion", LOADTESTER_URL, true, "bash"],
      ],
    );
    assert.deepEqual(holdGateWebhooks(NS, "api-gateway", {}), []);
  });

  describe("in the rendered stacks", function () {
    this.timeout(120_000);

    it("prod: every weighted canary carries the gate with prod's holds; blue-green and A/B do not", async () => {
      const prod = await rendered("prod");
      for (const c of manifests(prod, "Canary")) {
        const hooks = (c.spec.analysis.webhooks ?? []).filter((h: any) => /^confirm-/.test(h.type));
        if (c.spec.analysis.iterations !== undefined) {
          assert.deepEqual(hooks, [], c.metadata.name);
          continue;
        }
        assert.equal(hooks.length, 2, c.metadata.name);
        assert.match(hooks[0].metadata.cmd, /HOLDS="5=43200 25=21600 50=21600"/);
        assert.match(hooks[0].metadata.cmd, new RegExp(`CANARY=${c.metadata.name}\\n`));
      }
    });

    it("prod: the state ConfigMap, and a Role bound to the load tester's account granting exactly the gate's calls", async () => {
      const prod = await rendered("prod");
      const cm = manifest(prod, "ConfigMap", HOLD_GATE_STATE, NS);
      assert.equal(cm.data, undefined);
      assert.deepEqual(manifest(prod, "Role", "aiwp-hold-gate", NS).rules, holdGateRules());
      const binding = manifest(prod, "RoleBinding", "aiwp-hold-gate", NS);
      assert.deepEqual(binding.subjects, [
        {
          kind: "ServiceAccount",
          name: LOADTESTER_SERVICE_ACCOUNT.name,
          namespace: LOADTESTER_SERVICE_ACCOUNT.namespace,
        },
      ]);
      const sa = manifest(
        prod,
        "ServiceAccount",
        LOADTESTER_SERVICE_ACCOUNT.name,
        LOADTESTER_SERVICE_ACCOUNT.namespace,
      );
      assert.equal(
        sa.automountServiceAccountToken,
        true,
        "kubectl needs the account's token where holds exist",
      );
    });

    it("dev has no holds: no gate, and the load tester mounts no API token", async () => {
      const dev = await rendered("dev");
      assert.equal(manifests(dev, "Role").filter((r) => r.metadata.name === "aiwp-hold-gate").length, 0);
      const sa = manifest(
        dev,
        "ServiceAccount",
        LOADTESTER_SERVICE_ACCOUNT.name,
        LOADTESTER_SERVICE_ACCOUNT.namespace,
      );
      assert.equal(sa.automountServiceAccountToken, false);
    });
  });

  it("runs in the chart's own load tester image (bash, kubectl, jq: Flagger Dockerfile.loadtester), not overridden", () => {
    assert.equal((loadtesterValues() as any).image, undefined);
    const chart = path.resolve(__dirname, "..", "..", "..", "shared", "charts", "loadtester-0.36.0.tgz");
    if (!fs.existsSync(chart)) return;
    const values = yaml.load(
      execFileSync("tar", ["-xzOf", chart, "loadtester/values.yaml"], { encoding: "utf8" }),
    ) as any;
    assert.equal(values.image.repository, "ghcr.io/fluxcd/flagger-loadtester");
  });
});
