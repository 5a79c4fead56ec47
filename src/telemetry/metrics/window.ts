/** A time-bounded list of samples, and the percentile rule every report uses. */

/**
 * Nearest-rank percentile (the smallest value with at least p% of the samples at or
 * below it): always a value that was observed, so tests can state it exactly.
 */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

export function percentiles(values: readonly number[]): Percentiles | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50)!, p95: percentile(sorted, 95)!, p99: percentile(sorted, 99)! };
}

export class SlidingWindow<T> {
  private items: { at: number; value: T }[] = [];

  constructor(readonly spanMs: number) {}

  push(at: number, value: T): void {
    this.items.push({ at, value });
  }

  /** Samples with `now - span < at <= now`, dropping older ones. */
  values(now: number): T[] {
    const from = now - this.spanMs;
    let drop = 0;
    while (drop < this.items.length && this.items[drop]!.at <= from) drop++;
    if (drop > 0) this.items.splice(0, drop);
    return this.items.filter((i) => i.at <= now).map((i) => i.value);
  }
}
