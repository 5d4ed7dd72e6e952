/**
 * Running one policy in a test the way the offline runner (and the policy SDK) runs it: through
 * `runPolicies` with only that policy, so config defaults, enforcement levels and notApplicable behave as
 * in a real check. Cases mutate one field of a compliant baseline.
 */
import * as assert from "node:assert/strict";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { runPolicies, type ResourceEntry, type Violation } from "../../tools/policy";

export type Json = Record<string, any>;

/** A resource entry of a type with the given props. */
export function resource(type: string, props: Json, name = "r"): ResourceEntry {
  return { urn: `urn:pulumi:test::aiwp-estate::${type}::${name}`, type, name, parent: null, inputs: props };
}

/** A deep copy of `value` with the dotted `path` ("spec.containers.0.image") set, or deleted when `to` is undefined. */
export function mutate<T>(value: T, path: string, to: unknown): T {
  const copy = structuredClone(value) as Json;
  const keys = path.split(".");
  let node: Json = copy;
  for (const key of keys.slice(0, -1)) {
    if (node[key] === undefined) node[key] = {};
    node = node[key];
  }
  const last = keys[keys.length - 1];
  if (to === undefined) delete node[last];
  else node[last] = to;
  return copy as T;
}

/** Violations of one policy over the resources, with an optional config for it. */
export async function violationsOf(
  policy: ResourceValidationPolicy | StackValidationPolicy,
  resources: ResourceEntry[],
  config: Json = {},
): Promise<Violation[]> {
  return runPolicies(resources, { [policy.name]: config }, [policy]);
}

export async function assertCompliant(
  policy: ResourceValidationPolicy | StackValidationPolicy,
  resources: ResourceEntry[],
  config: Json = {},
): Promise<void> {
  const violations = await violationsOf(policy, resources, config);
  assert.deepEqual(
    violations.map((v) => v.message),
    [],
    `${policy.name} should pass`,
  );
}

export async function assertViolates(
  policy: ResourceValidationPolicy | StackValidationPolicy,
  resources: ResourceEntry[],
  expected: RegExp,
  config: Json = {},
): Promise<void> {
  const violations = await violationsOf(policy, resources, config);
  assert.ok(violations.length > 0, `${policy.name} should report a violation`);
  assert.ok(
    violations.some((v) => expected.test(v.message)),
    `${policy.name}: no message matches ${expected}: ${violations.map((v) => v.message).join(" | ")}`,
  );
  assert.ok(!violations.some((v) => v.message.startsWith("policy failed")), "the policy must not crash");
}
