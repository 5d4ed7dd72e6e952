/**
 * The disaster-recovery scripts (scripts/): syntax, shellcheck, and what they would run, checked by
 * running them against stub `velero`, `kubectl` and `az` executables that return canned JSON and record
 * every call. jq is real: the scripts' selection logic is jq, so that is what these tests exercise.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { requireTool } from "./support/tools";

const ROOT = path.resolve(__dirname, "..");
const RESTORE = path.join(ROOT, "scripts", "dr-restore.sh");
const FAILOVER = path.join(ROOT, "scripts", "dr-failover-frontdoor.sh");
const DR = path.join(ROOT, "scripts", "dr-failover.sh");
const SCRIPTS = [RESTORE, FAILOVER, DR];

/** The RTO the whole failover must fit (ESTATE section 1). */
const RTO_MINUTES = 120;
/** The dr cluster's API server, as `az aks show --query fqdn` prints it and a kubeconfig names it. */
const DR_FQDN = "aks-aiwp-dr-4f2a1c.hcp.westeurope.azmk8s.io";

// Each stub logs its argv (one line per call) and answers from files in $STUB_DATA.
const STUBS: Record<string, string> = {
  velero: `
case "$*" in
  "backup get"*) cat "$STUB_DATA/backups.json" ;;
  *"schedule pause"*) echo "paused" ;;
  "restore get"*) printf '{"status":{"phase":"%s"}}\\n' "$(cat "$STUB_DATA/restore-phase")" ;;
  *) echo "velero $*" ;;
esac`,
  kubectl: `
case "$*" in
  "config view"*) cat "$STUB_DATA/kube-server" ;;
  *"get namespace"*) exit "$(cat "$STUB_DATA/prod-reachable")" ;;
  *"get backupstoragelocations.velero.io"*) cat "$STUB_DATA/bsl-phase" ;;
  *"get pvc"*) cat "$STUB_DATA/pvcs.json" ;;
  *) echo "kubectl $*" ;;
esac`,
  az: `
case "$*" in
  "aks show"*) cat "$STUB_DATA/aks-fqdns" ;;
  "postgres flexible-server show"*) cat "$STUB_DATA/pg-role" ;;
  "afd origin-group list"*) cat "$STUB_DATA/origin-groups.json" ;;
  "afd origin list"*"--query"*) echo "table" ;;
  "afd origin list"*) cat "$STUB_DATA/origins.json" ;;
  *) echo "az $*" ;;
esac`,
  pulumi: `echo "pulumi $*"`,
  git: `
case "$*" in
  "diff --quiet"*) exit "$(cat "$STUB_DATA/stack-file-dirty")" ;;
  *) echo "git $*" ;;
esac`,
  curl: `exit 0`,
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The stubs' calls, "<tool> <args>" per line. */
  calls: string[];
}

class Sandbox {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-scripts-"));
  private readonly bin = path.join(this.dir, "bin");
  private readonly data = path.join(this.dir, "data");
  private readonly log = path.join(this.dir, "calls.log");

  constructor() {
    fs.mkdirSync(this.bin);
    fs.mkdirSync(this.data);
    for (const [tool, body] of Object.entries(STUBS)) {
      const file = path.join(this.bin, tool);
      fs.writeFileSync(file, `#!/usr/bin/env bash\necho "${tool} $*" >>"$STUB_LOG"\n${body}\n`);
      fs.chmodSync(file, 0o755);
    }
    this.set("bsl-phase", "Available");
    this.set("kube-server", `https://${DR_FQDN}:443`);
    this.set("aks-fqdns", `${DR_FQDN}\tNone\n`);
    this.set("pg-role", "GeoAsyncReplica");
    this.set("prod-reachable", "1");
    this.set("stack-file-dirty", "0");
    this.now = "2026-11-22T00:30:00Z";
    this.set("restore-phase", "Completed");
    this.set("pvcs.json", {
      items: [{ metadata: { namespace: "rabbitmq", name: "data-0" }, status: { phase: "Bound" } }],
    });
  }

  set(name: string, content: unknown): this {
    fs.writeFileSync(
      path.join(this.data, name),
      typeof content === "string" ? content : JSON.stringify(content),
    );
    return this;
  }

  /** The clock the scripts measure the RPO against. */
  now: string;

  run(script: string, args: string[]): Run {
    fs.writeFileSync(this.log, "");
    const result = spawnSync("bash", [script, ...args], {
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: `${this.bin}:${process.env.PATH}`,
        STUB_LOG: this.log,
        STUB_DATA: this.data,
        DR_POLL_SECONDS: "0",
        DR_NOW: String(Date.parse(this.now) / 1000),
      },
    });
    const calls = fs.readFileSync(this.log, "utf8").split("\n").filter(Boolean);
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
  }
}

// Velero labels a scheduled backup with its Schedule's name (velero pkg/builder, velero.io/schedule-name) and
// names it <schedule>-<timestamp>; "dr-local" is a backup of dr's own location.
const backup = (name: string, location: string, phase: string, completed: string) => ({
  apiVersion: "velero.io/v1",
  kind: "Backup",
  metadata: {
    name,
    namespace: "velero",
    labels: { "velero.io/schedule-name": name.replace(/-\d{14}$/, "") },
  },
  spec: { storageLocation: location, includedNamespaces: ["*"] },
  status: { phase, startTimestamp: completed.replace(/:\d\dZ$/, ":00Z"), completionTimestamp: completed },
});

const BACKUPS = {
  apiVersion: "velero.io/v1",
  kind: "BackupList",
  items: [
    backup("hourly-20261121230000", "prod", "Completed", "2026-11-21T23:04:10Z"),
    // Newest of all, but written by dr's own location: not prod's data.
    backup("dr-local-20261122010000", "default", "Completed", "2026-11-22T01:03:00Z"),
    backup("hourly-20261122000000", "prod", "Completed", "2026-11-22T00:03:55Z"),
    // Newer than the right answer, but not Completed.
    backup("hourly-20261122010000", "prod", "PartiallyFailed", "2026-11-22T01:05:00Z"),
    backup("hourly-20261122020000", "prod", "InProgress", "2026-11-22T02:00:30Z"),
    backup("daily-full-20261120020000", "prod", "Completed", "2026-11-20T02:41:00Z"),
    // The newest Completed backup of prod's location, but the daily full one: not what a failover restores.
    backup("daily-full-20261122000000", "prod", "Completed", "2026-11-22T00:20:00Z"),
  ],
};

/** The command lines a --dry-run printed, without the "+ " prefix. */
const printed = (run: Run) =>
  run.stdout
    .split("\n")
    .filter((l) => l.startsWith("+ "))
    .map((l) => l.slice(2));

describe("disaster-recovery scripts", () => {
  for (const script of SCRIPTS) {
    const name = path.relative(ROOT, script);

    it(`${name} parses (bash -n) and is strict (set -euo pipefail)`, () => {
      const check = spawnSync("bash", ["-n", script], { encoding: "utf8" });
      assert.equal(check.status, 0, check.stderr);
      assert.match(fs.readFileSync(script, "utf8"), /^set -euo pipefail$/m);
    });

    it(`${name} passes shellcheck`, function () {
      const shellcheck = requireTool(this, "shellcheck");
      // -x follows the shared helpers the scripts source.
      const check = spawnSync(shellcheck, ["-x", "--severity=style", script], {
        encoding: "utf8",
        cwd: ROOT,
      });
      assert.equal(check.status, 0, check.stdout);
    });
  }

  describe("scripts/dr-restore.sh", function () {
    before(function () {
      requireTool(this, "jq");
    });

    it("--dry-run restores the newest Completed hourly backup from prod's location, and only prints the restore", () => {
      const box = new Sandbox().set("backups.json", BACKUPS);
      const run = box.run(RESTORE, ["--dry-run", "--restore-name", "dr-test"]);
      assert.equal(run.status, 0, run.stderr);
      const create = printed(run).find((c) => c.startsWith("velero restore create"));
      assert.ok(create, run.stdout);
      assert.equal(
        create,
        "velero restore create dr-test --namespace velero --from-backup hourly-20261122000000 " +
          "--namespace-mappings ai-workflow-prod:ai-workflow-dr --restore-volumes=true",
      );
      assert.ok(!run.calls.some((c) => c.startsWith("velero restore create")), "dry-run created a restore");
    });

    it("the restore excludes nothing: no resource, namespace or volume is left out", () => {
      const run = new Sandbox().set("backups.json", BACKUPS).run(RESTORE, ["--dry-run"]);
      const create = printed(run).find((c) => c.startsWith("velero restore create")) ?? "";
      assert.doesNotMatch(
        create,
        /--exclude-|--include-resources|--include-namespaces|--restore-volumes=false/,
      );
    });

    it("accepts velero's single-object output when there is exactly one backup", () => {
      const only = backup("hourly-20261122000000", "prod", "Completed", "2026-11-22T00:04:00Z");
      const run = new Sandbox().set("backups.json", only).run(RESTORE, ["--dry-run"]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(printed(run).join("\n"), /--from-backup hourly-20261122000000 /);
    });

    it("refuses when the newest hourly backup is older than the RPO, unless told to accept it", () => {
      const box = new Sandbox().set("backups.json", BACKUPS);
      box.now = "2026-11-22T01:30:00Z"; // the newest Completed hourly backup finished 86 min earlier
      const refused = box.run(RESTORE, ["--dry-run"]);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /hourly-20261122000000 completed 86 min ago, beyond the RPO of 60 min/);
      assert.ok(!printed(refused).some((c) => c.startsWith("velero restore create")));
      const accepted = box.run(RESTORE, ["--dry-run", "--accept-older"]);
      assert.equal(accepted.status, 0, accepted.stderr);
      assert.match(printed(accepted).join("\n"), /--from-backup hourly-20261122000000 /);
    });

    it("empties RabbitMQ's cluster and volumes before the restore, so their file-system backups come back", () => {
      const commands = printed(new Sandbox().set("backups.json", BACKUPS).run(RESTORE, ["--dry-run"]));
      const create = commands.findIndex((c) => c.startsWith("velero restore create"));
      const cluster = commands.indexOf(
        "kubectl -n rabbitmq delete rabbitmqclusters.rabbitmq.com --all --wait=true --ignore-not-found",
      );
      const pvcs = commands.indexOf("kubectl -n rabbitmq delete pvc --all --wait=true --ignore-not-found");
      assert.ok(cluster >= 0 && pvcs > cluster && create > pvcs, commands.join("\n"));
    });

    it("refuses a named backup that is not Completed", () => {
      const run = new Sandbox()
        .set("backups.json", BACKUPS)
        .run(RESTORE, ["--dry-run", "--backup", "hourly-20261122010000"]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /PartiallyFailed, not Completed/);
    });

    it("fails when prod's backup location is not Available", () => {
      const run = new Sandbox()
        .set("backups.json", BACKUPS)
        .set("bsl-phase", "Unavailable")
        .run(RESTORE, ["--dry-run"]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /BackupStorageLocation prod is 'Unavailable'/);
      assert.ok(
        !run.calls.some((c) => c.startsWith("velero")),
        "chose a backup from an unreachable location",
      );
    });

    it("fails when prod's location has no Completed backup", () => {
      const none = { kind: "BackupList", items: [backup("b", "prod", "Failed", "2026-11-22T00:00:00Z")] };
      const run = new Sandbox().set("backups.json", none).run(RESTORE, ["--dry-run"]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /no Completed backup of Schedule hourly/);
    });

    it("a real run creates the restore, waits for it and verifies deployments and volumes", () => {
      const run = new Sandbox().set("backups.json", BACKUPS).run(RESTORE, ["--restore-name", "dr-test"]);
      assert.equal(run.status, 0, run.stderr);
      const velero = run.calls.filter((c) => c.startsWith("velero restore"));
      assert.deepEqual(
        velero.map((c) => c.split(" ").slice(0, 4).join(" ")),
        ["velero restore create dr-test", "velero restore get dr-test", "velero restore describe dr-test"],
      );
      assert.ok(
        run.calls.includes(
          "kubectl -n ai-workflow-dr wait deployment --all --for=condition=Available --timeout=15m",
        ),
      );
    });

    it("a PartiallyFailed restore exits 2, and an unbound volume fails verification", () => {
      const partial = new Sandbox().set("backups.json", BACKUPS).set("restore-phase", "PartiallyFailed");
      assert.equal(partial.run(RESTORE, []).status, 2);
      const pending = new Sandbox().set("backups.json", BACKUPS).set("pvcs.json", {
        items: [{ metadata: { namespace: "rabbitmq", name: "data-0" }, status: { phase: "Pending" } }],
      });
      const run = pending.run(RESTORE, []);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /not Bound: rabbitmq\/data-0/);
    });
  });

  describe("scripts/dr-failover-frontdoor.sh", function () {
    before(function () {
      requireTool(this, "jq");
    });

    const ORIGINS = [
      { name: "prod-ingress", priority: 1, weight: 1000, enabledState: "Enabled", hostName: "10.0.16.10" },
      {
        name: "dr-ingress",
        priority: 2,
        weight: 1000,
        enabledState: "Enabled",
        hostName: "ingress.dr.aiwp.example.com",
      },
    ];
    const sandbox = () =>
      new Sandbox().set("origin-groups.json", [{ name: "aiwp-prod-origins" }]).set("origins.json", ORIGINS);
    const base = ["--resource-group", "rg-aiwp-prod-edge", "--profile", "aiwp-prod-fd"];
    const update = (origin: string, state: string) =>
      "az afd origin update --resource-group rg-aiwp-prod-edge --profile-name aiwp-prod-fd " +
      `--origin-group-name aiwp-prod-origins --origin-name ${origin} --enabled-state ${state} --output none`;

    it("--dry-run enables the priority-2 origin, then disables the priority-1 origin, changing nothing", () => {
      const run = sandbox().run(FAILOVER, [...base, "--dry-run", "--hostname", "app.aiwp.example.com"]);
      assert.equal(run.status, 0, run.stderr);
      const commands = printed(run);
      assert.deepEqual(commands.slice(0, 2), [
        update("dr-ingress", "Enabled"),
        update("prod-ingress", "Disabled"),
      ]);
      assert.ok(
        commands.some((c) => c.startsWith("curl") && c.endsWith("https://app.aiwp.example.com/health/ready")),
      );
      assert.ok(!run.calls.some((c) => c.startsWith("az afd origin update")), "dry-run changed an origin");
    });

    it("a real run disables the primary through az", () => {
      const run = sandbox().run(FAILOVER, base);
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(
        run.calls.filter((c) => c.startsWith("az afd origin update")),
        [update("dr-ingress", "Enabled"), update("prod-ingress", "Disabled")],
      );
    });

    it("--failback only re-enables the priority-1 origin", () => {
      const run = sandbox().run(FAILOVER, [...base, "--failback", "--dry-run"]);
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(
        printed(run).filter((c) => c.startsWith("az afd origin update")),
        [update("prod-ingress", "Enabled")],
      );
    });

    it("refuses to guess among several origin groups or without a dr origin", () => {
      const two = sandbox()
        .set("origin-groups.json", [{ name: "a" }, { name: "b" }])
        .run(FAILOVER, [...base, "--dry-run"]);
      assert.equal(two.status, 1);
      assert.match(two.stderr, /2 origin groups; pass --origin-group/);
      const single = sandbox()
        .set("origins.json", [ORIGINS[0]])
        .run(FAILOVER, [...base, "--dry-run"]);
      assert.equal(single.status, 1);
      assert.match(single.stderr, /no single priority-2/);
    });
  });

  describe("scripts/dr-failover.sh", function () {
    before(function () {
      requireTool(this, "jq");
    });

    const ORIGINS = [
      { name: "primary", priority: 1, enabledState: "Enabled", hostName: "10.0.16.10" },
      { name: "dr", priority: 2, enabledState: "Enabled", hostName: "10.1.16.10" },
    ];
    const sandbox = () =>
      new Sandbox()
        .set("backups.json", BACKUPS)
        .set("origin-groups.json", [{ name: "ingress" }])
        .set("origins.json", ORIGINS);
    const base = [
      "--dr-resource-group",
      "rg-aiwp-dr-platform",
      "--frontdoor-resource-group",
      "rg-aiwp-edge",
      "--hostname",
      "app.aiwp.example.com",
    ];
    /** The steps a run announced, with the minutes each said it would take. */
    const announced = (run: Run) =>
      [...run.stdout.matchAll(/^== (\w+) \(expected (\d+) min\)/gm)].map((m) => ({
        step: m[1],
        minutes: Number(m[2]),
      }));
    const MUTATIONS = [
      "az postgres flexible-server replica promote",
      "velero restore create",
      "kubectl -n rabbitmq delete",
      "pulumi config set",
      "git commit",
      "pulumi up",
      "az afd origin update",
    ];
    const mutated = (run: Run) => run.calls.filter((c) => MUTATIONS.some((m) => c.startsWith(m)));

    it("the plan's expected durations, with the time to declare the incident, fit the 2 h RTO", () => {
      const run = new Sandbox().run(DR, ["--plan"]);
      assert.equal(run.status, 0, run.stderr);
      const rows = [...run.stdout.matchAll(/^(\w+)\s+(\d+) min /gm)].filter((m) => m[1] !== "total");
      assert.deepEqual(
        rows.map((m) => m[1]),
        ["declare", "check", "fence", "promote", "restore", "scale", "frontdoor", "verify"],
      );
      const sum = rows.reduce((total, m) => total + Number(m[2]), 0);
      assert.ok(sum <= RTO_MINUTES, `the steps take ${sum} min, beyond the RTO of ${RTO_MINUTES} min`);
    });

    it("--dry-run runs every step against the stubs, printing each one's duration, and changes nothing", () => {
      const run = sandbox().run(DR, [...base, "--dry-run"]);
      assert.equal(run.status, 0, run.stderr);
      const steps = announced(run);
      assert.deepEqual(
        steps.map((s) => s.step),
        ["check", "fence", "promote", "restore", "scale", "frontdoor", "verify"],
      );
      // The script runs after the incident is declared (15 min in the plan).
      const sum = 15 + steps.reduce((total, s) => total + s.minutes, 0);
      assert.ok(sum <= RTO_MINUTES, `${sum} min`);
      assert.deepEqual(mutated(run), [], "the dry run changed something");
      const commands = printed(run);
      for (const expected of [
        "az postgres flexible-server replica promote --resource-group rg-aiwp-dr-data --name psql-aiwp-dr " +
          "--promote-mode standalone --promote-option forced --yes",
        "pulumi config set --stack dr --path cluster.drActive true",
        "az afd origin update --resource-group rg-aiwp-edge --profile-name afd-aiwp-prod " +
          "--origin-group-name ingress --origin-name primary --enabled-state Disabled --output none",
      ])
        assert.ok(commands.includes(expected), `${expected}\nnot in\n${commands.join("\n")}`);
      assert.match(
        commands.join("\n"),
        /velero restore create \S+ --namespace velero --from-backup hourly-20261122000000 /,
      );
      // verify: the health endpoint through Front Door, after the switch.
      const probe = commands.findIndex(
        (c) => c.startsWith("curl") && c.endsWith("https://app.aiwp.example.com/health/ready"),
      );
      const disable = commands.findIndex((c) => c.includes("--origin-name primary --enabled-state Disabled"));
      assert.ok(disable >= 0 && probe > disable, commands.join("\n"));
    });

    it("a real run promotes, restores, commits dr-active, deploys, then switches Front Door, in that order", () => {
      const run = sandbox().run(DR, base);
      assert.equal(run.status, 0, run.stderr);
      const order = mutated(run).map((c) => MUTATIONS.find((m) => c.startsWith(m)));
      assert.deepEqual(order, [
        "az postgres flexible-server replica promote",
        "kubectl -n rabbitmq delete",
        "kubectl -n rabbitmq delete",
        "velero restore create",
        "pulumi config set",
        "git commit",
        "pulumi up",
        "az afd origin update",
        "az afd origin update",
      ]);
      assert.ok(
        run.calls.includes("git commit -m dr: serve production (cluster.drActive) -- Pulumi.dr.yaml"),
      );
    });

    it("refuses to commit dr-active over other uncommitted edits of the stack file", () => {
      const run = sandbox()
        .set("stack-file-dirty", "1")
        .run(DR, [...base, "--step", "scale"]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /Pulumi\.dr\.yaml has uncommitted changes/);
      assert.deepEqual(mutated(run), []);
    });

    it("refuses to act when the kubeconfig points at another cluster", () => {
      const run = sandbox()
        .set("kube-server", "https://aks-aiwp-prod-9e8d7c.hcp.eastus.azmk8s.io:443")
        .run(DR, [...base, "--dry-run"]);
      assert.equal(run.status, 1);
      assert.match(
        run.stderr,
        /points at aks-aiwp-prod-9e8d7c\.hcp\.eastus\.azmk8s\.io, not the dr cluster aks-aiwp-dr/,
      );
      assert.deepEqual(
        announced(run).map((s) => s.step),
        ["check"],
      );
      assert.ok(
        !run.calls.some((c) => c.startsWith("az postgres") || c.startsWith("velero")),
        "acted anyway",
      );
    });

    it("refuses when prod's backup location is not Available in dr", () => {
      const run = sandbox()
        .set("bsl-phase", "Unavailable")
        .run(DR, [...base, "--dry-run"]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /BackupStorageLocation prod is 'Unavailable', not Available/);
      assert.ok(!run.calls.some((c) => c.startsWith("az postgres")), "went on past the check");
    });

    it("refuses to restore when no hourly backup is newer than the RPO, before touching RabbitMQ", () => {
      const box = sandbox();
      box.now = "2026-11-22T03:00:00Z";
      const run = box.run(DR, [...base, "--step", "restore"]);
      assert.equal(run.status, 1);
      assert.match(run.stderr, /completed 176 min ago, beyond the RPO of 60 min/);
      assert.deepEqual(mutated(run), []);
      const older = box.run(DR, [...base, "--step", "restore", "--accept-older"]);
      assert.equal(older.status, 0, older.stderr);
      assert.ok(older.calls.some((c) => c.startsWith("velero restore create")));
    });

    it("skips the promotion of a server that is already read-write, and fences prod when it answers", () => {
      const run = sandbox()
        .set("pg-role", "None")
        .set("prod-reachable", "0")
        .run(DR, [...base, "--dry-run", "--prod-context", "aks-aiwp-prod", "--from", "fence"]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stderr, /psql-aiwp-dr is already read-write/);
      const commands = printed(run);
      assert.ok(!commands.some((c) => c.includes("replica promote")));
      assert.ok(
        commands.includes(
          "kubectl --context aks-aiwp-prod --request-timeout=60s -n ai-workflow-prod scale deployment --all --replicas=0",
        ),
      );
      assert.ok(commands.includes("velero --kubecontext aks-aiwp-prod schedule pause --all"));
    });
  });
});
