/**
 * The bounded queue of tasks waiting for the engine: higher priority first,
 * then first come first served. Expired tasks are handed out too, so the
 * runner answers them deadline_exceeded instead of dropping them.
 */
export interface Queued {
  id: string;
  priority: number;
  /** Order of arrival (a counter, not a clock). */
  seq: number;
}

export class TaskQueue<T extends Queued> {
  private readonly items: T[] = [];

  constructor(private readonly max: number) {}

  get size(): number {
    return this.items.length;
  }

  /** Counts only tasks from outside (priority 0 and up): the agent's own background tasks never fill the queue for them. */
  get full(): boolean {
    return this.items.filter((t) => t.priority >= 0).length >= this.max;
  }

  /** The next task to run, without taking it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Recovery may overfill the queue: tasks accepted before a crash are never refused. */
  push(item: T): void {
    let i = this.items.length;
    while (i > 0 && this.before(item, this.items[i - 1])) i--;
    this.items.splice(i, 0, item);
  }

  shift(): T | undefined {
    return this.items.shift();
  }

  remove(id: string): T | undefined {
    const i = this.items.findIndex((t) => t.id === id);
    return i < 0 ? undefined : this.items.splice(i, 1)[0];
  }

  drain(): T[] {
    return this.items.splice(0);
  }

  private before(a: T, b: T): boolean {
    return a.priority > b.priority || (a.priority === b.priority && a.seq < b.seq);
  }
}
