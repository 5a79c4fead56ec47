/**
 * Small pure helpers for the benchmark (issue 9): summaries of repeated
 * measurements, ratios to the floor, and the interleaved run order that
 * keeps a slow drift of the machine (heat, a background job) from landing
 * on one implementation only.
 */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

const round = (x: number, digits = 3) => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/** Nearest-rank percentile (p in 0..100) of the values; NaN for none. */
export function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function median(values: number[]): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function summarize(values: number[], digits = 3): Summary {
  return {
    median: round(median(values), digits),
    min: round(Math.min(...values), digits),
    max: round(Math.max(...values), digits),
    n: values.length,
  };
}

/**
 * Ratio of an implementation to the floor, per repetition (rep i of one
 * against rep i of the other, which ran next to each other), summarised.
 * For speeds (higher is better) a ratio above 1 is faster than the floor.
 */
export function ratios(values: number[], floor: number[], digits = 3): Summary {
  const n = Math.min(values.length, floor.length);
  const r: number[] = [];
  for (let i = 0; i < n; i++) if (floor[i] > 0) r.push(values[i] / floor[i]);
  return summarize(r, digits);
}

/**
 * The order of the implementations in each repetition: rotated by one per
 * repetition, so each runs first, middle and last equally often.
 */
export function interleave<T>(items: readonly T[], reps: number): T[][] {
  const out: T[][] = [];
  for (let r = 0; r < reps; r++) out.push(items.map((_, i) => items[(i + r) % items.length]));
  return out;
}

/** First index where two token lists differ, or -1 when equal. */
export function firstMismatch(a: readonly number[], b: readonly number[]): number {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return -1;
}

export { round };
