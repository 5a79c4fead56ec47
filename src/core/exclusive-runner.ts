/**
 * The one runner for everything that changes which model this board serves
 * (deploy, activate, rollback). Invariants:
 *  - at most one state change runs at a time; others wait their turn in order;
 *  - a change that throws leaves the next one free to run (the chain never breaks);
 *  - tasks are not stopped by it: the engine swap happens between tasks
 *    (engine/slot.ts), so a change never races task execution.
 */
export class ExclusiveRunner {
  private tail: Promise<unknown> = Promise.resolve();
  private current?: string;

  /** What runs now, for status replies. */
  get running(): string | undefined {
    return this.current;
  }

  run<T>(label: string, fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(async () => {
      this.current = label;
      try {
        return await fn();
      } finally {
        this.current = undefined;
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
