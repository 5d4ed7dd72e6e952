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
const SCRIPTS = [RESTORE, FAILOVER];

// Each stub logs its argv (one line per call) and answers from files in $STUB_DATA.
const STUBS: Record<string, string> = {
  velero: `
case "$*" in
  "backup get"*) cat "$STUB_DATA/backups.json" ;;
  "restore get"*) printf '{"status":{"phase":"%s"}}\\n' "$(cat "$STUB_DATA/restore-phase")" ;;
  *) echo "velero $*" ;;
esac`,
  kubectl: `
case "$*" in
  *"get backupstoragelocations.velero.io"*) cat "$STUB_DATA/bsl-phase" ;;
  *"get pvc"*) cat "$STUB_DATA/pvcs.json" ;;
  *) echo "kubectl $*" ;;
esac`,
  az: `
case "$*" in
  "afd origin-group list"*) cat "$STUB_DATA/origin-groups.json" ;;
  "afd origin list"*"--query"*) echo "table" ;;
  "afd origin list"*) cat "$STUB_DATA/origins.json" ;;
  *) echo "az $*" ;;
esac`,
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
      },
    });
    const calls = fs.readFileSync(this.log, "utf8").split("\n").filter(Boolean);
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls };
  }
}

const backup = (name: string, location: string, phase: string, completed: string) => ({
  apiVersion: "velero.io/v1",
  kind: "Backup",
  metadata: { name, namespace: "velero" },
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
    backup("daily-20261120000000", "prod", "Completed", "2026-11-20T00:41:00Z"),
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

    it("--dry-run restores the newest Completed backup from prod's location, and only prints the restore", () => {
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
      const only = backup("daily-20261121000000", "prod", "Completed", "2026-11-21T00:40:00Z");
      const run = new Sandbox().set("backups.json", only).run(RESTORE, ["--dry-run"]);
      assert.equal(run.status, 0, run.stderr);
      assert.match(printed(run).join("\n"), /--from-backup daily-20261121000000 /);
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
      assert.match(run.stderr, /no Completed backup/);
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
});
