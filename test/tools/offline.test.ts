/**
 * The harness's offline savings (tools/offline.ts) skip SDK work only an engine reads. They must change
 * nothing the program declares or returns: every stack is run both ways and compared.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { STACKS, rendered, renderedAsIs, renderWith } from "../support/estate";

describe("offline savings", function () {
  this.timeout(120_000);

  for (const stack of STACKS) {
    it(`${stack}: the same registrations and stack outputs as the SDK as it is`, async () => {
      const saved = await rendered(stack);
      const asIs = await renderedAsIs(stack);
      assert.equal(saved.registrations.length, asIs.registrations.length);
      assert.deepEqual(saved.registrations, asIs.registrations);
      assert.deepEqual(JSON.parse(JSON.stringify(saved.outputs)), JSON.parse(JSON.stringify(asIs.outputs)));
    });
  }

  it("puts the SDK back as it was when a run ends", async () => {
    const rpc = require("@pulumi/pulumi/runtime/rpc");
    const debuggable = require("@pulumi/pulumi/runtime/debuggable");
    const struct = require(
      require.resolve("google-protobuf/google/protobuf/struct_pb", {
        paths: [require.resolve("@pulumi/pulumi")],
      }),
    ).Struct;
    const resource = pulumi.Resource as unknown as { callsites(): unknown[] };
    const sdk = () => [
      resource.callsites,
      struct.fromJavaScript,
      debuggable.debuggablePromise,
      rpc.serializeResourceProperties,
      rpc.transferProperties,
    ];
    const before = sdk();
    // A run with the savings, not from the cache.
    const run = await renderWith("dev", () => undefined);
    assert.ok(run.registrations.length > 300);
    assert.deepEqual(sdk(), before);
    // The originals: the SDK's own functions, defined in its files.
    assert.match(String(rpc.transferProperties), /Property '\$\{k\}' is already initialized/);
    assert.match(String(debuggable.debuggablePromise), /leakCandidates/);
  });
});
