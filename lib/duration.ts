/** Durations as Flagger, Prometheus and Velero write them: a whole number and one unit ("30s", "2m", "720h"). */
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

export const DURATION_PATTERN = /^([1-9][0-9]*)(s|m|h|d)$/;

/** Seconds in a duration such as "30s" or "2m"; throws on anything else. */
export function durationSeconds(duration: string): number {
  const match = DURATION_PATTERN.exec(duration);
  if (!match) {
    throw new Error(`"${duration}" is not a duration like 30s, 2m, 1h or 7d`);
  }
  return Number(match[1]) * UNIT_SECONDS[match[2]];
}

/** The shortest exact spelling of a number of seconds ("90s", "2m", "1h"). */
export function formatDuration(seconds: number): string {
  for (const [unit, size] of [
    ["d", 86400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** A human reading of a number of seconds: "2 min 30 s". */
export function humanDuration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes === 0) return `${rest} s`;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
