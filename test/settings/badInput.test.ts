/**
 * Broken stack files, one per row: each must make `render` exit 1 with a message that names the key and
 * the rule, before anything is written.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { render } from "../support/cli";

const ROOT = path.resolve(__dirname, "..", "..");
const PROD = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");

type Doc = { config: Record<string, any> };

/** prod's stack file with its parsed `config:` edited. */
const edited = (edit: (config: Record<string, any>) => void): string => {
  const doc = yaml.load(PROD) as Doc;
  edit(doc.config);
  return yaml.dump(doc);
};

/** A fresh copy of a value of prod's config, to edit. */
const key = (config: Record<string, any>, name: string) => (config[`aiwp-estate:${name}`] ??= {});

interface Case {
  name: string;
  /** The stack file's text. */
  text: string;
  /** What the message must say: the key and the rule. */
  expect: RegExp[];
  args?: string[];
}

const CASES: Case[] = [
  {
    name: "nested typo highAvailabilty",
    text: edited((c) => {
      const pg = key(c, "data").postgres;
      pg.highAvailabilty = pg.highAvailability;
      delete pg.highAvailability;
    }),
    expect: [/data\.postgres\.highAvailabilty: unknown key/, /did you mean highAvailability\?/],
  },
  {
    name: 'rateLimitPerMinute "3000" (a string)',
    text: edited((c) => (key(c, "edge").rateLimitPerMinute = "3000")),
    expect: [/edge\.rateLimitPerMinute: .*expected number/],
  },
  {
    name: "rateLimitPerMinute three-thousand",
    text: edited((c) => (key(c, "edge").rateLimitPerMinute = "three-thousand")),
    expect: [/edge\.rateLimitPerMinute: .*expected number/],
  },
  {
    name: "ingress subnet overlapping the node subnet",
    text: edited((c) => (key(c, "network").subnets.ingress = "10.0.15.0/24")),
    expect: [/network\.subnets\.ingress: 10\.0\.15\.0\/24 overlaps network\.subnets\.aksNodes/],
  },
  {
    name: "stepWeights not ascending",
    text: edited((c) => (key(c, "delivery").canary.stepWeights = [5, 50, 25])),
    expect: [/delivery\.canary\.stepWeights\[2\]: must be strictly ascending/],
  },
  {
    name: 'interval "90" without a unit',
    text: edited((c) => (key(c, "delivery").canary.interval = "90")),
    expect: [/delivery\.canary\.interval: must be a duration/],
  },
  {
    name: "threshold 0",
    text: edited((c) => (key(c, "delivery").canary.threshold = 0)),
    expect: [/delivery\.canary\.threshold: must be at least 1/],
  },
  {
    name: "a secret the settings need is not set, when secrets are required",
    text: PROD,
    args: ["--require-secrets"],
    expect: [
      /pagerdutyRoutingKey: secret is not set; it is required because observability\.receivers\.pagerduty\.enabled is true/,
      /pulumi config set --secret --stack prod pagerdutyRoutingKey/,
    ],
  },
  {
    name: "unknown service api-gatway",
    text: edited((c) => {
      const services = key(c, "services");
      services["api-gatway"] = services["api-gateway"];
      delete services["api-gateway"];
    }),
    expect: [
      /services\.api-gatway: unknown service \(did you mean api-gateway\?\); known services: api-gateway, /,
    ],
  },
  {
    name: "replicas.min -1",
    text: edited((c) => (key(c, "services")["api-gateway"].replicas = { min: -1 })),
    expect: [/services\.api-gateway\.replicas\.min: /],
  },
  {
    name: "a tab in the indentation",
    text: PROD.replace("\n  aiwp-estate:location:", "\n\taiwp-estate:location:"),
    expect: [/malformed YAML: .*tab.*\(line \d+, column \d+\)/],
  },
  {
    name: "an empty file",
    text: "",
    expect: [/the file is empty/],
  },
  {
    name: "a file holding only comments",
    text: "# prod\n",
    expect: [/the file is empty/],
  },
  {
    name: "a duplicated aiwp-estate:edge",
    text: `${PROD.trimEnd()}\n  aiwp-estate:edge:\n    wafMode: Detection\n`,
    expect: [/key aiwp-estate:edge appears twice \(lines \d+ and \d+\)/],
  },
  {
    name: "blueGreen with stepWeights",
    text: edited((c) => (key(c, "services")["auth-service"] = { canary: { stepWeights: [10, 50] } })),
    expect: [
      /services\.auth-service\.canary\.stepWeights: not allowed with strategy blueGreen/,
      /set iterations/,
    ],
  },
  {
    name: "prefix too long",
    text: edited((c) => (c["aiwp-estate:prefix"] = "aiwpproductionplatform2024")),
    expect: [/prefix: must be 2-8 lowercase letters and digits/],
  },
  {
    name: "location mars",
    text: edited((c) => (c["aiwp-estate:location"] = "mars")),
    expect: [/location: "mars" is not an Azure region name/],
  },
  {
    name: 'location "East US" (a display name)',
    text: edited((c) => (c["aiwp-estate:location"] = "East US")),
    expect: [/location: "East US" is not an Azure region name/, /did you mean "eastus"\?/],
  },
  {
    name: "namespace typo aiwp-estat:delivery",
    text: PROD.replace("aiwp-estate:delivery:", "aiwp-estat:delivery:"),
    expect: [/aiwp-estat:delivery: unknown namespace "aiwp-estat" \(did you mean aiwp-estate:delivery\?\)/],
  },
  {
    name: "a plaintext grafanaAdminPassword",
    text: edited((c) => (c["aiwp-estate:grafanaAdminPassword"] = "hunter2")),
    expect: [
      /grafanaAdminPassword: is a secret and must not be written in plain text/,
      /--secret --stack prod/,
    ],
  },
  {
    name: "tag latest",
    text: edited((c) => (key(c, "services")["api-gateway"].tag = "latest")),
    expect: [/services\.api-gateway\.tag: must be pinned: 'latest' is not allowed/],
  },
  {
    name: "tag: 2.10 (a YAML number)",
    text: PROD.replace('tag: "2.4.1"', "tag: 2.10"),
    expect: [
      /services\.api-gateway\.tag: must be a string but YAML read a number \(2\.10 was read as 2\.1\): quote it/,
    ],
  },
  {
    name: "kubernetesVersion: 1.30 (a YAML number)",
    text: PROD.replace(/kubernetesVersion: "[0-9.]+"/, "kubernetesVersion: 1.30"),
    expect: [
      /cluster\.kubernetesVersion: must be a string but YAML read a number \(1\.30 was read as 1\.3\): quote it/,
    ],
  },
  {
    name: "zones [1, 2, 3] as numbers",
    text: PROD.replace('zones: ["1", "2", "3"]', "zones: [1, 2, 3]"),
    expect: [/cluster\.zones\[0\]: must be a string but YAML read a number: quote it/],
  },
  {
    name: "wafMode prevention (wrong case)",
    text: edited((c) => (key(c, "edge").wafMode = "prevention")),
    expect: [/edge\.wafMode: .*"Prevention"/],
  },
  {
    name: "interval 5s",
    text: edited((c) => (key(c, "delivery").canary.interval = "5s")),
    expect: [/delivery\.canary\.interval: must be at least 10s/],
  },
  {
    name: "environment production",
    text: edited((c) => (c["aiwp-estate:environment"] = "production")),
    expect: [/environment: is required and must be one of dev, staging, prod, dr \(found "production"\)/],
  },
  {
    name: "root key configuration: instead of config:",
    text: PROD.replace(/^config:/m, "configuration:"),
    expect: [/config: is missing/, /rename configuration: to config:/],
  },
  {
    name: 'secure: "not-a-ciphertext"',
    text: edited((c) => (c["aiwp-estate:pagerdutyRoutingKey"] = { secure: "not-a-ciphertext" })),
    expect: [
      /pagerdutyRoutingKey: secure: value is not a ciphertext/,
      /--secret --stack prod pagerdutyRoutingKey/,
    ],
  },
  {
    name: "a v1: value in a file without encryptionsalt",
    text: edited(
      (c) => (c["aiwp-estate:grafanaAdminPassword"] = { secure: "v1:c2VjcmV0LXBsYWNlaG9sZGVy:Z3JhZmFuYQ==" }),
    ),
    expect: [/grafanaAdminPassword: secure: value is not a ciphertext/],
  },
  {
    name: "dnsServiceIp outside serviceCidr",
    text: edited((c) => {
      const net = key(c, "network");
      net.serviceCidr = "172.16.0.0/16";
      net.dnsServiceIp = "10.250.0.10";
    }),
    expect: [/network\.dnsServiceIp: must lie inside network\.serviceCidr/],
  },
  {
    name: "replicas min 12 above max 4",
    text: edited((c) => (key(c, "services")["api-gateway"].replicas = { min: 12, max: 4 })),
    expect: [/services\.api-gateway\.replicas\.min: must not exceed .*\(12 > 4\)/],
  },
  {
    name: "threshold over the rollback budget",
    text: edited((c) => (key(c, "delivery").canary.threshold = 5)),
    // The rollback budget is checked per service, on the analysis each one runs.
    expect: [
      /services\.api-gateway\.canary: worst case from fault onset .* exceeds delivery\.canary\.maxRollbackSeconds/,
    ],
  },
  {
    name: "stepWeights above 100",
    text: edited((c) => (key(c, "delivery").canary.stepWeights = [5, 25, 150])),
    expect: [/delivery\.canary\.stepWeights\[2\]: 150 must be within \(0, 100\]/],
  },
  {
    name: "the whole file indented with tabs",
    text: PROD.replace(/^ {2}/gm, "\t"),
    expect: [/malformed YAML: .*tab/],
  },
  {
    name: "a secret under the aiwpestate: namespace",
    text: `${PROD.trimEnd()}\n  aiwpestate:pagerdutyRoutingKey:\n    secure: AAABAJ2g5xQ=\n`,
    expect: [
      /aiwpestate:pagerdutyRoutingKey: unknown namespace "aiwpestate" \(did you mean aiwp-estate:pagerdutyRoutingKey\?\)/,
    ],
  },
  // Beyond the trial's table.
  {
    name: "another environment's file for --stack prod",
    text: fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8"),
    expect: [/environment: is dev but --stack is prod/],
  },
  {
    name: "a secure: value on a key that is not a secret",
    text: edited((c) => (c["aiwp-estate:location"] = { secure: "AAABAJ2g5xQ=" })),
    expect: [/location: is not a secret key; secure: values are only for grafanaAdminPassword, /],
  },
  {
    name: "iterations on a canary service",
    text: edited((c) => (key(c, "services")["api-gateway"].canary = { iterations: 4 })),
    expect: [/services\.api-gateway\.canary\.iterations: not allowed with strategy canary/],
  },
  {
    name: "top-level key confg:",
    text: PROD.replace(/^config:/m, "confg:"),
    expect: [/config: is missing/, /confg/],
  },
  {
    name: "unknown project key aiwp-estate:delivry",
    text: PROD.replace("aiwp-estate:delivery:", "aiwp-estate:delivry:"),
    expect: [/delivry: unknown key .*did you mean delivery\?/],
  },
  {
    name: "drLocation that is no region",
    text: edited((c) => (c["aiwp-estate:drLocation"] = "westeurop")),
    expect: [/drLocation: "westeurop" is not an Azure region name.*did you mean "westeurope"\?/],
  },
  {
    name: "a list instead of a mapping",
    text: "- config\n",
    expect: [/must be a YAML mapping/],
  },
  {
    name: "a duplicated key inside a mapping",
    text: PROD.replace("    wafMode: Prevention\n", "    wafMode: Prevention\n    wafMode: Detection\n"),
    expect: [/key wafMode appears twice/],
  },
  {
    name: "stepWeight on a blueGreen service",
    text: edited((c) => (key(c, "services")["auth-service"] = { canary: { stepWeight: 10 } })),
    expect: [/services\.auth-service\.canary\.stepWeight: not allowed with strategy blueGreen/],
  },
  {
    name: "config: with nothing under it",
    text: "config:\n",
    expect: [/config: is empty/],
  },
  {
    name: "location: 123 (a number)",
    text: edited((c) => (c["aiwp-estate:location"] = 123)),
    expect: [/location: must be a string but YAML read a number: quote it/],
  },
  {
    name: "a service set to nothing",
    text: PROD.replace(/( {4}api-gateway:\n) {6}tag: "[^"]+"\n/, "$1"),
    expect: [/services\.api-gateway: .*expected object, received null/],
  },
];

describe("bad stack files: render exits 1 naming the key and the rule, and writes nothing", () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "aiwp-bad-"));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  CASES.forEach((c, i) => {
    it(`${String(i + 1).padStart(2, "0")} ${c.name}`, async () => {
      const dir = path.join(tmp, `case-${i}`);
      fs.mkdirSync(dir);
      const file = path.join(dir, "Pulumi.prod.yaml");
      fs.writeFileSync(file, c.text);
      const outParent = path.join(dir, "badout");
      const result = await render([
        "--stack",
        "prod",
        "--config-file",
        file,
        "--out",
        path.join(outParent, "prod"),
        ...(c.args ?? []),
      ]);
      assert.equal(result.code, 1, `expected exit 1, got ${result.code}: ${result.stdout}`);
      assert.ok(
        result.stderr.startsWith(`render: ${file}: `),
        `the message names the file: ${result.stderr}`,
      );
      for (const pattern of c.expect) assert.match(result.stderr, pattern);
      assert.ok(!fs.existsSync(outParent), "nothing was written");
      assert.deepEqual(fs.readdirSync(dir), ["Pulumi.prod.yaml"]);
    });
  });

  it("the real command exits 1 for a broken file and prints no stack trace", () => {
    const file = path.join(tmp, "Pulumi.prod.yaml");
    fs.writeFileSync(file, PROD.replace("aiwp-estate:delivery:", "aiwp-estat:delivery:"));
    const out = path.join(tmp, "cli-out");
    const result = spawnSync(
      process.execPath,
      [
        path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
        "tools/render.ts",
        "--stack",
        "prod",
        "--config-file",
        file,
        "--out",
        out,
      ],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, INIT_CWD: ROOT } },
    );
    assert.equal(result.status, 1);
    assert.match(result.stderr, /unknown namespace "aiwp-estat"/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
    assert.ok(!fs.existsSync(out));
  });
});
