/**
 * A scheduler driven by a manual clock: advancing the clock fires every job whose
 * cron expression matches a second passed over, in order, awaiting each job, so a
 * test says "90 s later" and sees exactly the runs node-cron would have made.
 */
import { cronMatcher } from '../../src/core/cron.js';
import type { Job, Scheduler } from '../../src/core/scheduler.js';

export class ManualClock {
  constructor(public ms: number) {}
  now = (): number => this.ms;
}

export class ManualScheduler implements Scheduler {
  private jobs = new Map<number, { name: string; matches: (d: Date) => boolean; job: Job }>();
  private nextId = 0;
  readonly runs: { name: string; at: number }[] = [];

  constructor(readonly clock: ManualClock) {}

  schedule(expression: string, name: string, job: Job, timezone?: string): () => void {
    const id = this.nextId++;
    this.jobs.set(id, { name, matches: cronMatcher(expression, timezone), job });
    return () => void this.jobs.delete(id);
  }

  get names(): string[] {
    return [...this.jobs.values()].map((j) => j.name);
  }

  /** Moves the clock forward second by second, firing due jobs. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.ms + ms;
    let next = Math.floor(this.clock.ms / 1000) * 1000 + 1000;
    while (next <= end) {
      this.clock.ms = next;
      for (const j of [...this.jobs.values()]) {
        if (j.matches(new Date(next))) {
          this.runs.push({ name: j.name, at: next });
          await j.job();
        }
      }
      next += 1000;
    }
    this.clock.ms = end;
  }
}
