/**
 * Energy from power samples: power is taken as linear between samples (the
 * trapezoid rule) and held at the last value after the newest one. A task's energy
 * is energyAt(end) - energyAt(start), so the meter keeps recent samples to answer
 * for a start time in the past.
 */
interface Point {
  at: number;
  watts: number;
  /** Joules from the first sample up to `at`. */
  joules: number;
}

// 5 s guard samples × 2048 ≈ 2.8 h: longer than any task's deadline
const KEEP = 2048;

export class EnergyMeter {
  private points: Point[] = [];

  /** `at` in epoch ms; samples out of order are ignored (a clock step back). */
  sample(at: number, watts: number): void {
    const last = this.points.at(-1);
    if (last && at < last.at) return;
    const joules = last ? last.joules + ((last.watts + watts) / 2) * ((at - last.at) / 1000) : 0;
    this.points.push({ at, watts, joules });
    if (this.points.length > KEEP) this.points.splice(0, this.points.length - KEEP);
  }

  get hasSamples(): boolean {
    return this.points.length > 0;
  }

  /** Joules since the first sample, at `at`; undefined before the oldest sample kept. */
  energyAt(at: number): number | undefined {
    const last = this.points.at(-1);
    if (!last || at < this.points[0]!.at) return undefined;
    if (at >= last.at) return last.joules + last.watts * ((at - last.at) / 1000);
    let lo = 0;
    let hi = this.points.length - 1; // points[lo].at <= at < points[hi].at
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (this.points[mid]!.at <= at) lo = mid;
      else hi = mid;
    }
    const a = this.points[lo]!;
    const b = this.points[hi]!;
    const wAt = a.watts + ((b.watts - a.watts) * (at - a.at)) / (b.at - a.at);
    return a.joules + ((a.watts + wAt) / 2) * ((at - a.at) / 1000);
  }
}
