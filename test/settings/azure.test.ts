import * as assert from "node:assert/strict";
import { SettingsError } from "../../settings";
import { readStackConfig } from "../../tools/harness";
import { editedStackFile, rendered, STACKS, type StackName } from "../support/estate";

/** Reads an edited stack file the way `render` does; returns the error naming the key, or fails. */
function rejection(stack: StackName, edit: (c: Record<string, any>) => void): SettingsError {
  try {
    readStackConfig(stack, editedStackFile(stack, edit));
  } catch (e) {
    if (e instanceof SettingsError) return e;
    throw e;
  }
  assert.fail("the edited configuration was accepted");
}

function assertNames(error: SettingsError, key: string, rule: RegExp): void {
  const issue = error.issues.find((i) => i.path === key);
  assert.ok(issue, `no issue on ${key}; got ${error.issues.map((i) => i.path).join(", ")}`);
  assert.match(issue.message, rule);
  assert.ok(error.message.includes(key), "the printed message names the key");
}

describe("Azure settings", () => {
  it("reject a subnet outside the VNet address space before anything is declared", () => {
    const e = rejection("prod", (c) => {
      c["aiwp-estate:network"].subnets.ingress = "10.9.16.0/24";
    });
    assertNames(e, "network.subnets.ingress", /inside network.addressSpace/);
  });

  it("reject overlapping CIDRs (two subnets, or the pod CIDR over a subnet)", () => {
    const subnets = rejection("staging", (c) => {
      c["aiwp-estate:network"].subnets.postgres = c["aiwp-estate:network"].subnets.privateEndpoints;
    });
    assertNames(subnets, "network.subnets.postgres", /overlaps network.subnets.privateEndpoints/);
    const pods = rejection("prod", (c) => {
      c["aiwp-estate:network"].podCidr = "10.0.0.0/16";
    });
    assertNames(pods, "network.podCidr", /overlap/);
  });

  it("reject a node pool whose min exceeds its max", () => {
    const e = rejection("prod", (c) => {
      c["aiwp-estate:cluster"].pools.codeExecution.min = 16;
    });
    assertNames(
      e,
      "cluster.pools.codeExecution.min",
      /must not exceed cluster.pools.codeExecution.max \(16 > 15\)/,
    );
  });

  it("reject prod without zones", () => {
    const e = rejection("prod", (c) => {
      c["aiwp-estate:cluster"].zones = [];
    });
    assertNames(e, "cluster.zones", /zones 1, 2 and 3 in prod/);
  });

  for (const stack of STACKS) {
    it(`${stack} renders the whole Azure foundation and exports what operators need`, async () => {
      const run = await rendered(stack);
      // dr pulls from prod's registry (registry.pullFrom in Pulumi.dr.yaml) instead of owning one.
      const pullsFromAnother = run.config.settings.registry?.pullFrom !== undefined;
      for (const type of [
        "azure-native:network:VirtualNetwork",
        "azure-native:containerservice:ManagedCluster",
        ...(pullsFromAnother ? [] : ["azure-native:containerregistry:Registry"]),
        "azure-native:keyvault:Vault",
        "azure-native:dbforpostgresql:Server",
        "azure-native:redisenterprise:RedisEnterprise",
        "azure-native:search:Service",
        "azure-native:cdn:Profile",
        "azure-native:frontdoor:Policy",
      ]) {
        assert.ok(
          run.registrations.some((r) => r.type === type),
          `${stack} has no ${type}`,
        );
      }
      for (const key of [
        "resourceGroup",
        "clusterName",
        "getCredentialsCommand",
        "registryLoginServer",
        "keyVaultUri",
        "postgresHost",
        "redisHost",
        "oidcIssuerUrl",
        "frontDoorHostname",
      ]) {
        assert.ok(
          typeof run.outputs[key] === "string" && (run.outputs[key] as string).length > 0,
          `${stack} output ${key}`,
        );
      }
    });
  }
});
