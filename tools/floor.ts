/**
 * The floor a render is measured against (`npm run bench`): a Node.js process that loads the same
 * third-party module files as the render (the SDKs and every file of theirs the program reaches) and makes
 * the same number of plain registrations under Pulumi's mocks, and nothing else. What a render costs above
 * it is the estate's own work.
 *
 * node tools/run.js floor <registrations> <modules.json: the files, in the order the render loaded them>
 */
import * as fs from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeSettings from "@pulumi/pulumi/runtime/settings";

/** A resource with no behaviour of its own. */
class Plain extends pulumi.CustomResource {
  constructor(name: string, props: pulumi.Inputs) {
    super("floor:index:Plain", name, props);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [count, modulesFile] = argv;
  for (const m of JSON.parse(fs.readFileSync(modulesFile, "utf8")) as string[]) require(m);
  // As the render's harness does: no SDK stack traces (tools/harness.ts runProgram).
  Error.stackTraceLimit = 0;
  const started = process.hrtime.bigint();
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
      call: (args) => args.inputs,
    },
    "floor",
    "prod",
    false,
  );
  await pulumi.runtime.runInPulumiStack(async () => {
    for (let i = 0; i < Number(count); i++) new Plain(`plain-${i}`, { i });
    return {};
  });
  await (runtimeSettings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(JSON.stringify({ registrations: Number(count), runSeconds: seconds, cpuSeconds }));
  return 0;
}
