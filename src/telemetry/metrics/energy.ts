/**
 * Energy from power samples: the trapezoid rule between samples, and the last power
 * held until the next sample, so a task's energy is energyAt(end) - energyAt(start).
 */
export class EnergyMeter {
  private joules = 0;
  private last: { at: number; watts: number } | undefined;

  /** `at` in epoch ms; samples out of order are ignored (a clock step back). */
  sample(at: number, watts: number): void {
    if (this.last) {
      if (at < this.last.at) return;
      this.joules += ((this.last.watts + watts) / 2) * ((at - this.last.at) / 1000);
    }
    this.last = { at, watts };
  }

  get hasSamples(): boolean {
    return this.last !== undefined;
  }

  get watts(): number | undefined {
    return this.last?.watts;
  }

  /** Joules since the first sample, up to `at`; undefined before any sample. */
  energyAt(at: number): number | undefined {
    if (!this.last) return undefined;
    return this.joules + this.last.watts * (Math.max(0, at - this.last.at) / 1000);
  }
}
