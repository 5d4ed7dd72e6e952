/**
 * Real tools from Debian packages (promtool from `prometheus`, amtool from `prometheus-alertmanager`,
 * shellcheck, and jq which the disaster-recovery scripts use).
 * In CI (CI=true) a missing tool fails the test; elsewhere the test is skipped and says why.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parser } from "@prometheus-io/lezer-promql";

const PACKAGES = {
  promtool: "prometheus",
  amtool: "prometheus-alertmanager",
  shellcheck: "shellcheck",
  jq: "jq",
} as const;

/** Absolute path of an executable on PATH, or undefined. */
export function findTool(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The tool's path; fails in CI or skips the test elsewhere when it is missing. */
export function requireTool(context: Mocha.Context, name: keyof typeof PACKAGES): string {
  const found = findTool(name);
  if (found) return found;
  const how = `install it with: apt-get update && apt-get install -y ${PACKAGES[name]}`;
  if (process.env.CI === "true")
    throw new Error(`${name} is required in CI but was not found on PATH; ${how}`);
  console.log(`      skipped: ${name} not found on PATH (${how})`);
  context.skip();
}

export interface ToolResult {
  status: number | null;
  output: string;
}

/** Runs a tool and returns its exit status and combined output. */
export function runTool(tool: string, args: string[], cwd?: string): ToolResult {
  const r = spawnSync(tool, args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, output: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** A tool's version as [major, minor, patch], from `<tool> --version`. */
export function toolVersion(tool: string): [number, number, number] {
  const m = /version (\d+)\.(\d+)\.(\d+)/.exec(runTool(tool, ["--version"]).output);
  if (!m) throw new Error(`cannot read the version of ${tool}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** PromQL syntax errors found by Prometheus's own Lezer grammar. */
export function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  parser.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError)
        errors.push(
          `syntax error at ${node.from}: "${expr.slice(Math.max(0, node.from - 20), node.to + 20)}"`,
        );
    },
  });
  return errors;
}
