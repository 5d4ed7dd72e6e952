/**
 * Validates rendered Kubernetes objects against their upstream schemas: kubernetes-models for core types,
 * @kubernetes-models/* for Istio, KEDA, prometheus-operator, VPA and cert-manager, and ajv over the
 * openAPIV3Schema of the Flagger and Velero CRDs in the fixtures' crds/ (tools/fixtures.ts `crdsDir()`), and of
 * the CRDs the charts ship once registered with `registerCrds` (RabbitMQ's, prometheus-operator's, cert-manager's,
 * Istio's): a kind with a registered CRD is validated against it rather than against a model package. An object
 * of a kind with no schema fails.
 *
 * The model packages are ES modules, so call `await loadValidators(manifests)` once (e.g. in `before`) before
 * the synchronous `validateManifest`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import { crdsDir } from "../../tools/fixtures";

/** Upstream CRDs of Flagger and Velero (not copied into the project): `<fixtures>/crds`. */
export const CRDS_DIR = crdsDir();

type Manifest = Record<string, any>;
type Validator = (m: Manifest) => string[];

/** npm package holding the models of an API group; the core group ("") and built-in groups are kubernetes-models. */
const MODEL_PACKAGES: [test: (group: string) => boolean, pkg: string][] = [
  [(g) => g.endsWith(".istio.io"), "@kubernetes-models/istio"],
  [(g) => g === "keda.sh" || g === "eventing.keda.sh", "@kubernetes-models/keda"],
  [(g) => g === "monitoring.coreos.com", "@kubernetes-models/prometheus-operator"],
  [(g) => g === "autoscaling.k8s.io", "@kubernetes-models/autoscaler"],
  [(g) => g === "cert-manager.io" || g === "acme.cert-manager.io", "@kubernetes-models/cert-manager"],
  [
    (g) => g === "" || g.endsWith(".k8s.io") || ["apps", "policy", "autoscaling", "batch"].includes(g),
    "kubernetes-models",
  ],
];

/** Groups validated from the fixtures' CRDs. */
const CRD_GROUPS = new Set(["flagger.app", "velero.io"]);

const validators = new Map<string, Validator>();
const unavailable = new Map<string, string>();

const keyOf = (apiVersion: string, kind: string) => `${apiVersion}/${kind}`;
const groupOf = (apiVersion: string) => (apiVersion.includes("/") ? apiVersion.split("/")[0] : "");

/** Whether the CRD directory is present. */
export function crdsAvailable(): boolean {
  return fs.existsSync(CRDS_DIR);
}

/** Whether a manifest's kind is validated from ../shared/crds. */
export function needsCrds(m: Manifest): boolean {
  return CRD_GROUPS.has(groupOf(String(m.apiVersion ?? "")));
}

/**
 * Skips the calling test when ../shared/crds is absent on a laptop (saying why); fails it in CI, where a missing
 * validator must never pass silently.
 */
export function requireCrds(ctx: Mocha.Context): void {
  if (crdsAvailable()) return;
  const why = `CRD schemas for Flagger and Velero not found at ${CRDS_DIR}`;
  if (process.env.CI === "true") throw new Error(`${why}: CI must validate them`);
  console.log(`      skipped: ${why}`);
  ctx.skip();
}

/**
 * Kubernetes' structural-schema semantics for ajv: `nullable`, int-or-string, and unknown fields rejected where the
 * CRD does not preserve them (what `kubectl apply` with strict field validation reports).
 */
function toJsonSchema(schema: any): any {
  if (Array.isArray(schema)) return schema.map(toJsonSchema);
  if (!schema || typeof schema !== "object") return schema;
  const out: any = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k.startsWith("x-kubernetes-") || k === "nullable") continue;
    if (k === "properties")
      out.properties = Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, toJsonSchema(s)]));
    else if (["items", "additionalProperties", "not"].includes(k)) out[k] = toJsonSchema(v);
    else if (["allOf", "anyOf", "oneOf"].includes(k)) out[k] = (v as any[]).map(toJsonSchema);
    else out[k] = v;
  }
  if (schema["x-kubernetes-int-or-string"]) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }];
  }
  if (schema.nullable && typeof out.type === "string") out.type = [out.type, "null"];
  if (
    out.type === "object" &&
    out.properties &&
    out.additionalProperties === undefined &&
    !schema["x-kubernetes-preserve-unknown-fields"]
  ) {
    out.additionalProperties = false;
  }
  return out;
}

/** CRD schemas by `<apiVersion>/<kind>`, compiled on first use; each names where its CRD came from. */
const crdSchemas = new Map<string, { schema: any; source: string }>();
let crdAjv: Ajv | undefined;

/**
 * CRD patterns are Go (RE2) expressions, checked by the API server. JavaScript has no inline flag groups: a
 * `(?i)` (as in `^(?i)(abort|warn)?$`) becomes the expression's flag. RE2's `U` (ungreedy) has no equivalent.
 */
const goRegExp = Object.assign(
  (pattern: string, flags: string) => {
    let extra = "";
    const plain = pattern.replace(/\(\?([imsU]+)\)/g, (_group, f: string) => {
      extra += f.replace(/U/g, "");
      return "";
    });
    return new RegExp(plain, `${flags}${[...new Set(extra)].join("")}`);
  },
  { code: "new RegExp" },
);

function ajvForCrds(): Ajv {
  if (crdAjv) return crdAjv;
  crdAjv = new Ajv({ strict: false, allErrors: true, code: { regExp: goRegExp } });
  addFormats(crdAjv);
  // Formats the API server does not check (it ignores unknown ones, e.g. Flagger's "url" and "string").
  for (const f of ["int32", "int64", "byte", "float", "double", "string", "url"]) crdAjv.addFormat(f, true);
  return crdAjv;
}

/**
 * Registers the schemas of CustomResourceDefinitions (every served version); objects of their kinds are then
 * validated against them, ahead of any model package. `source` names where they came from, for messages.
 */
export function registerCrds(docs: Manifest[], source: string): void {
  for (const doc of docs) {
    if (doc?.kind !== "CustomResourceDefinition") continue;
    for (const version of doc.spec?.versions ?? []) {
      if (version.served === false) continue;
      const key = keyOf(`${doc.spec.group}/${version.name}`, doc.spec.names.kind);
      const schema = version.schema?.openAPIV3Schema ?? {};
      const known = crdSchemas.get(key);
      // The same CRD again (another stack's render): keep its compiled validator.
      if (known && JSON.stringify(known.schema) === JSON.stringify(schema)) continue;
      crdSchemas.set(key, { schema, source });
      validators.delete(key);
    }
  }
}

/** The source of the CRD registered for an object's kind, or undefined. */
export function crdSourceOf(m: Manifest): string | undefined {
  return crdSchemas.get(keyOf(String(m.apiVersion ?? ""), String(m.kind ?? "")))?.source;
}

function crdValidator(key: string): Validator | undefined {
  const entry = crdSchemas.get(key);
  if (!entry) return undefined;
  const schema = toJsonSchema(entry.schema);
  // The API server adds apiVersion, kind and metadata to every CRD schema (some, like Istio's, omit them);
  // metadata is validated by its ObjectMeta, not the CRD.
  if (schema.properties)
    Object.assign(schema.properties, {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
    });
  const validate: ValidateFunction = ajvForCrds().compile(schema);
  const validator: Validator = (m) =>
    validate(m)
      ? []
      : (validate.errors ?? []).map(
          (e) =>
            `${e.instancePath || "/"} ${e.message}${e.params && "additionalProperty" in e.params ? ` (${e.params.additionalProperty})` : ""}`,
        );
  validators.set(key, validator);
  return validator;
}

function loadCrdValidators(): void {
  for (const file of fs.readdirSync(CRDS_DIR).filter((f) => f.endsWith(".yaml"))) {
    registerCrds(yaml.loadAll(fs.readFileSync(path.join(CRDS_DIR, file), "utf8")) as Manifest[], file);
  }
}

/** RabbitMQ publishes no schema package: a structural check of the fields the estate sets. */
const RABBITMQ_FIELDS = new Set([
  "replicas",
  "image",
  "imagePullSecrets",
  "service",
  "persistence",
  "resources",
  "affinity",
  "tolerations",
  "rabbitmq",
  "tls",
  "override",
  "skipPostDeployChecks",
  "terminationGracePeriodSeconds",
  "secretBackend",
  "delayStartSeconds",
]);
function rabbitmqCluster(m: Manifest): string[] {
  const errors: string[] = [];
  const spec = m.spec ?? {};
  for (const key of Object.keys(spec))
    if (!RABBITMQ_FIELDS.has(key)) errors.push(`/spec/${key} is not a RabbitmqCluster field`);
  if (spec.replicas !== undefined && !Number.isInteger(spec.replicas))
    errors.push("/spec/replicas must be an integer");
  const p = spec.persistence;
  if (p && (typeof p.storage !== "string" || !/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti)?$/.test(p.storage)))
    errors.push("/spec/persistence/storage must be a quantity");
  if (p && Object.keys(p).some((k) => !["storage", "storageClassName"].includes(k)))
    errors.push("/spec/persistence has unknown fields");
  return errors;
}

/**
 * Messaging topology operator User and Permission (rabbitmq.com/v1beta1, api/v1beta1/user_types.go and
 * permission_types.go): structural checks of their spec fields, as for RabbitmqCluster.
 */
const TOPOLOGY_FIELDS: Record<string, { fields: Set<string>; required: string[] }> = {
  User: {
    fields: new Set(["tags", "rabbitmqClusterReference", "importCredentialsSecret"]),
    required: ["rabbitmqClusterReference"],
  },
  Permission: {
    fields: new Set(["user", "userReference", "vhost", "permissions", "rabbitmqClusterReference"]),
    required: ["vhost", "permissions", "rabbitmqClusterReference"],
  },
};
const CLUSTER_REFERENCE_FIELDS = ["name", "namespace", "connectionSecret"];
function topologyObject(kind: string): Validator {
  const { fields, required } = TOPOLOGY_FIELDS[kind];
  return (m) => {
    const errors: string[] = [];
    const spec = m.spec ?? {};
    for (const key of Object.keys(spec))
      if (!fields.has(key)) errors.push(`/spec/${key} is not a ${kind} field`);
    for (const key of required) if (spec[key] === undefined) errors.push(`/spec/${key} is required`);
    const ref = spec.rabbitmqClusterReference ?? {};
    if (Object.keys(ref).some((k) => !CLUSTER_REFERENCE_FIELDS.includes(k)))
      errors.push("/spec/rabbitmqClusterReference has unknown fields");
    for (const key of ["importCredentialsSecret", "userReference"]) {
      const local = spec[key];
      if (local !== undefined && (typeof local?.name !== "string" || Object.keys(local).length !== 1))
        errors.push(`/spec/${key} must be a LocalObjectReference ({ name })`);
    }
    if (kind === "Permission") {
      if (!spec.user === !spec.userReference)
        errors.push("/spec needs exactly one of user and userReference");
      const p = spec.permissions ?? {};
      for (const [k, v] of Object.entries(p))
        if (!["configure", "write", "read"].includes(k) || typeof v !== "string")
          errors.push(`/spec/permissions/${k} is not a string permission (configure, write, read)`);
    }
    if (kind === "User" && spec.tags !== undefined) {
      const allowed = ["management", "policymaker", "monitoring", "administrator"];
      if (!Array.isArray(spec.tags) || spec.tags.some((t: unknown) => !allowed.includes(String(t))))
        errors.push(`/spec/tags must be a list of ${allowed.join(", ")}`);
    }
    return errors;
  };
}

async function loadModel(apiVersion: string, kind: string): Promise<void> {
  const key = keyOf(apiVersion, kind);
  if (validators.has(key) || unavailable.has(key) || crdSchemas.has(key)) return;
  const group = groupOf(apiVersion);
  if (group === "rabbitmq.com" && kind === "RabbitmqCluster") {
    validators.set(key, rabbitmqCluster);
    return;
  }
  if (apiVersion === "rabbitmq.com/v1beta1" && Object.hasOwn(TOPOLOGY_FIELDS, kind)) {
    validators.set(key, topologyObject(kind));
    return;
  }
  const pkg = MODEL_PACKAGES.find(([test]) => test(group))?.[1];
  if (!pkg) {
    unavailable.set(key, `no schema known for ${key}`);
    return;
  }
  try {
    const mod = await import(`${pkg}/${apiVersion}/${kind}`);
    const Model = mod[kind];
    if (typeof Model !== "function") throw new Error(`${pkg} has no ${kind}`);
    validators.set(key, (m) => {
      try {
        new Model(m).validate();
        return [];
      } catch (e) {
        return [(e as Error).message];
      }
    });
  } catch (e) {
    unavailable.set(key, `no schema for ${key} in ${pkg}: ${(e as Error).message.split("\n")[0]}`);
  }
}

let crdsLoaded = false;

/** Loads the validators the given manifests need (model modules are ES modules: loading is asynchronous). */
export async function loadValidators(manifests: Manifest[]): Promise<void> {
  if (!crdsLoaded && crdsAvailable()) {
    loadCrdValidators();
    crdsLoaded = true;
  }
  for (const m of manifests) {
    if (!needsCrds(m)) await loadModel(String(m.apiVersion ?? ""), String(m.kind ?? ""));
  }
}

/** Pulumi's marker of a secret value in recorded inputs ({ [SECRET_SIG]: ..., value }). */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The manifest as applied: secret markers of the mock runtime replaced by their values. */
export function unwrapSecrets(value: unknown): any {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (!value || typeof value !== "object") return value;
  if (SECRET_SIG in value) return unwrapSecrets((value as unknown as { value: unknown }).value);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** Errors of one manifest against its upstream schema; an empty list means valid. Unknown kinds are errors. */
export function validateManifest(input: Manifest): string[] {
  const manifest = unwrapSecrets(input) as Manifest;
  const apiVersion = String(manifest.apiVersion ?? "");
  const kind = String(manifest.kind ?? "");
  const where = `${kind} ${manifest.metadata?.namespace ? `${manifest.metadata.namespace}/` : ""}${manifest.metadata?.name}`;
  const errors: string[] = [];
  if (!manifest.metadata?.name) errors.push("metadata.name is required");
  const key = keyOf(apiVersion, kind);
  const validator = validators.get(key) ?? crdValidator(key);
  if (!validator) {
    if (needsCrds(manifest) && !crdsAvailable()) errors.push(`no CRD schema: ${CRDS_DIR} is absent`);
    else errors.push(unavailable.get(key) ?? `validator for ${key} not loaded: call loadValidators first`);
  } else {
    errors.push(...validator(manifest));
  }
  return errors.map((e) => `${where}: ${e}`);
}
