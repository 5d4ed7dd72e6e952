/**
 * Render never destroys: it writes only into a missing or empty directory or its own previous render,
 * one render at a time, and leaves nothing behind when interrupted. The cases that depend on the process
 * (signals, two renders at once, the caller's directory) run the real command as npm starts it.
 */
import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { syntheticStackFile } from "../../tools/bench";
import { MARKER } from "../../tools/outdir";
import { render as renderCli } from "../support/cli";

const ROOT = path.resolve(__dirname, "..", "..");
const RUN = path.join(ROOT, "tools", "run.js");

/** The render command as `npm run render` runs it, typed in `cwd`. */
function cli(args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [RUN, "render", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, INIT_CWD: cwd, ...env },
  });
}

const render = (args: string[], cwd = ROOT) => renderCli(args, cwd);

/** Every file below `dir` with its content, to compare before and after. */
function snapshot(dir: string): [string, string][] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      return [path.relative(dir, file), fs.readFileSync(file, "utf8")] as [string, string];
    })
    .sort();
}

const leftovers = (parent: string) =>
  fs.readdirSync(parent).filter((f) => /\.(tmp|old)-|render-lock/.test(f));

describe("render output directory", function () {
  this.timeout(240_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-outdir-"));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it("refuses a non-empty directory that is not a render and leaves it untouched", () => {
    const dir = path.join(tmp, "notes");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "important.txt"), "my notes\n");
    const result = cli(["--stack", "prod", "--out", dir]);
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /is not empty and is not a previous render .*important\.txt.*nothing was written/,
    );
    assert.deepEqual(snapshot(dir), [["important.txt", "my notes\n"]]);
    assert.deepEqual(leftovers(tmp), []);
  });

  it("refuses a file", () => {
    const file = path.join(tmp, "afile");
    fs.writeFileSync(file, "data\n");
    const result = cli(["--stack", "prod", "--out", file]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /is a file, not a directory; nothing was written/);
    assert.equal(fs.readFileSync(file, "utf8"), "data\n");
  });

  it("refuses --out . and the project, its parents and the home directory", async () => {
    const here = path.join(tmp, "here");
    fs.mkdirSync(here);
    const dot = await render(["--stack", "prod", "--out", "."], here);
    assert.equal(dot.code, 1);
    assert.match(dot.stderr, /is the current directory/);
    for (const target of [ROOT, path.dirname(ROOT), "/"]) {
      const r = await render(["--stack", "prod", "--out", target]);
      assert.equal(r.code, 1, target);
      assert.match(r.stderr, /is the project directory or one of its parents|is the home or root directory/);
    }
    const home = await render(["--stack", "prod", "--out", os.homedir()], here);
    assert.equal(home.code, 1);
    assert.deepEqual(fs.readdirSync(here), []);
  });

  it("replaces its own previous render, resolves a relative --out from the caller's directory, and is not private", async () => {
    const caller = path.join(tmp, "caller");
    fs.mkdirSync(caller);
    const first = await render(["--stack", "prod", "--out", "rel-out"], caller);
    assert.equal(first.code, 0, first.stderr);
    const out = path.join(caller, "rel-out");
    assert.ok(fs.existsSync(path.join(out, "resources.json")));
    assert.match(first.stdout, / in rel-out /);
    const marker = JSON.parse(fs.readFileSync(path.join(out, MARKER), "utf8"));
    assert.ok(marker.files.includes("resources.json") && marker.files.includes("summary.txt"));
    // Group and others may read it (umask permitting), unlike a mkdtemp directory's 700.
    const umask = process.umask();
    assert.equal(fs.statSync(out).mode & 0o777, 0o777 & ~umask);
    const second = await render(["--stack", "prod", "--out", "rel-out"], caller);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(leftovers(caller), []);

    // A file someone added to the render makes it foreign: refused, untouched.
    fs.writeFileSync(path.join(out, "manifests", "my-edit.yaml"), "kept\n");
    const before = snapshot(out);
    const third = await render(["--stack", "prod", "--out", "rel-out"], caller);
    assert.equal(third.code, 1);
    assert.match(third.stderr, /holds files render did not write \(manifests\/my-edit\.yaml\)/);
    assert.deepEqual(snapshot(out), before);
  });

  it("a re-render keeps each unchanged file (the same inode) and rewrites one whose text differs", async () => {
    const out = path.join(tmp, "reuse");
    assert.equal((await render(["--stack", "dev", "--out", out])).code, 0);
    const kept = path.join(out, "resources.json");
    const edited = path.join(out, "helm", "velero.yaml");
    const rendered = fs.readFileSync(edited, "utf8");
    const keptInode = fs.statSync(kept).ino;
    // Same size, different text: only a comparison of the content can tell.
    fs.writeFileSync(edited, rendered.replace("velero", "VELERO"));
    const editedInode = fs.statSync(edited).ino;
    const again = await render(["--stack", "dev", "--out", out]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(fs.statSync(kept).ino, keptInode);
    assert.equal(fs.statSync(kept).nlink, 1, "the previous render's link is gone");
    assert.equal(fs.readFileSync(edited, "utf8"), rendered);
    assert.notEqual(fs.statSync(edited).ino, editedInode);
    assert.deepEqual(leftovers(tmp), []);
  });

  it("refuses while another live render holds the directory's lock, and takes over a stale lock", async () => {
    const out = path.join(tmp, "locked");
    const lock = path.join(tmp, ".locked.render-lock");
    const sleeper = spawn("sleep", ["30"]);
    try {
      fs.writeFileSync(lock, `${sleeper.pid}\n`);
      const held = await render(["--stack", "prod", "--out", out]);
      assert.equal(held.code, 1);
      assert.match(
        held.stderr,
        new RegExp(`another render \\(pid ${sleeper.pid}\\) is writing this directory`),
      );
      assert.ok(!fs.existsSync(out));
      assert.equal(fs.readFileSync(lock, "utf8"), `${sleeper.pid}\n`, "another render's lock is left alone");
    } finally {
      sleeper.kill();
    }
    await new Promise((resolve) => sleeper.once("exit", resolve));
    const stale = await render(["--stack", "prod", "--out", out]);
    assert.equal(stale.code, 0, stale.stderr);
    assert.ok(!fs.existsSync(lock), "the lock is released");
  });

  it("two renders started together on one directory never interleave: one writes, the other refuses", async () => {
    const out = path.join(tmp, "race");
    const start = () =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [RUN, "render", "--stack", "prod", "--out", out], {
          cwd: ROOT,
          env: { ...process.env, INIT_CWD: ROOT },
        });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr += d));
        child.on("exit", (code) => resolve({ code, stderr }));
      });
    const results = await Promise.all([start(), start()]);
    const codes = results.map((r) => r.code).sort();
    if (codes[1] === 1) {
      assert.deepEqual(codes, [0, 1]);
      assert.match(
        results.find((r) => r.code === 1)!.stderr,
        /another render \(pid \d+\) is writing this directory/,
      );
    } else {
      // Only if one finished before the other took the lock; then both wrote whole renders in turn.
      assert.deepEqual(codes, [0, 0]);
    }
    assert.ok(fs.existsSync(path.join(out, "resources.json")));
    assert.deepEqual(leftovers(tmp), []);
  });

  it("SIGINT during the write keeps the previous render and leaves no temporary directory or lock", async () => {
    const parent = path.join(tmp, "signals");
    fs.mkdirSync(parent);
    const out = path.join(parent, "prod");
    // The previous render is prod's; the new one has ten times the services: a write long enough to
    // interrupt, of files the previous render does not hold.
    const file = syntheticStackFile(10, tmp);
    assert.equal(cli(["--stack", "prod", "--out", out]).status, 0);
    const before = snapshot(out);
    const child = spawn(
      process.execPath,
      [RUN, "render", "--stack", "prod", "--config-file", file, "--out", out],
      {
        cwd: ROOT,
        env: { ...process.env, INIT_CWD: ROOT },
      },
    );
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    // The temporary directory appears when the write starts: interrupt then.
    const seen = await new Promise<boolean>((resolve) => {
      const timer = setInterval(() => {
        if (fs.readdirSync(parent).some((f) => f.startsWith(".prod.tmp-"))) {
          clearInterval(timer);
          child.kill("SIGINT");
          resolve(true);
        }
      }, 1);
      child.once("exit", () => {
        clearInterval(timer);
        resolve(false);
      });
    });
    const code = await new Promise<number | null>((resolve) =>
      child.exitCode !== null ? resolve(child.exitCode) : child.once("exit", (c) => resolve(c)),
    );
    assert.ok(seen, "the write was observed and interrupted");
    assert.equal(code, 130, stderr);
    assert.match(stderr, /interrupted \(SIGINT\); the previous output is unchanged/);
    assert.deepEqual(leftovers(parent), []);
    assert.deepEqual(snapshot(out), before);
  });

  it("SIGTERM while the program runs leaves nothing, and a killed render's leftovers are removed by the next", async () => {
    const parent = path.join(tmp, "term");
    fs.mkdirSync(parent);
    const out = path.join(parent, "prod");
    const child = spawn(process.execPath, [RUN, "render", "--stack", "prod", "--out", out], {
      cwd: ROOT,
      env: { ...process.env, INIT_CWD: ROOT },
    });
    // Once the lock exists the program is running.
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (fs.existsSync(path.join(parent, ".prod.render-lock"))) {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    assert.equal(code, 143);
    assert.deepEqual(fs.readdirSync(parent), []);

    // What a render killed outright (SIGKILL) would leave: a temporary directory named with its pid.
    const dead = spawnSync("true").pid;
    const orphan = path.join(parent, `.prod.tmp-${dead}-0badc0de`);
    fs.mkdirSync(orphan);
    fs.writeFileSync(path.join(orphan, "resources.json"), "[]");
    const next = cli(["--stack", "prod", "--out", out]);
    assert.equal(next.status, 0, next.stderr);
    assert.deepEqual(fs.readdirSync(parent), ["prod"]);
  });
});
