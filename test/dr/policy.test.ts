/**
 * velero-schedules-meet-rpo with volumesLeaveRegion (prod and dr): a Schedule whose volume data would stay in the
 * region as disk snapshots does not count towards the RPO and is reported; the rendered stacks comply.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { veleroSchedulesMeetRpo } from "../../policies/estate/veleroSchedulesMeetRpo";
import { mutate, resource, violationsOf } from "../policies/support";
import { rendered } from "../support/estate";

const SCHEDULE = "kubernetes:velero.io/v1:Schedule";
// As Velero's Schedule CRD (../shared/crds/velero.io_schedules.yaml) names the template's fields.
const hourly = {
  apiVersion: "velero.io/v1",
  kind: "Schedule",
  metadata: { name: "hourly", namespace: "velero" },
  spec: {
    schedule: "0 * * * *",
    template: {
      includedNamespaces: ["rabbitmq"],
      ttl: "72h",
      defaultVolumesToFsBackup: true,
      snapshotVolumes: false,
    },
  },
};
const config = { rpoMinutes: 60, protectedNamespaces: ["rabbitmq"], volumesLeaveRegion: true };

describe("velero-schedules-meet-rpo: volume data that leaves the region", () => {
  it("an hourly file-system backup complies; the same Schedule with disk snapshots only does not", async () => {
    assert.deepEqual(await violationsOf(veleroSchedulesMeetRpo, [resource(SCHEDULE, hourly)], config), []);
    const snapshots = mutate(
      mutate(hourly, "spec.template.defaultVolumesToFsBackup", false),
      "spec.template.snapshotVolumes",
      true,
    );
    const found = (await violationsOf(veleroSchedulesMeetRpo, [resource(SCHEDULE, snapshots)], config)).map(
      (v) => v.message,
    );
    assert.ok(
      found.some((m) => /only as disk snapshots, which cannot be restored in another region/.test(m)),
    );
    assert.ok(found.some((m) => /no active Velero Schedule backs up rabbitmq/.test(m)));
    // CSI snapshots moved into the backup location restore elsewhere too.
    const moved = mutate(snapshots, "spec.template.snapshotMoveData", true);
    assert.deepEqual(await violationsOf(veleroSchedulesMeetRpo, [resource(SCHEDULE, moved)], config), []);
  });

  for (const stack of ["prod", "dr"] as const) {
    it(`${stack}'s rendered Schedules comply with its policy config`, async () => {
      const file = path.resolve(__dirname, "..", "..", "policies", "config", `${stack}.json`);
      const stackConfig = JSON.parse(fs.readFileSync(file, "utf8"))["velero-schedules-meet-rpo"];
      assert.equal(stackConfig.volumesLeaveRegion, true);
      const run = await rendered(stack);
      const entries = run.registrations
        .filter((r) => r.type === SCHEDULE)
        .map((r) => resource(SCHEDULE, r.inputs as Record<string, any>, r.name));
      assert.equal(entries.length, 2);
      assert.deepEqual(await violationsOf(veleroSchedulesMeetRpo, entries, stackConfig), []);
    });
  }
});
