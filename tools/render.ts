/**
 * npm run render -- --stack <name> [--config-file <path>] [--out <dir>] [--diff <dir or git ref>]
 * Runs the program for a stack under Pulumi's mock runtime and writes the render contract atomically.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { SettingsError } from "../settings";
import { OUTPUT_DIFF_LINES, diffResources, formatDiff, loadBaseline, type Entry } from "./diff";
import { ROOT, UsageError, readStackConfig, runProgram } from "./harness";
import {
  OutDirError,
  acquireLock,
  checkTarget,
  installInterruptCleanup,
  writeRender,
  writeRenderSync,
} from "./outdir";
import { renderFiles } from "./outputs";
import { fullSummary, summarize } from "./summary";

export const USAGE = `usage: npm run render -- --stack <name> [options]

Runs the estate program for one stack under Pulumi's mock runtime (no Azure, cluster or Pulumi CLI) and
writes the render contract: resources.json, manifests/, helm/, azure/, prometheus/, alertmanager/,
grafana/ and summary.txt.

options:
  --stack <name>          stack to render: dev, staging, prod or dr (reads Pulumi.<name>.yaml)
  --config-file <path>    read this stack file instead (its environment must match --stack)
  --out <dir>             output directory (default out/<stack>); it must be missing, empty or a
                          previous render: any other directory or file is refused and left untouched
  --diff <dir|git ref>    compare with a previous render directory or with the program at a git ref
                          (resources keyed by URN, the environment name normalised)
  --require-secrets       fail, as a deployment would, when a secret the settings need is not set
                          (by default render uses placeholders and lists them)
  --charts                also render every Helm release with helm and write the stack's full object
                          set (the program's objects and the charts') under cluster/
  -h, --help              print this help

Relative paths resolve from the directory the command was typed in.`;

/** Writes a render into `target` synchronously (see tools/outdir.ts for what it refuses). */
export function writeAtomically(target: string, files: Map<string, string>, stack = "unknown"): void {
  writeRenderSync(target, files, { stack, root: ROOT, cwd: process.cwd() });
}

interface Options {
  stack?: string;
  "config-file"?: string;
  out?: string;
  diff?: string;
  "require-secrets"?: boolean;
  charts?: boolean;
  help?: boolean;
}

export async function main(argv: string[]): Promise<number> {
  let options: Options;
  try {
    options = parseArgs({
      args: argv,
      options: {
        stack: { type: "string" },
        "config-file": { type: "string" },
        out: { type: "string" },
        diff: { type: "string" },
        "require-secrets": { type: "boolean" },
        charts: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (e) {
    console.error(`render: ${(e as Error).message}\n${USAGE}`);
    return 1;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (!options.stack) {
    console.error(`render: --stack is required\n${USAGE}`);
    return 1;
  }
  // npm runs scripts from the package root; INIT_CWD is where the command was typed.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const out =
    options.out !== undefined ? path.resolve(cwd, options.out) : path.join(ROOT, "out", options.stack);
  let release: (() => void) | undefined;
  try {
    const started = process.hrtime.bigint();
    checkTarget(out, ROOT, cwd);
    const configFile = options["config-file"] && path.resolve(cwd, options["config-file"]);
    const config = readStackConfig(options.stack, configFile, { requireSecrets: options["require-secrets"] });
    installInterruptCleanup();
    release = acquireLock(out);
    const baseline = options.diff !== undefined ? loadBaseline(options.diff, options.stack, cwd) : undefined;
    const run = await runProgram(config);
    const files = renderFiles(run);
    if (options.charts) {
      // Loaded only when asked for: the default render does not pay for helm's tooling.
      // require, not import(): mocha loads the tools through tsx's CommonJS hook, where import() of an
      // extensionless TypeScript path does not resolve.
      const { clusterFiles } = require("./cluster") as typeof import("./cluster");
      for (const [file, text] of await clusterFiles(run)) files.set(file, text);
    }
    const resources = baseline && (JSON.parse(files.get("resources.json")!) as Entry[]);
    const diff = baseline && diffResources(baseline.resources, resources!, config.settings.prefix);
    const diffText = diff && formatDiff(diff, baseline.label, resources!, config.settings);
    if (diffText) files.set("diff.txt", `${diffText}\n`);
    files.set("summary.txt", `${fullSummary(run)}\n`);
    await writeRender(out, files, { stack: options.stack, root: ROOT, cwd });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (process.env.AIWP_BENCH_REPORT) {
      // For npm run bench: the run's own time and this process's peak memory.
      const report = {
        runSeconds: seconds,
        resources: run.registrations.length,
        peakRssMb: process.resourceUsage().maxRSS / 1024,
        // CPU time of the whole process so far, module loading included.
        cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
        // The third-party module files loaded, in load order, for the floor to load as well.
        modules: Object.keys(require.cache).filter((f) => f.includes(`${path.sep}node_modules${path.sep}`)),
      };
      fs.writeFileSync(process.env.AIWP_BENCH_REPORT, JSON.stringify(report));
    }
    const relative = path.relative(cwd, out);
    const shown = relative === "" || relative.startsWith("..") ? out : relative;
    console.log(
      summarize(run, shown, files.size, seconds, diff && { count: diff.count, label: baseline.label }),
    );
    if (diffText) {
      const lines = diffText.split("\n");
      console.log(`\n${lines.slice(0, OUTPUT_DIFF_LINES).join("\n")}`);
      if (lines.length > OUTPUT_DIFF_LINES)
        console.log(`  ... (${shown}/diff.txt has all ${lines.length} lines)`);
    }
    return 0;
  } catch (e) {
    if (e instanceof SettingsError || e instanceof UsageError || e instanceof OutDirError) {
      console.error(`render: ${e.message}`);
    } else {
      console.error(`render: failed: ${(e as Error).message ?? e}`);
      if (process.env.AIWP_DEBUG) console.error((e as Error).stack);
      else console.error("render: set AIWP_DEBUG=1 to see where it failed");
    }
    return 1;
  } finally {
    release?.();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
