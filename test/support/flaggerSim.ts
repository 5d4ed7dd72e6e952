/**
 * A step-by-step simulation of Flagger's scheduler and of the Prometheus that feeds it, written without the
 * closed-form model (lib/flaggerTiming.ts) so that the model can be checked against it.
 *
 * Prometheus: counters are scraped at their own phase; `rate()` follows promql/functions.go
 * `extrapolatedRate` (a left-open range, two samples needed, extrapolation to the range's edges within
 * 1.1 average sample gaps, counters not extrapolated below zero); `histogram_quantile` interpolates
 * linearly inside the bucket that holds the rank; rule groups evaluate at their own phase; an alert fires at
 * the first evaluation at least `for` after it went pending.
 * Flagger v1.44 (pkg/controller/scheduler.go): one tick per interval at its own phase; at the start of a tick
 * a canary with `failedChecks >= threshold` rolls back; an unready canary (deployment_ready.go) returns
 * early and rolls back once Available=False is older than progressDeadlineSeconds (its lastUpdateTime is a
 * whole second); otherwise a failed analysis adds one failed check.
 */

/** One stored sample. */
interface Sample {
  t: number;
  v: number;
}

/** A counter as a function of time, scraped every `scrape` seconds from `phase`; undefined before it exists. */
export function scrapeSeries(
  value: (t: number) => number | undefined,
  scrape: number,
  phase: number,
  from: number,
  to: number,
): Sample[] {
  const out: Sample[] = [];
  const first = phase + Math.ceil((from - phase) / scrape) * scrape;
  for (let t = first; t <= to + 1e-9; t += scrape) {
    const v = value(t);
    if (v !== undefined) out.push({ t, v });
  }
  return out;
}

/** Prometheus `rate(series[range])` evaluated at `at` (promql/functions.go extrapolatedRate). */
export function promRate(samples: Sample[], at: number, range: number): number | undefined {
  const start = at - range;
  const inRange = samples.filter((s) => s.t > start && s.t <= at);
  if (inRange.length < 2) return undefined;
  let result = inRange[inRange.length - 1].v - inRange[0].v;
  let last = inRange[0].v;
  for (const s of inRange) {
    if (s.v < last) result += last;
    last = s.v;
  }
  let durationToStart = inRange[0].t - start;
  const durationToEnd = at - inRange[inRange.length - 1].t;
  const sampled = inRange[inRange.length - 1].t - inRange[0].t;
  const avg = sampled / (inRange.length - 1);
  if (result > 0 && inRange[0].v >= 0) {
    const toZero = sampled * (inRange[0].v / result);
    if (toZero < durationToStart) durationToStart = toZero;
  }
  const threshold = avg * 1.1;
  let extrapolated = sampled;
  extrapolated += durationToStart < threshold ? durationToStart : avg / 2;
  extrapolated += durationToEnd < threshold ? durationToEnd : avg / 2;
  return (result * (extrapolated / sampled)) / range;
}

/** `sum(rate(...))` over several series; undefined when no series has a rate. */
export function sumRates(series: Sample[][], at: number, range: number): number | undefined {
  const rates = series.map((s) => promRate(s, at, range)).filter((r): r is number => r !== undefined);
  return rates.length === 0 ? undefined : rates.reduce((a, b) => a + b, 0);
}

/** Prometheus `histogram_quantile(q, ...)` over cumulative bucket rates keyed by upper bound. */
export function histogramQuantile(q: number, buckets: [number, number][]): number {
  const sorted = [...buckets].sort((a, b) => a[0] - b[0]);
  const total = sorted[sorted.length - 1][1];
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let i = sorted.findIndex(([, c]) => c >= rank);
  if (i < 0) i = sorted.length - 1;
  if (sorted[i][0] === Infinity) return sorted[sorted.length - 2][0];
  const [end, count] = sorted[i];
  const [startBound, startCount] = i === 0 ? [0, 0] : sorted[i - 1];
  if (count === startCount) return end;
  return startBound + (end - startBound) * ((rank - startCount) / (count - startCount));
}

/** Istio's default request-duration buckets (ms), upstream `istio/proxy` stats defaults, plus +Inf. */
export const ISTIO_BUCKETS = [
  0.5,
  1,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1000,
  2500,
  5000,
  10000,
  30000,
  60000,
  300000,
  600000,
  1800000,
  3600000,
  Infinity,
];

/** The random parts of one simulated fault. */
export interface FaultScenario {
  /** Flagger tick phase, scrape phase, probe phase, rule-group phases: each in [0, 1) of its period. */
  tickPhase: number;
  scrapePhase: number;
  probePhase: number;
  recordPhase: number;
  alertPhase: number;
  /** Fault onset, seconds after the analysis started (>= one metric window, so the checks passed before). */
  onset: number;
  /** Requests per second the canary receives (load test plus users). */
  rps: number;
  /** Failed checks the run had collected before the fault (below threshold). */
  priorFailures: number;
  /** Latency mode: the slow requests' duration as a share of (P99 threshold, 2 x P99 threshold]. */
  slowness: number;
  /** Alert-gate mode: the canary's error share above the alert margin, as a fraction of the margin. */
  excess: number;
  /** Unready mode: whether the container crashes (unready at once) rather than failing its probe. */
  crash: boolean;
}

/** The settings the simulation runs with (the same quantities the model takes). */
export interface SimSettings {
  interval: number;
  threshold: number;
  window: number;
  successRatePercent: number;
  latencyP95Ms: number;
  latencyP99Ms: number;
  minRequests: number;
  scrape: number;
  evaluation: number;
  alertWindow: number;
  alertFor: number;
  /** The alert's margin (canary error share minus primary's), below the direct check's tolerance. */
  alertMargin: number;
  progressDeadline: number;
  probe: { period: number; failureThreshold: number; timeout: number };
  push: number;
}

type Mode = "hard5xx" | "latency" | "unready" | "alertGate";

/**
 * Seconds from the fault's onset until all traffic is back on the primary, simulated tick by tick;
 * undefined if Flagger never rolls back within the horizon.
 */
export function simulateRollback(mode: Mode, s: SimSettings, f: FaultScenario): number | undefined {
  const t0 = f.onset;
  const r = f.rps;
  const horizon = t0 + 1500;
  const from = -3 * Math.max(s.window, s.alertWindow) - s.scrape;
  const scrapePhase = f.scrapePhase * s.scrape;
  const scrape = (value: (t: number) => number | undefined) =>
    scrapeSeries(value, s.scrape, scrapePhase, from, horizon);
  const after = (t: number) => Math.max(0, t - t0);

  // Request counters of the canary (destination reporter): non-5xx and 5xx.
  const errorShare = mode === "hard5xx" ? 1 : mode === "alertGate" ? s.alertMargin * (1 + f.excess) : 0;
  // Written so that a flat counter stays exactly flat (a float wobble would read as a counter reset).
  const good = scrape((t) => r * (Math.min(t, t0) - from) + (1 - errorShare) * r * after(t));
  // The 5xx series appears with the first 5xx response.
  const bad = scrape((t) => (after(t) > 0 && errorShare > 0 ? errorShare * r * after(t) : undefined));
  // Latency buckets: requests before the fault take 20 ms; after it, `slow` ms, counted when they complete.
  const slow = s.latencyP99Ms * (1 + f.slowness);
  const slowDone = (t: number) => (mode === "latency" ? after(t - slow / 1000) : 0);
  const buckets = ISTIO_BUCKETS.map((le) => {
    const series = scrape((t) => {
      const fast = mode === "latency" ? r * (Math.min(t, t0) - from) : r * (t - from);
      return (le >= 20 ? fast : 0) + (le >= slow ? r * slowDone(t) : 0);
    });
    return [le, series] as const;
  });

  const checksPass = (at: number): boolean => {
    const total = sumRates([good, bad], at, s.window);
    // Guard: too few requests (or none) in the window is a pass.
    if (total === undefined || total * s.window < s.minRequests) return true;
    const goodRate = promRate(good, at, s.window) ?? 0;
    if ((goodRate / total) * 100 < s.successRatePercent) return false;
    const rates: [number, number][] = buckets.map(([le, series]) => [
      le,
      promRate(series, at, s.window) ?? 0,
    ]);
    if (histogramQuantile(0.95, rates) > s.latencyP95Ms) return false;
    if (histogramQuantile(0.99, rates) > s.latencyP99Ms) return false;
    return gateOpen(at);
  };

  // Alert gate: a recording rule (canary error ratio over alertWindow), then an alerting rule in its own group.
  const recordEvals: { t: number; v: number | undefined }[] = [];
  const firingFrom = (() => {
    if (mode !== "alertGate") return Infinity;
    for (let t = f.recordPhase * s.evaluation; t <= horizon; t += s.evaluation) {
      const total = sumRates([good, bad], t, s.alertWindow);
      const errs = sumRates([bad], t, s.alertWindow) ?? 0;
      recordEvals.push({ t, v: total === undefined ? undefined : errs / total });
    }
    let activeAt: number | undefined;
    for (let t = f.alertPhase * s.evaluation; t <= horizon; t += s.evaluation) {
      const latest = [...recordEvals].reverse().find((e) => e.t <= t);
      const on = latest?.v !== undefined && latest.v > s.alertMargin;
      if (!on) activeAt = undefined;
      else {
        activeAt ??= t;
        // Prometheus keeps times in whole milliseconds: compare as it does, not with float residue.
        if (Math.round((t - activeAt) * 1000) >= Math.round(s.alertFor * 1000)) return t;
      }
    }
    return Infinity;
  })();
  function gateOpen(at: number): boolean {
    return at < firingFrom;
  }

  // Readiness: probes every period; `failureThreshold` failures in a row (each timing out) mark the pod unready.
  const unreadyAt = (() => {
    if (mode !== "unready") return Infinity;
    if (f.crash) return t0 + 1;
    const p = s.probe;
    let first = f.probePhase * p.period + Math.ceil((t0 - f.probePhase * p.period) / p.period) * p.period;
    if (first < t0) first += p.period;
    return first + (p.failureThreshold - 1) * p.period + p.timeout;
  })();
  // Available=False's lastUpdateTime, a whole second.
  const availableFalseSince = Math.floor(unreadyAt);

  let failed = f.priorFailures;
  const tickPhase = f.tickPhase * s.interval;
  for (let tick = tickPhase; tick <= horizon; tick += s.interval) {
    if (tick < 0) continue;
    if (tick >= unreadyAt) {
      // IsCanaryReady: retriable until the deadline is exceeded, then the tick rolls back.
      if (availableFalseSince + s.progressDeadline < tick) return tick + s.push - t0;
      continue;
    }
    if (failed >= s.threshold) return tick + s.push - t0;
    if (!checksPass(tick)) failed++;
  }
  return undefined;
}

/**
 * A RollingUpdate with maxSurge 25% (rounded up) and maxUnavailable 0: each wave starts `surge` new pods and
 * removes as many old ones once they are ready. Returns the new pods started per wave.
 */
export function rollingUpdate(replicas: number, maxSurgePercent = 25): number[] {
  const surge = Math.max(1, Math.ceil((replicas * maxSurgePercent) / 100));
  const waves: number[] = [];
  let updated = 0;
  while (updated < replicas) {
    const started = Math.min(surge, replicas - updated);
    waves.push(started);
    updated += started;
  }
  return waves;
}

/** The random parts of one simulated release. */
export interface ReleaseScenario {
  /** When `pulumi up` lands within the tick period, [0, 1). */
  applyPhase: number;
  /** Canary pods' time to Ready, as a share of podReadySeconds. */
  canaryReady: number;
  /** Each primary rolling-update wave's time, as shares of podReadySeconds (one per wave, extra ignored). */
  waves: number[];
  /** The primary's replicas when it is promoted. */
  replicas: number;
}

export interface ReleaseSettings {
  strategy: "canary" | "blueGreen" | "abTest";
  interval: number;
  weights: number[];
  iterations: number;
  podReady: number;
  holds: Record<number, number>;
  push: number;
}

/**
 * Seconds from `pulumi up` to 100% on the new version and to Succeeded, simulated tick by tick through
 * Flagger's phases; the hold gate keeps "weight first seen at" and passes once it has been held long enough.
 */
export function simulateRelease(
  s: ReleaseSettings,
  sc: ReleaseScenario,
): { full: number; succeeded: number } {
  const I = s.interval;
  const apply = sc.applyPhase * I;
  type Phase = "idle" | "progressing" | "promoting" | "finalising";
  let phase = "idle" as Phase;
  let weight = 0;
  let iterations = 0;
  let canaryReadyAt = Infinity;
  let primaryReadyAt = Infinity;
  let full = Infinity;
  let gate: { weight: number; since: number } | undefined;
  const gatePasses = (now: number) => {
    if (!gate || gate.weight !== weight) gate = { weight, since: now };
    return now - gate.since >= (s.holds[weight] ?? 0);
  };
  for (let k = 1; k < 1e7; k++) {
    const now = k * I;
    if (now <= apply) continue;
    if (phase === "idle") {
      // checkCanaryStatus: a new revision scales the canary up and sets Progressing.
      phase = "progressing";
      canaryReadyAt = now + sc.canaryReady * s.podReady;
      continue;
    }
    if (phase === "promoting") {
      if (now < primaryReadyAt) continue;
      phase = "finalising";
      continue;
    }
    if (phase === "finalising") return { full: full - apply, succeeded: now - apply };
    if (now < canaryReadyAt) continue;
    const promote = () => {
      phase = "promoting";
      primaryReadyAt =
        now + rollingUpdate(sc.replicas).reduce((a, _, i) => a + (sc.waves[i] ?? 1) * s.podReady, 0);
      if (s.strategy !== "blueGreen") full = primaryReadyAt;
    };
    if (s.strategy === "canary") {
      const max = s.weights[s.weights.length - 1];
      // Traffic increase (also at the last weight) asks the gate; promotion asks it again.
      if (!gatePasses(now)) continue;
      if (weight < max) weight = s.weights.find((w) => w > weight)!;
      else promote();
      continue;
    }
    if (iterations < s.iterations) {
      iterations++;
      continue;
    }
    if (s.strategy === "blueGreen" && iterations === s.iterations) {
      iterations++;
      full = now + s.push;
      continue;
    }
    promote();
  }
  throw new Error("release never finished");
}
