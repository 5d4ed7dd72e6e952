/**
 * The estate's own delivery (ESTATE section 7): every GitHub workflow passes a real workflow validator
 * (@action-validator/core, the schema GitHub publishes for workflow files), and the structure that keeps
 * the estate safe holds: previews of every stack with the policy pack, prod only from a release tag behind
 * an environment, one update per stack at a time, OIDC instead of cloud secrets, pinned actions.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { validateWorkflow } from "@action-validator/core";
import { STACKS } from "./support/estate";

const ROOT = path.resolve(__dirname, "..");
const WORKFLOW_DIR = path.join(ROOT, ".github", "workflows");
const PULUMI_ACTION = "pulumi/actions";

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  "continue-on-error"?: boolean;
}
interface Job {
  name?: string;
  needs?: string | string[];
  environment?: string | { name: string };
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress"?: boolean };
  strategy?: { matrix?: Record<string, unknown> };
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  file: string;
  text: string;
  on: Record<string, any>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const files = fs.readdirSync(WORKFLOW_DIR).filter((f) => /\.ya?ml$/.test(f));
const workflows: Workflow[] = files.map((file) => {
  const text = fs.readFileSync(path.join(WORKFLOW_DIR, file), "utf8");
  const doc = yaml.load(text) as Omit<Workflow, "file" | "text">;
  return { file, text, ...doc };
});

const actionOf = (step: Step) => step.uses?.split("@")[0];
const pulumiSteps = (job: Job) => job.steps.filter((s) => actionOf(s) === PULUMI_ACTION);
const environmentOf = (job: Job) =>
  typeof job.environment === "string" ? job.environment : job.environment?.name;
const needsOf = (job: Job) => (job.needs === undefined ? [] : ([] as string[]).concat(job.needs));

/** The stacks a job operates on: its matrix's `stack` list, or the literal stack in its stack-name. */
function stacksOf(job: Job): string[] {
  const matrix = job.strategy?.matrix?.stack;
  if (Array.isArray(matrix)) return matrix.map(String);
  return pulumiSteps(job).map((s) => String(s.with?.["stack-name"]).split("/").pop() as string);
}

/** Every (workflow, job) that runs a pulumi command. */
function pulumiJobs(command?: string): { wf: Workflow; id: string; job: Job; step: Step }[] {
  const found: { wf: Workflow; id: string; job: Job; step: Step }[] = [];
  for (const wf of workflows) {
    for (const [id, job] of Object.entries(wf.jobs)) {
      for (const step of pulumiSteps(job)) {
        if (command === undefined || step.with?.command === command) found.push({ wf, id, job, step });
      }
    }
  }
  return found;
}

/** The triggers of a workflow: "pull_request", "push:branch:main", "push:tag:v*", "schedule"... */
function triggersOf(wf: Workflow): string[] {
  const out: string[] = [];
  for (const [event, spec] of Object.entries(wf.on)) {
    if (event !== "push") {
      out.push(event);
      continue;
    }
    for (const b of spec?.branches ?? []) out.push(`push:branch:${b}`);
    for (const t of spec?.tags ?? []) out.push(`push:tag:${t}`);
    if (!spec?.branches && !spec?.tags) out.push("push:any");
  }
  return out;
}

describe("GitHub workflows", () => {
  it("has the pull-request, deploy, release and drift workflows", () => {
    assert.ok(workflows.length >= 4, `found only ${files.join(", ")}`);
  });

  describe("validation", () => {
    it("the validator rejects a malformed workflow (it is a real schema check)", () => {
      const result = validateWorkflow(
        "on: push\njobs:\n  build:\n    runs-on: ubuntu-24.04\n    stepz: []\n",
      );
      assert.ok(result.errors.length > 0);
    });

    for (const file of files) {
      it(`${file} is a valid GitHub workflow`, () => {
        const text = fs.readFileSync(path.join(WORKFLOW_DIR, file), "utf8");
        const { errors } = validateWorkflow(text);
        assert.deepEqual(errors, [], JSON.stringify(errors, null, 2));
      });
    }
  });

  describe("pull requests", () => {
    const prWorkflows = workflows.filter((wf) => triggersOf(wf).includes("pull_request"));

    it("lint, build and tests run on pull requests", () => {
      const runs = prWorkflows.flatMap((wf) =>
        Object.values(wf.jobs).flatMap((j) => j.steps.map((s) => s.run ?? "")),
      );
      for (const command of ["npm ci", "npm run lint", "npm run build", "npm test"]) {
        assert.ok(
          runs.some((r) => r.split("\n").some((line) => line.trim() === command)),
          `no pull-request step runs "${command}"`,
        );
      }
    });

    it("every stack is previewed on pull requests with the policy pack and its per-stack config", () => {
      const previews = pulumiJobs("preview").filter(({ wf }) => prWorkflows.includes(wf));
      const previewed = previews.flatMap(({ job }) => stacksOf(job));
      assert.deepEqual([...new Set(previewed)].sort(), [...STACKS].sort());
      for (const { id, step } of previews) {
        assert.equal(step.with?.policyPacks, "policies", `${id}: preview without --policy-pack policies`);
        assert.match(
          String(step.with?.policyPackConfigs),
          /^policies\/config\/\$\{\{ matrix\.stack \}\}\.json$/,
        );
        assert.equal(step.with?.["comment-on-pr"], true, `${id}: preview result is not commented on the PR`);
      }
    });

    it("each stack's policy pack config file exists", () => {
      for (const stack of STACKS) {
        const file = path.join(ROOT, "policies", "config", `${stack}.json`);
        assert.ok(
          fs.existsSync(file),
          `${path.relative(ROOT, file)} is missing; previews pass it to --policy-pack-config`,
        );
      }
    });

    it("pull requests never run pulumi up", () => {
      const ups = pulumiJobs("up").filter(({ wf }) => prWorkflows.includes(wf));
      assert.deepEqual(
        ups.map(({ id }) => id),
        [],
      );
    });
  });

  describe("deployments", () => {
    const ups = pulumiJobs("up");
    const upOf = (stack: string) => {
      const found = ups.filter(({ job }) => stacksOf(job).includes(stack));
      assert.equal(
        found.length,
        1,
        `expected exactly one "pulumi up" job for ${stack}, found ${found.length}`,
      );
      return found[0];
    };

    it("dev is updated on merge to main", () => {
      assert.deepEqual(triggersOf(upOf("dev").wf), ["push:branch:main"]);
    });

    it("staging is updated on merge to main, only after dev succeeded", () => {
      const dev = upOf("dev");
      const staging = upOf("staging");
      assert.equal(staging.wf, dev.wf);
      assert.deepEqual(triggersOf(staging.wf), ["push:branch:main"]);
      assert.ok(
        needsOf(staging.job).includes(dev.id),
        `staging needs [${needsOf(staging.job)}], not ${dev.id}`,
      );
    });

    for (const stack of ["prod", "dr"]) {
      it(`${stack} is updated only on a release tag, behind the "${stack}" environment`, () => {
        const { wf, job } = upOf(stack);
        assert.deepEqual(triggersOf(wf), ["push:tag:v*"]);
        assert.equal(environmentOf(job), stack);
      });
    }

    it("dr is deployed alongside prod, not after it", () => {
      const prod = upOf("prod");
      const dr = upOf("dr");
      assert.equal(dr.wf, prod.wf);
      assert.ok(!needsOf(dr.job).includes(prod.id));
    });

    it("prod and dr deploy the commit the release verified, after one shared approval", () => {
      const prod = upOf("prod");
      const dr = upOf("dr");
      const gates = Object.entries(prod.wf.jobs).filter(([, j]) => environmentOf(j) === "release");
      assert.equal(gates.length, 1, "one approval job in the release environment");
      const [gateId, gate] = gates[0];
      const verifyId = needsOf(gate)[0];
      assert.ok(verifyId && prod.wf.jobs[verifyId], "the approval waits for the verification");
      for (const { id, job } of [prod, dr]) {
        assert.ok(needsOf(job).includes(gateId), `${id} waits for the approval`);
        assert.ok(needsOf(job).includes(verifyId), `${id} reads the verified commit`);
        const checkout = job.steps.find((st) => actionOf(st) === "actions/checkout");
        assert.equal(
          checkout?.with?.ref,
          `\${{ needs.${verifyId}.outputs.sha }}`,
          `${id} checks out the verified commit`,
        );
      }
    });

    it("a release tag deploys only a commit on main whose staging deployment succeeded", () => {
      const { wf } = upOf("prod");
      const verify = Object.values(wf.jobs).find((j) =>
        j.steps.some((st) => st.run?.includes("merge-base --is-ancestor")),
      );
      assert.ok(verify, "a job checks that the tagged commit is on main");
      const runs = verify.steps.map((st) => st.run ?? "").join("\n");
      assert.match(runs, /git merge-base --is-ancestor "\$sha" origin\/main/);
      assert.match(runs, /deployments\?sha=\$\{SHA\}&environment=staging/);
      assert.match(runs, /\[ "\$state" = "success" \]/);
      assert.equal(verify.permissions?.deployments, "read");
      const staging = upOf("staging");
      assert.equal(
        environmentOf(staging.job),
        "staging",
        "staging's job records the staging deployment checked here",
      );
    });

    it("every update runs the policy pack with its stack's config", () => {
      for (const { id, job, step } of ups) {
        const [stack] = stacksOf(job);
        assert.equal(step.with?.policyPacks, "policies", id);
        assert.equal(step.with?.policyPackConfigs, `policies/config/${stack}.json`, id);
      }
    });

    it("updates of one stack never overlap: a concurrency group per stack, never cancelling a running update", () => {
      const groups = new Map<string, string>();
      for (const { id, job } of ups) {
        const [stack] = stacksOf(job);
        assert.ok(job.concurrency, `${id}: no concurrency group`);
        assert.ok(
          job.concurrency.group.includes(stack),
          `${id}: group "${job.concurrency.group}" is not keyed by ${stack}`,
        );
        assert.equal(
          job.concurrency["cancel-in-progress"],
          false,
          `${id}: an update could be cancelled mid-flight`,
        );
        groups.set(stack, job.concurrency.group);
      }
      assert.equal(new Set(groups.values()).size, groups.size, "two stacks share a concurrency group");
      // Other jobs must not join an update's group: a pending job there would displace a pending update.
      for (const wf of workflows) {
        for (const [id, job] of Object.entries(wf.jobs)) {
          if (pulumiSteps(job).some((s) => s.with?.command === "up")) continue;
          assert.ok(
            ![...groups.values()].includes(job.concurrency?.group ?? ""),
            `${wf.file}:${id} joins an update's group`,
          );
        }
      }
    });
  });

  describe("drift", () => {
    const driftWorkflows = workflows.filter((wf) => triggersOf(wf).includes("schedule"));

    it("a scheduled check previews every stack with --expect-no-changes after a refresh", () => {
      const checks = pulumiJobs("preview").filter(({ wf }) => driftWorkflows.includes(wf));
      assert.deepEqual([...new Set(checks.flatMap(({ job }) => stacksOf(job)))].sort(), [...STACKS].sort());
      for (const { step } of checks) {
        assert.equal(step.with?.["expect-no-changes"], true);
        assert.equal(step.with?.refresh, true);
      }
    });

    it("drift opens or updates an issue, and the job fails", () => {
      for (const { id, job, step } of pulumiJobs("preview").filter(({ wf }) => driftWorkflows.includes(wf))) {
        assert.ok(
          step.id && step["continue-on-error"],
          `${id}: the check must record its outcome and continue`,
        );
        const script = job.steps.find((s) => actionOf(s) === "actions/github-script");
        assert.ok(script, `${id}: no github-script step`);
        const code = String(script.with?.script);
        assert.match(code, /issues\.create\(/);
        assert.match(code, /issues\.createComment\(/);
        assert.equal(job.permissions?.issues, "write");
        const fail = job.steps.find(
          (s) => s.if?.includes(`steps.${step.id}.outcome`) && /exit 1/.test(s.run ?? ""),
        );
        assert.ok(fail, `${id}: drift does not fail the job`);
      }
    });
  });

  describe("credentials", () => {
    const azureJobs = workflows.flatMap((wf) =>
      Object.entries(wf.jobs)
        .filter(([, job]) => job.steps.some((s) => actionOf(s) === "azure/login"))
        .map(([id, job]) => ({ wf, id, job })),
    );

    it("every job that runs pulumi logs in to Azure first", () => {
      for (const { id, job, step } of pulumiJobs()) {
        const login = job.steps.findIndex((s) => actionOf(s) === "azure/login");
        assert.ok(login >= 0 && login < job.steps.indexOf(step), `${id}: pulumi runs before azure/login`);
      }
    });

    it("Azure access is OIDC: id-token write, ids from repository variables, no client secret", () => {
      assert.ok(azureJobs.length > 0);
      for (const { wf, id, job } of azureJobs) {
        const where = `${wf.file}:${id}`;
        assert.equal(job.permissions?.["id-token"], "write", `${where}: no id-token: write`);
        const login = job.steps.find((s) => actionOf(s) === "azure/login")!;
        assert.deepEqual(
          Object.keys(login.with ?? {}).sort(),
          ["client-id", "subscription-id", "tenant-id"],
          where,
        );
        assert.equal(login.with?.["client-id"], "${{ vars.AZURE_CLIENT_ID }}", where);
        assert.equal(login.with?.["tenant-id"], "${{ vars.AZURE_TENANT_ID }}", where);
        assert.equal(login.with?.["subscription-id"], "${{ vars.AZURE_SUBSCRIPTION_ID }}", where);
        // azure-native authenticates by the same federated identity.
        assert.equal(job.env?.ARM_USE_OIDC, "true", where);
        assert.equal(job.env?.ARM_CLIENT_ID, "${{ vars.AZURE_CLIENT_ID }}", where);
        assert.equal(job.env?.ARM_TENANT_ID, "${{ vars.AZURE_TENANT_ID }}", where);
        assert.equal(job.env?.ARM_SUBSCRIPTION_ID, "${{ vars.AZURE_SUBSCRIPTION_ID }}", where);
      }
    });

    it("no long-lived cloud secret is referenced; the only secret is the Pulumi token, given to pulumi steps alone", () => {
      for (const wf of workflows) {
        const secrets = [...wf.text.matchAll(/secrets\.([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
        assert.deepEqual(
          [...new Set(secrets)].filter((s) => s !== "PULUMI_ACCESS_TOKEN"),
          [],
          wf.file,
        );
        assert.doesNotMatch(wf.text, /ARM_CLIENT_SECRET|client-secret|creds:/, wf.file);
        for (const [id, job] of Object.entries(wf.jobs)) {
          assert.ok(
            !JSON.stringify(job.env ?? {}).includes("secrets."),
            `${wf.file}:${id}: secret in job env`,
          );
          for (const step of job.steps) {
            if (JSON.stringify(step).includes("secrets.")) {
              assert.equal(
                actionOf(step),
                PULUMI_ACTION,
                `${wf.file}:${id}: "${step.name ?? step.run}" sees a secret`,
              );
            }
          }
        }
      }
    });

    it("no step can print a secret: no secrets in run scripts, no shell tracing", () => {
      for (const wf of workflows) {
        assert.doesNotMatch(wf.text, /echo[^\n]*\$\{\{\s*secrets\./, wf.file);
        assert.doesNotMatch(wf.text, /set -[a-wyz]*x/, `${wf.file}: shell tracing echoes expanded values`);
        for (const job of Object.values(wf.jobs)) {
          for (const step of job.steps)
            assert.ok(!(step.run ?? "").includes("secrets."), `${wf.file}: ${step.run}`);
        }
      }
    });

    it("workflows default to read-only repository access", () => {
      for (const wf of workflows) assert.deepEqual(wf.permissions, { contents: "read" }, wf.file);
    });
  });

  describe("tools", () => {
    it("every pulumi step installs the CLI version named in .pulumi-version, the SDK's version", () => {
      const version = fs.readFileSync(path.join(ROOT, ".pulumi-version"), "utf8").trim();
      const sdk = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies[
        "@pulumi/pulumi"
      ];
      assert.equal(version, sdk, "the CLI is released with the SDK of the same version");
      const all = pulumiJobs();
      assert.ok(all.length >= 6);
      for (const { wf, id, step } of all) {
        assert.equal(step.with?.["pulumi-version-file"], ".pulumi-version", `${wf.file} ${id}`);
        assert.equal(step.with?.["pulumi-version"], undefined, `${wf.file} ${id}: one place only`);
      }
    });

    it("every job that runs the policy pack installs its locked dependencies first", () => {
      const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "policies", "package-lock.json"), "utf8"));
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "policies", "package.json"), "utf8"));
      assert.deepEqual(
        lock.packages[""].dependencies,
        pkg.dependencies,
        "the lockfile matches policies/package.json",
      );
      for (const { wf, id, job, step } of pulumiJobs().filter(({ step: st }) => st.with?.policyPacks)) {
        const install = job.steps.findIndex(
          (st) =>
            st.run?.trim().startsWith("npm ci") &&
            (st as { "working-directory"?: string })["working-directory"] === "policies",
        );
        assert.ok(
          install >= 0 && install < job.steps.indexOf(step),
          `${wf.file} ${id} runs npm ci in policies/ before pulumi`,
        );
      }
    });

    it("the pull request's tests fetch their fixtures and read them from AIWP_FIXTURES", () => {
      const wf = workflows.find((w) => w.file === "pull-request.yml")!;
      const test = Object.values(wf.jobs).find((j) => j.steps.some((st) => st.run?.trim() === "npm test"))!;
      const fetch = test.steps.findIndex(
        (st) => st.run?.trim() === 'scripts/fetch-fixtures.sh "$RUNNER_TEMP/fixtures"',
      );
      const npmTest = test.steps.findIndex((st) => st.run?.trim() === "npm test");
      assert.ok(fetch >= 0 && fetch < npmTest, "fixtures are fetched before npm test");
      assert.equal(test.steps[npmTest].env?.AIWP_FIXTURES, "${{ runner.temp }}/fixtures");
    });
  });

  describe("build", () => {
    it("Pulumi runs the precompiled program (Pulumi.yaml main is bin/index.js)", () => {
      const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { main: string };
      assert.equal(project.main, "bin/index.js");
    });

    it("every pulumi step comes after npm ci, npm run build and the kubelogin install", () => {
      for (const { wf, id, job, step } of pulumiJobs()) {
        const at = job.steps.indexOf(step);
        const before = job.steps.slice(0, at);
        const where = `${wf.file}:${id}`;
        assert.ok(
          before.some((s) => s.run?.trim() === "npm ci"),
          `${where}: no npm ci`,
        );
        assert.ok(
          before.some((s) => s.run?.trim() === "npm run build"),
          `${where}: no npm run build`,
        );
        assert.ok(
          before.some((s) => actionOf(s) === "azure/use-kubelogin" || /az aks install-cli/.test(s.run ?? "")),
          `${where}: kubelogin is not installed; the Kubernetes provider execs it`,
        );
      }
    });

    it("every action is pinned to a full commit SHA with a comment naming its version", () => {
      let count = 0;
      for (const wf of workflows) {
        for (const line of wf.text.split("\n")) {
          const uses = /^\s*(?:-\s+)?uses:\s*(\S+)(.*)$/.exec(line);
          if (!uses) continue;
          count++;
          assert.match(uses[1], /^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/, `${wf.file}: ${line.trim()}`);
          assert.match(uses[2], /^\s+#\s*v\d+(\.\d+){0,2}$/, `${wf.file}: ${line.trim()} names no version`);
        }
      }
      assert.ok(count > 0);
    });

    it("one action is pinned to one SHA across all workflows", () => {
      const pins = new Map<string, Set<string>>();
      for (const wf of workflows) {
        for (const m of wf.text.matchAll(/uses:\s*([^@\s]+)@(\S+)/g)) {
          pins.set(m[1], (pins.get(m[1]) ?? new Set()).add(m[2]));
        }
      }
      for (const [action, shas] of pins)
        assert.equal(shas.size, 1, `${action} pinned to ${[...shas].join(", ")}`);
    });
  });
});
