import * as assert from "node:assert/strict";
import * as path from "node:path";
import { POLICY_CONFIG_DIR, formatViolations, readPolicyConfig, runPolicies } from "../../tools/policy";
import { STACKS, rendered } from "../support/estate";

describe("policies over the rendered stacks", () => {
  for (const stack of STACKS) {
    it(`${stack} has no mandatory violation under its own policy config`, async () => {
      const run = await rendered(stack);
      const violations = await runPolicies(
        run.registrations,
        readPolicyConfig(path.join(POLICY_CONFIG_DIR, `${stack}.json`)),
      );
      const mandatory = violations.filter((v) => v.enforcementLevel === "mandatory");
      assert.equal(mandatory.length, 0, `\n${formatViolations(mandatory)}`);
    });
  }
});
