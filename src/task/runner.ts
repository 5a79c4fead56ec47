/**
 * Runs queued tasks through the engine: the one place task execution happens
 * (STYLE rule 6). Up to the engine's max_batch run at once, sharing its forward
 * passes (issue 14); the rest wait in the queue, highest priority first.
 * Invariants: at most `capacity()` tasks run; a task whose deadline passed
 * while it waited is answered, never run; every task taken from the queue ends
 * in exactly one finished() or failed().
 */
import type { Delta, GenerateRequest, GenerationResult, TaskEngine } from '../engine/index.js';
import { describeError, isReasondError, ReasondError } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import { engineRequest, type Job } from './job.js';
import type { TaskQueue } from './queue.js';

export interface RunnerHooks {
  started(job: Job): Promise<void>;
  delta(job: Job, delta: Delta): void;
  /** `note`: what the pace says about how the task ran (the thermal guard's, for the result). */
  finished(job: Job, result: GenerationResult, note?: Record<string, unknown>): Promise<void>;
  failed(job: Job, error: ReasondError): Promise<void>;
}

/** How a task runs under the thermal guard: a pause before it, the request it runs with, and a note for its result. */
export interface Pace {
  pause_ms: number;
  request(req: GenerateRequest): GenerateRequest;
  note?(): Record<string, unknown> | undefined;
}

export interface RunnerOptions {
  engine: TaskEngine;
  queue: TaskQueue<Job>;
  clock: Clock;
  hooks: RunnerHooks;
  defaultMaxNewTokens: number;
  log?: (line: string) => void;
  /** The thermal guard's pace (issue 5): a pause before the task and the request it runs with. */
  pace?: (job: Job) => Pace;
  /** Tasks that may run at once: the engine's max_batch (default 1). */
  capacity?: () => number;
}

interface Slot {
  job: Job;
  abort: AbortController;
  reason?: ReasondError;
  done: Promise<void>;
}

export class Runner {
  private readonly running = new Map<string, Slot>();
  private stopping = false;
  /** Recent task durations, to tell a busy client when to retry. */
  private avgMs?: number;

  constructor(private readonly o: RunnerOptions) {}

  private get capacity(): number {
    return Math.max(1, this.o.capacity?.() ?? 1);
  }

  /** Every row is taken: a new task would wait in the queue. */
  get busy(): boolean {
    return this.running.size >= this.capacity;
  }

  /** Tasks running now, oldest first. */
  get runningIds(): string[] {
    return [...this.running.keys()];
  }

  retryAfterMs(): number {
    return Math.max(1000, Math.round(((this.avgMs ?? 5000) * (this.o.queue.size + 1)) / this.capacity));
  }

  /** Starts queued tasks while rows are free. */
  kick(): void {
    while (this.running.size < this.capacity) {
      // the agent's own background tasks (scheduled jobs, issue 18) leave one row free for a live task
      const head = this.o.queue.peek();
      if (head && head.priority < 0 && this.capacity > 1 && this.running.size >= this.capacity - 1) return;
      const job = this.o.queue.shift();
      if (!job) return;
      const slot: Slot = { job, abort: new AbortController(), done: Promise.resolve() };
      this.running.set(job.id, slot);
      slot.done = this.run(job, slot.abort.signal, () => slot.reason).finally(() => {
        this.running.delete(job.id);
        this.kick();
      });
    }
  }

  /** Cancels a queued or running task; says which it was, or undefined if neither. */
  async cancel(id: string, reason = 'cancelled by request'): Promise<'queued' | 'running' | undefined> {
    const slot = this.running.get(id);
    if (slot) {
      slot.reason = new ReasondError('cancelled', `task ${id} was ${reason}`);
      slot.abort.abort();
      return 'running';
    }
    const job = this.o.queue.remove(id);
    if (!job) return undefined;
    await this.o.hooks.failed(job, new ReasondError('cancelled', `task ${id} was ${reason} before it ran`));
    return 'queued';
  }

  /** Lets queued and running tasks finish within graceMs, then cancels what is left. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    const drained = (async () => {
      while (this.running.size) await Promise.all([...this.running.values()].map((s) => s.done));
    })();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(() => resolve('expired'), graceMs)));
    const outcome = await Promise.race([drained.then(() => 'drained' as const), expired]);
    clearTimeout(timer);
    if (outcome === 'expired') {
      for (const job of this.o.queue.drain()) await this.o.hooks.failed(job, new ReasondError('cancelled', `task ${job.id} was cancelled: the agent is shutting down`));
      for (const id of [...this.running.keys()]) await this.cancel(id, `cancelled: the agent stopped after its ${graceMs} ms grace period`);
      await drained;
    }
  }

  private async run(job: Job, signal: AbortSignal, reason: () => ReasondError | undefined): Promise<void> {
    try {
      const pace = this.o.pace?.(job);
      if (pace && pace.pause_ms > 0) await new Promise((resolve) => setTimeout(resolve, pace.pause_ms));
      if (job.deadline_at !== undefined && this.o.clock.now() >= job.deadline_at) {
        throw new ReasondError('deadline_exceeded', `task ${job.id} waited past its deadline (${job.deadline_at - job.received_at} ms after it arrived) and was not run`);
      }
      await this.o.hooks.started(job);
      const request = engineRequest(job, this.o.defaultMaxNewTokens);
      const result = await this.o.engine.generate(pace ? pace.request(request) : request, {
        signal,
        onDelta: job.request.stream ? (d) => this.o.hooks.delta(job, d) : undefined,
      });
      if (result.finish_reason === 'cancelled') throw reason() ?? new ReasondError('cancelled', `task ${job.id} was cancelled`);
      this.avgMs = this.avgMs === undefined ? result.timing.total_ms : 0.7 * this.avgMs + 0.3 * result.timing.total_ms;
      await this.o.hooks.finished(job, result, pace?.note?.());
    } catch (e) {
      const error = isReasondError(e) ? e : new ReasondError('internal', `task ${job.id} failed: ${describeError(e)}`);
      await this.o.hooks.failed(job, error).catch((e2) => this.o.log?.(`could not record the failure of ${job.id}: ${describeError(e2)}`));
    }
  }
}
