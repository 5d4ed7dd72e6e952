/**
 * npm run bench: both cases measured against the floor, and nothing left behind in the temporary directory.
 * One run each (the figures themselves are for the README, not for assertions).
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");

describe("npm run bench", function () {
  this.timeout(240_000);

  it("prints the ratio to the floor for prod and for ten times the services, and leaves its temporary directory empty", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-bench-test-"));
    try {
      const result = spawnSync(
        process.execPath,
        ["--max-semi-space-size=64", path.join(ROOT, "tools", "run.js"), "bench", "--runs", "1"],
        { cwd: ROOT, encoding: "utf8", env: { ...process.env, TMPDIR: tmp } },
      );
      assert.equal(result.status, 0, result.stderr);
      const row = (label: string) => {
        const line = result.stdout.split("\n").find((l) => l.trimStart().startsWith(`${label}  `));
        assert.ok(line, `no row for ${label}:\n${result.stdout}`);
        return line!.trim().split(/\s{2,}/);
      };
      const prod = row("prod");
      const x10 = row("prod x10 services");
      for (const cells of [prod, x10]) {
        // case, resources, render s, run s, floor s, ratio, ...
        assert.match(cells[5], /^\d+\.\d\dx$/);
        assert.ok(Number(cells[2]) > Number(cells[3]), "the whole command takes longer than its run");
      }
      assert.ok(Number(x10[1]) > 4 * Number(prod[1]), "ten times the services registers several times more");
      assert.match(result.stdout, /third-party module files the render loads/);
      assert.deepEqual(fs.readdirSync(tmp), []);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
