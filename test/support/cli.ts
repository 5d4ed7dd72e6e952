/**
 * The render command run in-process (tools/render.ts `main`), with what it prints captured. `cwd` stands for the
 * directory the user typed the command in (npm passes it as INIT_CWD), from which relative paths resolve.
 */
import { main } from "../../tools/render";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function render(args: string[], cwd?: string): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  const saved = process.env.INIT_CWD;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  if (cwd !== undefined) process.env.INIT_CWD = cwd;
  try {
    return { code: await main(args), stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
    if (saved === undefined) delete process.env.INIT_CWD;
    else process.env.INIT_CWD = saved;
  }
}
