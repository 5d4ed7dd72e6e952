import assert from "node:assert/strict";
import { manifest, rendered } from "../support/estate";
import { AMQP_SECRET, MONITORING_SELECTOR, NAMESPACES, appNamespace } from "../../lib/names";
import {
  APP_USER,
  APP_USER_CREDENTIALS,
  RABBITMQ_CLUSTER,
  amqpUri,
  operatorValues,
  queuePermissions,
} from "../../components/rabbitmq";
import { QUEUE_AUTHENTICATION } from "../../components/workloads";
import { renderFiles } from "../../tools/outputs";
import { secretPlaceholder } from "../../settings";

const APP_NS = appNamespace({ environment: "prod" });
const PASSWORD_PLACEHOLDER = secretPlaceholder({ key: "rabbitmqPassword", kind: "password" });

describe("rabbitmq", () => {
  it("prod runs 3 replicas spread across zones, with persistent storage", async () => {
    const spec = manifest(
      await rendered("prod"),
      "RabbitmqCluster",
      RABBITMQ_CLUSTER,
      NAMESPACES.rabbitmq,
    ).spec;
    assert.equal(spec.replicas, 3);
    assert.equal(spec.persistence.storage, "50Gi");
    const term =
      spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    assert.equal(term.topologyKey, "topology.kubernetes.io/zone");
  });

  it("its Prometheus endpoint is scraped by a ServiceMonitor the estate's Prometheus selects", async () => {
    const sm = manifest(await rendered("prod"), "ServiceMonitor", RABBITMQ_CLUSTER, NAMESPACES.rabbitmq);
    assert.deepEqual(sm.metadata.labels, MONITORING_SELECTOR);
    assert.equal(sm.spec.endpoints[0].port, "prometheus");
  });
});

describe("rabbitmq application credentials", () => {
  it("the operator chart runs the topology operator from the upstream image, on the system pool", () => {
    const topology = operatorValues().msgTopologyOperator as Record<string, any>;
    assert.equal(topology.enabled, true);
    assert.equal(topology.image.repository, "rabbitmqoperator/messaging-topology-operator");
    assert.deepEqual(topology.nodeSelector, { "kubernetes.azure.com/mode": "system" });
  });

  it("the AMQP secret exists in the application namespace with the key KEDA reads", async () => {
    const secret = manifest(await rendered("prod"), "Secret", AMQP_SECRET.name, APP_NS);
    const uri: string = secret.stringData[AMQP_SECRET.key];
    assert.equal(
      uri,
      `amqp://${APP_USER}:${encodeURIComponent(PASSWORD_PLACEHOLDER)}@${RABBITMQ_CLUSTER}.${NAMESPACES.rabbitmq}.svc.cluster.local:5672/%2F`,
    );
  });

  it("resources.json shows the AMQP URI and the imported password as [secret], never the password", async () => {
    const files = renderFiles(await rendered("prod"));
    const resources = JSON.parse(files.get("resources.json")!) as { inputs: Record<string, any> }[];
    const secretNamed = (name: string, ns: string) =>
      resources.find(
        (r) =>
          r.inputs.kind === "Secret" &&
          r.inputs.metadata?.name === name &&
          r.inputs.metadata?.namespace === ns,
      )!;
    // The whole stringData is a Pulumi secret (the URI is derived from the password), so it shows as one mark.
    assert.equal(secretNamed(AMQP_SECRET.name, APP_NS).inputs.stringData, "[secret]");
    assert.equal(secretNamed(APP_USER_CREDENTIALS, NAMESPACES.rabbitmq).inputs.stringData, "[secret]");
    assert.ok(!files.get("resources.json")!.includes(PASSWORD_PLACEHOLDER));
    assert.ok(!files.get("resources.json")!.includes(encodeURIComponent(PASSWORD_PLACEHOLDER)));
  });

  it("the User imports its credentials from a Secret with username and password next to it", async () => {
    const run = await rendered("prod");
    const user = manifest(run, "User", APP_USER, NAMESPACES.rabbitmq);
    assert.deepEqual(user.spec.rabbitmqClusterReference, { name: RABBITMQ_CLUSTER });
    assert.deepEqual(user.spec.importCredentialsSecret, { name: APP_USER_CREDENTIALS });
    const credentials = manifest(run, "Secret", APP_USER_CREDENTIALS, NAMESPACES.rabbitmq);
    assert.deepEqual(credentials.stringData, { username: APP_USER, password: PASSWORD_PLACEHOLDER });
  });

  it("the Permission grants the user the workflow queue on the default vhost only", async () => {
    const permission = manifest(
      await rendered("prod"),
      "Permission",
      `${APP_USER}-default-vhost`,
      NAMESPACES.rabbitmq,
    );
    assert.equal(permission.spec.vhost, "/");
    assert.deepEqual(permission.spec.userReference, { name: APP_USER });
    const read = new RegExp(permission.spec.permissions.read);
    const write = new RegExp(permission.spec.permissions.write);
    // workflow-service's queue in the prod catalogue (settings/defaults.ts).
    assert.ok(read.test("workflow-tasks") && read.test("workflow-tasks.dlq"));
    assert.ok(!read.test("billing") && !read.test("workflow-tasks-other"));
    assert.ok(write.test("amq.default") && !write.test("amq.topic"));
  });

  it("KEDA's TriggerAuthentication reads the same Secret and key the component writes", async () => {
    const auth = manifest(await rendered("prod"), "TriggerAuthentication", QUEUE_AUTHENTICATION, APP_NS);
    assert.deepEqual(auth.spec.secretTargetRef, [
      { parameter: "host", name: AMQP_SECRET.name, key: AMQP_SECRET.key },
    ]);
  });

  it("permissions escape regex characters and grant nothing without queues", () => {
    assert.deepEqual(queuePermissions([]), { configure: "", write: "", read: "" });
    assert.ok(!new RegExp(queuePermissions(["a.b"]).read).test("axb"));
  });

  it("the AMQP URI percent-encodes the password", () => {
    assert.equal(amqpUri("u", "p@s:s/w", { host: "h", port: 5672 }), "amqp://u:p%40s%3As%2Fw@h:5672/%2F");
  });
});
