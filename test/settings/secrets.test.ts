/**
 * Secrets under a real deployment: the program reads the stack's config from the Pulumi runtime, where the
 * language host lists the secret keys in PULUMI_CONFIG_SECRET_KEYS.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { loadStackSettings, SECRET_KEYS, SettingsError } from "../../settings";
import { readStackConfig } from "../../tools/harness";
import { mocks } from "../../tools/mocks";

/** dev's committed config as the CLI would pass it, without its secrets. */
function devConfig(): Record<string, string> {
  const flat = { ...readStackConfig("dev").flat };
  for (const key of SECRET_KEYS) delete flat[`aiwp-estate:${key}`];
  return flat;
}

describe("stack secrets as the Pulumi runtime hands them over", () => {
  const saved = process.env.PULUMI_CONFIG_SECRET_KEYS;
  after(() => {
    if (saved === undefined) delete process.env.PULUMI_CONFIG_SECRET_KEYS;
    else process.env.PULUMI_CONFIG_SECRET_KEYS = saved;
  });
  before(() => pulumi.runtime.setMocks(mocks, "aiwp-estate", "dev", false));

  it("refuses a secret key set without --secret, naming it and the command with --stack", () => {
    pulumi.runtime.setAllConfig(
      {
        "aiwp-estate:environment": "dev",
        "aiwp-estate:location": "eastus",
        "aiwp-estate:grafanaAdminPassword": "hunter2",
      },
      [],
    );
    process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify([]);
    assert.throws(
      () => loadStackSettings(),
      (e: unknown) =>
        e instanceof SettingsError &&
        /grafanaAdminPassword: is set in plain text; set it as a secret: pulumi config set --secret --stack dev grafanaAdminPassword/.test(
          e.message,
        ),
    );
  });

  it("names the setting that needs a missing secret and the exact command", () => {
    pulumi.runtime.setAllConfig(devConfig(), []);
    process.env.PULUMI_CONFIG_SECRET_KEYS = JSON.stringify([]);
    assert.throws(
      () => loadStackSettings(),
      /rabbitmqPassword: secret is not set; every stack needs it .*Set it with: pulumi config set --secret --stack dev rabbitmqPassword <value>/,
    );
  });
});
