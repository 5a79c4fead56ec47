/**
 * Watches a newly switched model for its first window (issue 6, step 5):
 * when at least minTasks tasks ended and the share that failed with a
 * model fault passes the limit, it asks for a rollback once. Client faults
 * (invalid_request, cancelled, deadline_exceeded, busy...) say nothing
 * about the model and are not counted.
 */
import type { Clock } from '../core/clock.js';

export const MODEL_FAULTS: ReadonlySet<string> = new Set(['internal', 'model_unavailable']);

export interface ErrorWatchOptions {
  clock: Clock;
  windowMs: number;
  minTasks: number;
  maxErrorPercent: number;
  onTrip: (reason: string) => void;
}

export class ErrorWatch {
  private until = 0;
  private ok = 0;
  private failed = 0;
  private label = '';

  constructor(private readonly o: ErrorWatchOptions) {}

  /** Starts watching a version from now. */
  watch(label: string): void {
    this.label = label;
    this.until = this.o.clock.now() + this.o.windowMs;
    this.ok = 0;
    this.failed = 0;
  }

  stop(): void {
    this.until = 0;
  }

  /** One task ended: ok, or failed with this error code. */
  record(code?: string): void {
    if (this.o.clock.now() > this.until) return;
    if (code === undefined) this.ok++;
    else if (MODEL_FAULTS.has(code)) this.failed++;
    else return;
    const total = this.ok + this.failed;
    if (total >= this.o.minTasks && this.failed * 100 >= this.o.maxErrorPercent * total) {
      this.until = 0;
      this.o.onTrip(`${this.failed} of the first ${total} tasks on ${this.label} failed (limit ${this.o.maxErrorPercent}%)`);
    }
  }
}
