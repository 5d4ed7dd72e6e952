import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { NAMESPACES, RELEASES } from "../../lib/names";
import { renderFiles } from "../../tools/outputs";
import { main } from "../../tools/render";
import { requireCharts } from "../support/cluster";
import { rendered } from "../support/estate";

describe("charts: npm run render -- --charts", function () {
  it("without --charts the render has no cluster/ (helm is not run)", async () => {
    const files = [...renderFiles(await rendered("prod")).keys()];
    assert.ok(files.length > 0);
    assert.deepEqual(
      files.filter((f) => f.startsWith("cluster/")),
      [],
    );
  });

  it("writes every object of the stack, the program's and the charts', under cluster/<namespace>/<Kind>-<name>.yaml", async function () {
    requireCharts(this);
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-render-charts-")), "prod");
    const { log, error } = console;
    const errors: string[] = [];
    console.log = () => undefined;
    console.error = (...args: unknown[]) => errors.push(args.join(" "));
    let code: number;
    try {
      code = await main(["--stack", "prod", "--charts", "--out", out]);
    } finally {
      Object.assign(console, { log, error });
    }
    assert.equal(code, 0, errors.join("\n"));
    const read = (file: string) => {
      const text = fs.readFileSync(path.join(out, "cluster", file), "utf8");
      return {
        source: /^# source: (.+)$/m.exec(text)?.[1],
        manifest: yaml.load(text) as Record<string, any>,
      };
    };
    const velero = read(`${NAMESPACES.velero}/Deployment-velero.yaml`);
    assert.equal(velero.source, `chart:${RELEASES.velero}`);
    assert.equal(velero.manifest.metadata.namespace, NAMESPACES.velero);
    const schedule = read(`${NAMESPACES.velero}/Schedule-hourly.yaml`);
    assert.equal(schedule.source, "program");
    const crds = fs
      .readdirSync(path.join(out, "cluster", "_cluster"))
      .filter((f) => f.startsWith("CustomResourceDefinition-"));
    assert.ok(crds.includes("CustomResourceDefinition-servicemonitors.monitoring.coreos.com.yaml"));
    assert.ok(crds.includes("CustomResourceDefinition-rabbitmqclusters.rabbitmq.com.yaml"));
    // Secret values never reach the files, whichever side created the Secret.
    const secret = read(`${NAMESPACES.velero}/Secret-velero.yaml`).manifest;
    assert.deepEqual(Object.values(secret.data ?? secret.stringData), ["[secret]"]);
  });
});
