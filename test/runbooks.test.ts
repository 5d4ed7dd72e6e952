/**
 * Every alert the estate renders has a runbook, and every runbook belongs to an alert: each alerting rule's
 * runbook_url is `${RUNBOOK_BASE_URL}/<alert>.md` and docs/runbooks/<alert>.md exists and is complete.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { RUNBOOK_BASE_URL } from "../lib/names";
import { renderFiles } from "../tools/outputs";
import { STACKS, rendered, type StackName } from "./support/estate";

const RUNBOOKS = path.resolve(__dirname, "..", "docs", "runbooks");
const SECTIONS = ["## What it means", "## Confirm", "## What to do", "## Roll back by hand"];

interface Rule {
  alert?: string;
  record?: string;
  annotations?: Record<string, string>;
}

async function alertsOf(stack: StackName): Promise<Rule[]> {
  const text = renderFiles(await rendered(stack)).get("prometheus/rules.yaml") ?? "groups: []";
  const doc = yaml.load(text) as { groups?: { rules?: Rule[] }[] } | null;
  return (doc?.groups ?? []).flatMap((g) => g.rules ?? []).filter((r) => r.alert !== undefined);
}

const runbookFiles = () =>
  fs
    .readdirSync(RUNBOOKS)
    .filter((f) => f.endsWith(".md") && f !== "README.md")
    .map((f) => f.replace(/\.md$/, ""));

describe("runbooks", () => {
  const seen = new Set<string>();

  for (const stack of STACKS) {
    it(`every ${stack} alert links to its own existing runbook`, async () => {
      const alerts = await alertsOf(stack);
      assert.ok(alerts.length > 0, `the ${stack} render has no alerting rules`);
      for (const rule of alerts) {
        const name = rule.alert as string;
        seen.add(name);
        assert.equal(rule.annotations?.runbook_url, `${RUNBOOK_BASE_URL}/${name}.md`, `${name}: runbook_url`);
        assert.ok(fs.existsSync(path.join(RUNBOOKS, `${name}.md`)), `docs/runbooks/${name}.md is missing`);
      }
    });
  }

  it("every runbook belongs to an alert some stack renders", async () => {
    for (const stack of STACKS) for (const rule of await alertsOf(stack)) seen.add(rule.alert as string);
    const orphans = runbookFiles().filter((name) => !seen.has(name));
    assert.deepEqual(orphans, [], "runbooks without an alert");
  });

  it("every runbook says what the alert means, how to confirm it, what to do and how to roll back", () => {
    for (const name of runbookFiles()) {
      const text = fs.readFileSync(path.join(RUNBOOKS, `${name}.md`), "utf8");
      assert.ok(text.startsWith(`# ${name}\n`), `${name}.md: title`);
      let at = -1;
      for (const section of SECTIONS) {
        const next = text.indexOf(`\n${section}\n`);
        assert.ok(next > at, `${name}.md: "${section}" missing or out of order`);
        at = next;
      }
      assert.match(text, /```promql\n/, `${name}.md: no PromQL to confirm with`);
    }
  });

  it("the index links every runbook", () => {
    const index = fs.readFileSync(path.join(RUNBOOKS, "README.md"), "utf8");
    for (const name of runbookFiles())
      assert.ok(index.includes(`](${name}.md)`), `README.md does not link ${name}`);
  });

  it("canary runbooks roll back through config and Flagger, with skipAnalysis restored afterwards", () => {
    for (const name of runbookFiles().filter((n) => n.startsWith("Canary"))) {
      const text = fs.readFileSync(path.join(RUNBOOKS, `${name}.md`), "utf8");
      assert.match(text, /pulumi config set --stack <env> --path 'services\["<svc>"\]\.tag'/, name);
      assert.match(
        text,
        /kubectl -n ai-workflow-<env> patch canary <svc> --type merge -p '\{"spec":\{"skipAnalysis":false\}\}'/,
      );
      assert.ok(
        !/kubectl[^\n]*(edit|patch|set image)[^\n]*<svc>-primary/.test(text),
        `${name}: edits the primary`,
      );
    }
  });
});
