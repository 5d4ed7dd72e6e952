/**
 * What the Pulumi SDK does on every resource that only a real engine reads, switched off while the render
 * harness runs the program under mocks. Each saving leaves the registrations (type, name, parent, inputs)
 * and the outputs the program sees exactly as they are without it; `offlineRuntime()` returns the function
 * that restores the SDK, which runProgram calls when the run ends. test/tools/offline.test.ts runs every
 * stack with and without them and compares. The counts of Outputs below were taken by counting OutputImpl
 * constructions in a render of prod and of ten times its services.
 *
 * References are to the Node.js SDK at the pinned version (sdk/nodejs in pulumi/pulumi, v3.270.0).
 */
import * as pulumi from "@pulumi/pulumi";
import { isGrpcError } from "@pulumi/pulumi/errors";
import { specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";

/**
 * google-protobuf's Struct, resolved from the SDK's own directory so that the instance patched is the one
 * the SDK uses, however npm lays out node_modules.
 */
interface StructClass {
  new (): { toJavaScript(): Record<string, unknown>; getFieldsMap(): unknown };
  fromJavaScript(obj: Record<string, unknown>): InstanceType<StructClass>;
}
function structClass(): StructClass {
  const sdk = require.resolve("@pulumi/pulumi");
  const file = require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [sdk] });
  return (require(file) as { Struct: StructClass }).Struct;
}

/** A deep copy of a JSON-like value with every object's keys in sorted order. */
function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedCopy);
  if (value === null || typeof value !== "object") return value;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort())
    copy[key] = sortedCopy((value as Record<string, unknown>)[key]);
  return copy;
}

const NOT_PLAIN = Symbol("not plain");

/**
 * What serializeProperty makes of a value built only of plain objects, arrays and primitives: the same
 * value with undefined and function members dropped from objects and turned into null in arrays, keys in
 * sorted order. NOT_PLAIN for anything else (an Output, a promise, a resource, an asset, any class
 * instance).
 */
function plainCopy(value: unknown): unknown {
  if (value === null || typeof value === "string" || typeof value === "number" || typeof value === "boolean")
    return value;
  if (value === undefined || typeof value === "function") return undefined;
  if (typeof value !== "object") return NOT_PLAIN;
  if (Array.isArray(value)) {
    const copy: unknown[] = [];
    for (const element of value) {
      const c = plainCopy(element);
      if (c === NOT_PLAIN) return NOT_PLAIN;
      copy.push(c === undefined ? null : c);
    }
    return copy;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const copy: Record<string, unknown> = {};
  const keys = Object.keys(value);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1] > keys[i]) {
      keys.sort();
      break;
    }
  }
  for (const key of keys) {
    const c = plainCopy((value as Record<string, unknown>)[key]);
    if (c === NOT_PLAIN) return NOT_PLAIN;
    if (c !== undefined) copy[key] = c;
  }
  return copy;
}

/**
 * Whether a serialized value holds anything deserializeProperty turns into something else: a value with
 * Pulumi's signature key (secret, asset, archive, resource reference, output value) or the unknown
 * sentinel (runtime/rpc.ts specialSigKey, unknownValue). Without one, deserializing is a plain copy.
 */
export function hasSpecial(value: unknown): boolean {
  if (typeof value === "string") return value === unknownValue;
  if (value === null || typeof value !== "object") return false;
  if (Array.isArray(value)) return value.some(hasSpecial);
  if (specialSigKey in value) return true;
  for (const key in value) if (hasSpecial((value as Record<string, unknown>)[key])) return true;
  return false;
}

/** Serialized inputs built here with their keys already sorted: their Struct hands them back as they are. */
const presorted = new WeakSet<object>();

type Resolver = (
  value: unknown,
  isKnown: boolean,
  isSecret: boolean,
  deps?: unknown[],
  err?: unknown,
) => void;

interface Settled {
  value: unknown;
  isKnown: boolean;
  isSecret: boolean;
  deps: unknown[];
  err?: unknown;
}

/** transferProperties (runtime/rpc.ts) with each property's Output made when it is first read. */
function lazyTransfer(onto: object, label: string, props: Record<string, unknown>): Record<string, Resolver> {
  const OutputClass = pulumi.Output as unknown as new (
    resources: unknown,
    promise: Promise<unknown>,
    isKnown: Promise<boolean>,
    isSecret: Promise<boolean>,
    allResources: Promise<unknown[]>,
  ) => unknown;
  const resolvers: Record<string, Resolver> = {};
  for (const key of Object.keys(props)) {
    // As the SDK: id and urn are handled apart.
    if (key === "id" || key === "urn") continue;
    if (Object.prototype.hasOwnProperty.call(onto, key)) {
      throw new Error(`Property '${key}' is already initialized on target '${label}`);
    }
    let settled: Settled | undefined;
    let settle: ((s: Settled) => void) | undefined;
    let output: unknown;
    const make = () => {
      if (output !== undefined) return output;
      const fate = (pick: (s: Settled) => unknown) =>
        settled
          ? settled.err !== undefined
            ? Promise.reject(settled.err)
            : Promise.resolve(pick(settled))
          : new Promise<never>((resolve, reject) => {
              const previous = settle;
              settle = (s) => {
                previous?.(s);
                if (s.err !== undefined) reject(s.err);
                else resolve(pick(s) as never);
              };
            });
      output = new OutputClass(
        onto,
        fate((s) => s.value),
        fate((s) => s.isKnown) as Promise<boolean>,
        fate((s) => s.isSecret) as Promise<boolean>,
        fate((s) => s.deps) as Promise<unknown[]>,
      );
      return output;
    };
    Object.defineProperty(onto, key, {
      configurable: true,
      enumerable: true,
      get: make,
      set: (value) =>
        Object.defineProperty(onto, key, { value, writable: true, enumerable: true, configurable: true }),
    });
    resolvers[key] = (value, isKnown, isSecret, deps = [], err) => {
      // As the SDK: a cancelled or unavailable engine leaves the property pending.
      if (err && isGrpcError(err as Error)) return;
      settled = { value, isKnown, isSecret, deps, err };
      // A rejection nobody reads would be unhandled: an error makes the Output at once, as the SDK does.
      if (err !== undefined) make();
      settle?.(settled);
    };
  }
  return resolvers;
}

export function offlineRuntime(): () => void {
  const undo: (() => void)[] = [];

  // 1. Aliases. Every azure-native resource lists the type names of its earlier API versions as aliases
  //    (dozens per type), and `new Resource` turns each into a URN Output at once (resource.ts
  //    collapseAliasToUrn, about nine Outputs per alias): 28,000 of prod's 32,000 Outputs. The engine uses
  //    aliases only to match resources in an existing state; a render has none, and resources.json does not
  //    list them. A stack transformation (the SDK's public hook, run before the collapse) drops them.
  pulumi.runtime.registerStackTransformation(({ props, opts }) =>
    opts.aliases ? { props, opts: { ...opts, aliases: undefined } } : undefined,
  );

  // 2. Source positions. `new Resource` captures an unlimited stack trace (resource.ts Resource.callsites
  //    sets Error.stackTraceLimit to Infinity) to send the engine the user's file and line; the mock
  //    monitor discards them.
  const resource = pulumi.Resource as unknown as { callsites(): unknown[] };
  const callsites = resource.callsites;
  resource.callsites = () => [];
  undo.push(() => (resource.callsites = callsites));

  // 3. Protobuf round trips. The SDK converts every request's serialized inputs to a protobuf Struct
  //    (runtime/resource.ts registerResource: Struct.fromJavaScript) that the in-process mock monitor only
  //    turns back into a plain object (rpc.ts deserializeProperties calls toJavaScript()): a copy whose
  //    keys come out sorted, since google-protobuf's Map iterates its keys in order. While the harness
  //    runs, a Struct keeps the object and hands back that same sorted copy without the protobuf values
  //    in between (the inputs saving 5 serializes are sorted already, and come back as they are: nothing
  //    downstream modifies them); anything asking for its fields (getFieldsMap) still gets a real
  //    conversion.
  const Struct = structClass();
  const fromJavaScript = Struct.fromJavaScript;
  Struct.fromJavaScript = (obj: Record<string, unknown>) => {
    const struct = new Struct();
    struct.toJavaScript = () => (presorted.has(obj) ? obj : (sortedCopy(obj) as Record<string, unknown>));
    struct.getFieldsMap = () => fromJavaScript.call(Struct, obj).getFieldsMap();
    return struct;
  };
  undo.push(() => (Struct.fromJavaScript = fromJavaScript));

  // 4. Promise bookkeeping. The SDK wraps its promises (runtime/debuggable.ts debuggablePromise) to give
  //    each an id, a context string and a stack trace, and keeps every one in a set until it settles, so
  //    that an engine run can name the promises still pending when the program exits. The harness awaits
  //    every registration itself (waitForRPCs) and runs nothing after exit.
  const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
    debuggablePromise<T>(p: Promise<T>, ctx: unknown): Promise<T>;
  };
  const debuggablePromise = debuggable.debuggablePromise;
  debuggable.debuggablePromise = (p) => p;
  undo.push(() => (debuggable.debuggablePromise = debuggablePromise));

  // 5. Serializing plain inputs. The SDK serializes a resource's inputs with one async call per value,
  //    however deep (runtime/rpc.ts serializeProperty, awaited key by key), so that it can await Outputs
  //    and promises wherever they sit. A property that holds none (only plain objects, arrays and
  //    primitives) serializes to itself less undefined members, and is copied here without the awaits;
  //    any other property takes the SDK's own path.
  const rpc = require("@pulumi/pulumi/runtime/rpc") as {
    serializeResourceProperties(
      label: string,
      props: Record<string, unknown>,
      opts?: unknown,
    ): Promise<[Record<string, unknown>, Map<string, Set<unknown>>]>;
  };
  const serializeResourceProperties = rpc.serializeResourceProperties;
  rpc.serializeResourceProperties = async (label, props, opts) => {
    const copies = new Map<string, unknown>();
    const rest: Record<string, unknown> = {};
    for (const key of Object.keys(props)) {
      const copy = plainCopy(props[key]);
      if (copy === NOT_PLAIN) rest[key] = props[key];
      else copies.set(key, copy);
    }
    const [serialized, dependencies] = await serializeResourceProperties.call(rpc, label, rest, opts);
    const result: Record<string, unknown> = {};
    const deps = new Map<string, Set<unknown>>();
    for (const key of Object.keys(props).sort()) {
      if (key === "id" || key === "urn") continue;
      const value = copies.has(key) ? copies.get(key) : sortedCopy(serialized[key]);
      if (value === undefined) continue;
      result[key] = value;
      deps.set(key, dependencies.get(key) ?? new Set());
    }
    presorted.add(result);
    return [result, deps];
  };
  undo.push(() => (rpc.serializeResourceProperties = serializeResourceProperties));

  // 6. Output properties nobody reads. When a resource is registered, the SDK puts an Output on it for
  //    every property its class declares (runtime/rpc.ts transferProperties): about seven per resource
  //    here (11,106 of the 15,000 Outputs with ten times the services; 4,500 remain with this saving),
  //    each an OutputImpl with about ten promises, most never read (status, kind, the dozens of Azure
  //    outputs). Here each property is a getter that makes its Output the first time it is
  //    read: from the value, if the registration has completed by then, else from promises the
  //    registration settles, as the SDK's own would be. A resource's properties read the same either way.
  const rpcTransfer = rpc as unknown as {
    transferProperties(onto: object, label: string, props: Record<string, unknown>): Record<string, Resolver>;
  };
  const transferProperties = rpcTransfer.transferProperties;
  rpcTransfer.transferProperties = (onto, label, props) => lazyTransfer(onto, label, props);
  undo.push(() => (rpcTransfer.transferProperties = transferProperties));

  return () => undo.reverse().forEach((u) => u());
}
