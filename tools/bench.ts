/**
 * npm run bench [-- --runs <n>]: times `npm run render` as a user runs it, a whole process each time, for
 * prod and for a synthetic prod with ten times the services, side by side with the floor (tools/floor.ts:
 * node, the same third-party module files the render loads, the same number of plain registrations under
 * Pulumi's mocks), alternating render and floor runs and reporting medians. Everything it writes goes to one temporary directory,
 * removed at the end (or when interrupted).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import * as yaml from "js-yaml";
import { ROOT, readStackConfig } from "./harness";
import { removeOnInterrupt } from "./outdir";

/** A copy of prod's stack file in `dir` whose service catalogue is repeated `factor` times. */
export function syntheticStackFile(factor: number, dir: string): string {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8")) as {
    config: Record<string, unknown>;
  };
  const base = readStackConfig("prod").settings.services;
  const services: Record<string, unknown> = {};
  for (let i = 0; i < factor; i++) {
    const rename = (name: string) => (i === 0 ? name : `${name}-${i}`);
    for (const [name, svc] of Object.entries(base)) {
      services[rename(name)] = {
        ...svc,
        route: i === 0 ? svc.route : `${svc.route === "/" ? "" : svc.route}/copy-${i}`,
        callers: svc.callers.map(rename),
      };
    }
  }
  doc.config["aiwp-estate:services"] = services;
  const file = path.join(dir, `Pulumi.prod-x${factor}.yaml`);
  fs.writeFileSync(file, yaml.dump(doc));
  return file;
}

interface Timing {
  wallSeconds: number;
  runSeconds: number;
  /** CPU time of the process (user + system), module loading included: steadier than wall time on a busy machine. */
  cpuSeconds: number;
  resources: number;
  peakRssMb?: number;
  /** The third-party module files the render loaded (every file under node_modules in require.cache). */
  modules?: string[];
}

function timed(command: string, args: string[], env: NodeJS.ProcessEnv): { seconds: number; stdout: string } {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { cwd: ROOT, env, encoding: "utf8", maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  }
  return { seconds, stdout: result.stdout };
}

/** `npm run render` as typed by a user, into `out`; the run time is what render itself reports. */
function renderOnce(out: string, report: string, file?: string): Timing {
  const args = ["run", "--silent", "render", "--", "--stack", "prod", "--out", out];
  if (file) args.push("--config-file", file);
  const { seconds } = timed(npm(), args, { ...process.env, AIWP_BENCH_REPORT: report });
  const r = JSON.parse(fs.readFileSync(report, "utf8")) as Omit<Timing, "wallSeconds">;
  return { ...r, wallSeconds: seconds };
}

function floorOnce(count: number, modulesFile: string): Timing {
  const { seconds, stdout } = timed(
    process.execPath,
    // The node flags npm run bench started with are the ones npm run render starts with (package.json).
    [...process.execArgv, path.join(ROOT, "tools", "run.js"), "floor", String(count), modulesFile],
    process.env,
  );
  const r = JSON.parse(stdout.trim().split("\n").pop() as string) as {
    runSeconds: number;
    cpuSeconds: number;
  };
  return { wallSeconds: seconds, runSeconds: r.runSeconds, cpuSeconds: r.cpuSeconds, resources: count };
}

const npm = () => (process.platform === "win32" ? "npm.cmd" : "npm");

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { runs: { type: "string" } }, strict: true });
  const runs = Number(values.runs ?? 5);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-bench-"));
  const forget = removeOnInterrupt(dir);
  try {
    let modules = 0;
    const cases: [string, string | undefined][] = [
      ["prod", undefined],
      ["prod x10 services", syntheticStackFile(10, dir)],
    ];
    const rows: string[][] = [];
    for (const [label, file] of cases) {
      const out = path.join(dir, "out");
      const report = path.join(dir, "report.json");
      // One warm-up render: brings bin/ up to date, counts the registrations for the floor and lists
      // the module files it loads, which the floor loads too.
      const warm = renderOnce(out, report, file);
      const resources = warm.resources;
      const modulesFile = path.join(dir, "modules.json");
      fs.writeFileSync(modulesFile, JSON.stringify(warm.modules ?? []));
      modules = warm.modules?.length ?? 0;
      const render: Timing[] = [];
      const floor: Timing[] = [];
      for (let i = 0; i < runs; i++) {
        // Alternate which goes first, so neither always runs on a warmer machine.
        if (i % 2 === 0) {
          render.push(renderOnce(out, report, file));
          floor.push(floorOnce(resources, modulesFile));
        } else {
          floor.push(floorOnce(resources, modulesFile));
          render.push(renderOnce(out, report, file));
        }
      }
      const [rw, fw] = [median(render.map((t) => t.wallSeconds)), median(floor.map((t) => t.wallSeconds))];
      const [rc, fc] = [median(render.map((t) => t.cpuSeconds)), median(floor.map((t) => t.cpuSeconds))];
      rows.push([
        label,
        String(resources),
        rw.toFixed(2),
        median(render.map((t) => t.runSeconds)).toFixed(2),
        fw.toFixed(2),
        `${(rw / fw).toFixed(2)}x`,
        rc.toFixed(2),
        fc.toFixed(2),
        `${(rc / fc).toFixed(2)}x`,
        median(render.map((t) => t.peakRssMb ?? 0)).toFixed(0),
        (resources / rw).toFixed(0),
      ]);
    }
    console.log(
      `Render benchmark: node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}; median of ${runs} alternating runs, each a fresh process`,
    );
    const header = [
      "case",
      "resources",
      "npm run render s",
      "of it the run s",
      "floor s",
      "ratio",
      "render CPU s",
      "floor CPU s",
      "CPU ratio",
      "peak RSS MB",
      "resources/s",
    ];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [header, ...rows])
      console.log(`  ${r.map((c, i) => c.padEnd(widths[i])).join("  ")}`.trimEnd());
    console.log(
      "  npm run render: the whole command as typed, npm included; the run: program, files and write, as render reports it;\n" +
        `  floor: node loading the ${modules} third-party module files the render loads and making as many plain registrations under Pulumi's mocks;\n` +
        "  CPU: user + system time of the render's node process (npm's own excluded) and of the floor's",
    );
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    forget();
  }
}
