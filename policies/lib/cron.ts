/**
 * The longest gap between two runs of a cron schedule as Velero reads it (robfig/cron: five fields or a
 * descriptor such as "@hourly" or "@every 30m"). Pure arithmetic for the RPO check.
 */
import { durationSeconds } from "../../lib/duration";

const DESCRIPTORS: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** The values a cron field allows within [min, max]; throws on a malformed field. */
function field(spec: string, min: number, max: number): Set<number> {
  const values = new Set<number>();
  for (const part of spec.split(",")) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) throw new Error(`"${spec}" is not a cron field`);
    const low = match[1] === "*" ? min : Number(match[2]);
    const high = match[1] === "*" ? max : match[3] !== undefined ? Number(match[3]) : match[4] ? max : low;
    const step = match[4] ? Number(match[4]) : 1;
    if (low < min || high > max || low > high || step < 1)
      throw new Error(`"${spec}" is out of range ${min}-${max}`);
    for (let v = low; v <= high; v += step) values.add(v);
  }
  return values;
}

const MINUTES_PER_WEEK = 7 * 24 * 60;

/** Longest interval in seconds between consecutive runs; throws on a schedule it cannot read. */
export function maxIntervalSeconds(schedule: string): number {
  const text = schedule.trim();
  if (text.startsWith("@every ")) return durationSeconds(text.slice("@every ".length).trim());
  const fields = (DESCRIPTORS[text] ?? text).split(/\s+/);
  if (fields.length !== 5) throw new Error(`"${schedule}" is not a five-field cron schedule`);
  const [minutes, hours, daysOfMonth, months, daysOfWeek] = fields;
  field(daysOfMonth, 1, 31);
  field(months, 1, 12);
  // A day-of-month or month restriction means runs at most monthly: far beyond any RPO the estate sets.
  if (daysOfMonth !== "*" || months !== "*") return 28 * 86400;
  const minuteSet = field(minutes, 0, 59);
  const hourSet = field(hours, 0, 23);
  const weekdays = new Set([...field(daysOfWeek, 0, 7)].map((d) => d % 7));
  const runs: number[] = [];
  for (let day = 0; day < 7; day++) {
    if (!weekdays.has(day)) continue;
    for (const h of [...hourSet].sort((a, b) => a - b)) {
      for (const m of [...minuteSet].sort((a, b) => a - b)) runs.push(day * 1440 + h * 60 + m);
    }
  }
  if (runs.length === 0) return Infinity;
  let longest = runs[0] + MINUTES_PER_WEEK - runs[runs.length - 1];
  for (let i = 1; i < runs.length; i++) longest = Math.max(longest, runs[i] - runs[i - 1]);
  return longest * 60;
}
