/**
 * npm run bench: renders prod and a synthetic estate with ten times the services, each in a fresh
 * process, and prints wall time, peak RSS and resources per second (ESTATE section 10).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { ROOT, readStackConfig, runProgram } from "./harness";
import { renderFiles } from "./outputs";

interface Measurement {
  label: string;
  resources: number;
  seconds: number;
  peakRssMb: number;
}

/** A copy of prod's stack file whose service catalogue is repeated `factor` times. */
export function syntheticStackFile(factor: number): string {
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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-bench-"));
  const file = path.join(dir, "Pulumi.prod.yaml");
  fs.writeFileSync(file, yaml.dump(doc));
  return file;
}

/** Child mode: render once and print the measurement as JSON. */
async function measure(label: string, file?: string): Promise<void> {
  // Load the program and the SDK modules first: the budget is for the run itself.
  require("../index");
  const config = readStackConfig("prod", file);
  const started = process.hrtime.bigint();
  const run = await runProgram(config);
  renderFiles(run);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const result: Measurement = {
    label,
    resources: run.registrations.length,
    seconds,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
  console.log(JSON.stringify(result));
}

/** Runs one measurement in a fresh Node.js process on the compiled program, as Pulumi runs it (bin/). */
function runChild(label: string, file?: string): Measurement {
  const args = [path.join(ROOT, "bin", "tools", "bench.js"), "--child", label];
  if (file) args.push(file);
  const output = execFileSync(process.execPath, args, { cwd: ROOT, encoding: "utf8" });
  return JSON.parse(output.trim().split("\n").pop() as string) as Measurement;
}

async function main(): Promise<void> {
  const [flag, label, file] = process.argv.slice(2);
  if (flag === "--child") return measure(label, file);
  // The budget is for the precompiled program (Pulumi.yaml runs bin/index.js): build it first.
  execFileSync(
    process.execPath,
    [path.join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"],
    {
      cwd: ROOT,
      stdio: "inherit",
    },
  );
  const cases: [string, string | undefined][] = [
    ["prod", undefined],
    ["prod x10 services", syntheticStackFile(10)],
  ];
  const rows = cases.map(([name, stackFile]) => runChild(name, stackFile));
  console.log(
    `Render benchmark (node ${process.version}, ${os.cpus().length} cores); compiled program run + render files after module loading, each in a fresh node process`,
  );
  console.log("  case                 resources   wall s   peak RSS MB   resources/s");
  for (const r of rows) {
    console.log(
      `  ${r.label.padEnd(20)} ${String(r.resources).padStart(9)}   ${r.seconds.toFixed(2).padStart(6)}   ${r.peakRssMb.toFixed(0).padStart(11)}   ${(r.resources / r.seconds).toFixed(0).padStart(11)}`,
    );
  }
  const [small, large] = rows;
  console.log(
    `  scaling: ${(large.resources / small.resources).toFixed(1)}x resources took ${(large.seconds / small.seconds).toFixed(1)}x the time`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
