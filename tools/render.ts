/**
 * npm run render -- --stack <name> [--config-file <path>] [--out <dir>]
 * Runs the program for a stack under Pulumi's mock runtime and writes the render contract atomically.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { SettingsError } from "../settings";
import { ROOT, UsageError, readStackConfig, runProgram } from "./harness";
import { renderFiles } from "./outputs";
import { summarize } from "./summary";

/** Writes all files into a fresh directory beside `target`, then swaps it in: never half-written. */
export function writeAtomically(target: string, files: Map<string, string>): void {
  const parent = path.dirname(path.resolve(target));
  fs.mkdirSync(parent, { recursive: true });
  const staging = fs.mkdtempSync(path.join(parent, `.${path.basename(target)}.tmp-`));
  try {
    for (const [relative, content] of files) {
      const file = path.join(staging, relative);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
    const previous = fs.existsSync(target) ? `${staging}.old` : undefined;
    if (previous) fs.renameSync(target, previous);
    fs.renameSync(staging, target);
    if (previous) fs.rmSync(previous, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

export async function main(argv: string[]): Promise<number> {
  let options: { stack?: string; "config-file"?: string; out?: string };
  try {
    options = parseArgs({
      args: argv,
      options: { stack: { type: "string" }, "config-file": { type: "string" }, out: { type: "string" } },
      strict: true,
    }).values;
  } catch (e) {
    console.error(
      `render: ${(e as Error).message}\nusage: npm run render -- --stack <name> [--config-file <path>] [--out <dir>]`,
    );
    return 1;
  }
  if (!options.stack) {
    console.error(
      "render: --stack is required\nusage: npm run render -- --stack <name> [--config-file <path>] [--out <dir>]",
    );
    return 1;
  }
  const out = options.out ?? path.join(ROOT, "out", options.stack);
  try {
    const started = process.hrtime.bigint();
    const config = readStackConfig(options.stack, options["config-file"]);
    const run = await runProgram(config);
    const files = renderFiles(run);
    writeAtomically(out, files);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    console.log(summarize(run, path.relative(process.cwd(), out) || out, files.size, seconds));
    return 0;
  } catch (e) {
    if (e instanceof SettingsError || e instanceof UsageError) {
      console.error(`render: ${e.message}`);
    } else {
      console.error(`render: failed: ${(e as Error).stack ?? e}`);
    }
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
