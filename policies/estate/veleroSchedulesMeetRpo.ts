import type { StackValidationPolicy } from "@pulumi/policy";
import { durationSeconds, humanDuration } from "../../lib/duration";
import { configOf, schema } from "../lib/config";
import { maxIntervalSeconds } from "../lib/cron";
import { objectsOf, type K8sObject } from "../lib/kubernetes";

const configSchema = schema({
  rpoMinutes: { type: "integer", minimum: 1, default: 60, description: "Recovery point objective." },
  protectedNamespaces: {
    type: "array",
    items: { type: "string" },
    default: [],
    description:
      "Namespaces whose data must be backed up within the RPO (the application and data-bearing ones).",
  },
  volumesLeaveRegion: {
    type: "boolean",
    default: false,
    description:
      "Volume data must restore in another region: a Schedule counts only when it copies volumes with file-system backup or snapshot data movement, never as disk snapshots alone (prod and dr).",
  },
});

interface Config {
  rpoMinutes: number;
  protectedNamespaces: string[];
  volumesLeaveRegion: boolean;
}

/**
 * Whether a Schedule's volume data lands in the backup location (restorable anywhere it is readable): Kopia
 * file-system backup of every pod volume, or CSI snapshots moved into the location (snapshotMoveData).
 */
function copiesVolumeData(schedule: K8sObject): boolean {
  const template = schedule.props.spec?.template ?? {};
  return template.defaultVolumesToFsBackup === true || template.snapshotMoveData === true;
}

/** Whether a schedule's backups include the namespace (no includedNamespaces, or "*", means all). */
function includes(schedule: K8sObject, namespace: string): boolean {
  const template = schedule.props.spec?.template ?? {};
  const included = (template.includedNamespaces ?? []) as string[];
  const excluded = (template.excludedNamespaces ?? []) as string[];
  if (excluded.includes(namespace)) return false;
  return included.length === 0 || included.includes("*") || included.includes(namespace);
}

/** The data lost in a disaster is at most the gap between two backups: that gap must fit the RPO. */
export const veleroSchedulesMeetRpo: StackValidationPolicy = {
  name: "velero-schedules-meet-rpo",
  description:
    "Velero Schedules back up every protected namespace at least once per RPO and keep each backup until the next.",
  enforcementLevel: "mandatory",
  severity: "high",
  configSchema,
  validateStack: (args, reportViolation) => {
    const config = configOf<Config>(configSchema, args);
    const rpoSeconds = config.rpoMinutes * 60;
    const meeting: K8sObject[] = [];
    for (const schedule of objectsOf(args.resources, "velero.io", "Schedule")) {
      let interval: number;
      try {
        interval = maxIntervalSeconds(String(schedule.props.spec?.schedule ?? ""));
      } catch (e) {
        reportViolation(`Schedule ${schedule.ref}: ${(e as Error).message}.`, schedule.urn);
        continue;
      }
      const ttl = schedule.props.spec?.template?.ttl;
      // Velero writes TTLs as Go durations ("72h0m0s"); the estate writes the short form.
      const ttlSeconds =
        typeof ttl === "string" && /^\d+[smhd]$/.test(ttl) ? durationSeconds(ttl) : undefined;
      if (ttlSeconds !== undefined && ttlSeconds < interval) {
        reportViolation(
          `Schedule ${schedule.ref} keeps backups ${ttl}, less than the ${humanDuration(interval)} between runs.`,
          schedule.urn,
        );
      }
      if (config.volumesLeaveRegion && !copiesVolumeData(schedule)) {
        reportViolation(
          `Schedule ${schedule.ref} keeps volume data only as disk snapshots, which cannot be restored in another region; set template.defaultVolumesToFsBackup (or snapshotMoveData).`,
          schedule.urn,
        );
        continue;
      }
      if (schedule.props.spec?.paused !== true && interval <= rpoSeconds) meeting.push(schedule);
    }
    const namespaces = config.protectedNamespaces.length > 0 ? config.protectedNamespaces : [undefined];
    for (const namespace of namespaces) {
      if (!meeting.some((s) => namespace === undefined || includes(s, namespace))) {
        reportViolation(
          `no active Velero Schedule backs up ${namespace ?? "the cluster"} at least every ${humanDuration(rpoSeconds)} (RPO).`,
        );
      }
    }
  },
};
