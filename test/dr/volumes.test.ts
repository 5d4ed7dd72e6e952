/**
 * Volume data restores in another region: every workload that keeps data on a PersistentVolumeClaim is in a
 * Velero Schedule that copies its volumes with the node agent's file-system backup (Kopia, into the backup
 * location's blob container), never only as Azure disk snapshots, which cannot leave their region.
 */
import * as assert from "node:assert/strict";
import { NAMESPACES } from "../../lib/names";
import { clusterManifests, requireCharts } from "../support/cluster";
import { manifests, rendered, type StackName } from "../support/estate";

interface Workload {
  ref: string;
  namespace: string;
}

/** Workloads with persistent volumes: PVC templates, pod volumes on claims, and the operators' data CRs. */
function pvcWorkloads(objects: Record<string, any>[]): Workload[] {
  const out: Workload[] = [];
  for (const o of objects) {
    const namespace = o.metadata?.namespace ?? "default";
    const ref = `${o.kind} ${namespace}/${o.metadata?.name}`;
    const pod = o.spec?.template?.spec;
    const claims =
      (o.spec?.volumeClaimTemplates ?? []).length > 0 ||
      (pod?.volumes ?? []).some((v: any) => v.persistentVolumeClaim);
    // Operator-managed StatefulSets: RabbitMQ's persistence, Prometheus' and Alertmanager's storage.
    const operated =
      (o.kind === "RabbitmqCluster" && o.spec?.persistence?.storage !== "0") ||
      ((o.kind === "Prometheus" || o.kind === "Alertmanager") && o.spec?.storage?.volumeClaimTemplate);
    if (claims || operated || o.kind === "PersistentVolumeClaim") out.push({ ref, namespace });
  }
  return out;
}

function includes(template: any, namespace: string): boolean {
  if ((template.excludedNamespaces ?? []).includes(namespace)) return false;
  const included: string[] = template.includedNamespaces ?? [];
  return included.length === 0 || included.includes("*") || included.includes(namespace);
}

/** The Schedules whose backups carry the namespace's volume data with file-system backup. */
function fsSchedules(schedules: Record<string, any>[], namespace: string): string[] {
  return schedules
    .filter((s) => s.spec.paused !== true)
    .filter((s) => includes(s.spec.template, namespace))
    .filter((s) => s.spec.template.defaultVolumesToFsBackup === true)
    .map((s) => s.metadata.name);
}

async function schedulesOf(stack: StackName) {
  return manifests(await rendered(stack), "Schedule");
}

describe("volume backups restore in another region", () => {
  for (const stack of ["prod", "dr"] as const) {
    it(`${stack}: RabbitMQ's volumes are in the hourly file-system backup (the RPO)`, async () => {
      const own = pvcWorkloads(manifests(await rendered(stack)));
      const rabbit = own.filter((w) => w.ref.startsWith("RabbitmqCluster "));
      assert.ok(rabbit.length > 0, "no RabbitmqCluster with persistence in the render");
      const schedules = await schedulesOf(stack);
      for (const w of rabbit) assert.ok(fsSchedules(schedules, w.namespace).includes("hourly"), w.ref);
      for (const s of schedules) assert.notEqual(s.spec.template.snapshotVolumes, true, s.metadata.name);
    });

    it(`${stack}: every PVC-bearing workload of the program and the charts is in a file-system backup`, async function () {
      requireCharts(this);
      const workloads = pvcWorkloads(await clusterManifests(stack));
      assert.ok(workloads.length >= 3, `only ${workloads.length} PVC-bearing workloads found`);
      const schedules = await schedulesOf(stack);
      const uncovered = workloads.filter((w) => fsSchedules(schedules, w.namespace).length === 0);
      assert.deepEqual(uncovered, [], "volumes no Schedule copies with file-system backup");
    });

    it(`${stack}: the node agent runs on every node, whatever its taints, to read the pods' volumes`, async function () {
      requireCharts(this);
      const agents = (await clusterManifests(stack, "DaemonSet")).filter(
        (d) => d.metadata.namespace === NAMESPACES.velero,
      );
      assert.equal(agents.length, 1, "Velero's node agent DaemonSet");
      const tolerations = agents[0].spec.template.spec.tolerations ?? [];
      assert.ok(
        tolerations.some((t: any) => t.operator === "Exists" && t.key === undefined),
        JSON.stringify(tolerations),
      );
    });
  }

  it("a workload left out of every file-system Schedule is reported", async () => {
    // The check itself: drop the daily full backup's wildcard and the monitoring volumes are uncovered.
    const schedules = (await schedulesOf("prod")).map((s) => structuredClone(s));
    for (const s of schedules)
      if (s.metadata.name === "daily-full") s.spec.template.includedNamespaces = ["rabbitmq"];
    assert.deepEqual(fsSchedules(schedules, NAMESPACES.monitoring), []);
    assert.deepEqual(fsSchedules(schedules, "rabbitmq").sort(), ["daily-full", "hourly"]);
  });
});
