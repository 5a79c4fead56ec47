/**
 * The task path as one pipeline (#19): intake → journal → queue → runner →
 * replies. A task message goes in through handle(); what happens to it comes out
 * as typed events (events.ts), which the composition root hands to telemetry and
 * the update path. Crash recovery lives here too: tasks journaled as received or
 * running but never finished are run again (or answered) before new ones arrive.
 */
import type { Clock } from '../core/clock.js';
import { describeError, ReasondError } from '../core/errors.js';
import type { TaskEngine } from '../engine/index.js';
import type { Incoming, MqttConnection } from '../mqtt/index.js';
import type { Database } from '../store/index.js';
import type { AnswerSigner, TaskRequest } from '../protocol/index.js';
import { TaskEvents } from './events.js';
import { Intake } from './intake.js';
import { BACKGROUND_PRIORITY, engineRequest, type Job, type LocalSink } from './job.js';
import { Journal } from './journal.js';
import type { OutboxSender } from './outbox-sender.js';
import type { TaskQueue } from './queue.js';
import { Replies } from './replies.js';
import { Runner, type Pace } from './runner.js';
import { TaskValidator } from './validate.js';

export interface PipelineLimits {
  max_payload_bytes: number;
  max_new_tokens_limit: number;
  default_max_new_tokens: number;
  /** Tasks that run at once (config max_batch), at most what the engine's loaded model batches. */
  max_batch: number;
}

export interface PipelineDeps {
  device: string;
  limits: PipelineLimits;
  engine: TaskEngine;
  db: Database;
  /** Made by the caller, so telemetry can report its depth before the pipeline exists. */
  queue: TaskQueue<Job>;
  /** Final replies and task_rejected events go through the outbox. */
  sender: OutboxSender;
  /** Deltas go straight to the broker (best effort). */
  connection: Pick<MqttConnection, 'connected' | 'publish'>;
  eventsTopic: string;
  clock: Clock;
  log: (line: string) => void;
  /** Throws thermal_throttled while the board is too hot (the thermal guard, issue 5). */
  admit?: () => void;
  /** How a task runs under the thermal guard. */
  pace?: (job: Job) => Pace;
  /** The thermal guard's cap on tasks running at once (soft: one), if any. */
  maxConcurrency?: () => number | undefined;
  /** This boot of the machine (core/boot.ts); tests stand in a power cut with another one. */
  bootId?: string;
  /** Signs final replies as this device's (issue 16). */
  signer?: AnswerSigner;
}

/** Rows the engine runs at once; 1 before a model is loaded. */
function engineRows(engine: TaskEngine): number {
  try {
    return engine.info.max_batch;
  } catch {
    return 1;
  }
}

/** Runs of one task that ended with the agent dying; after this many it may be what kills the agent. */
const MAX_CRASHED_RUNS = 2;

export class TaskPipeline {
  readonly events: TaskEvents;
  readonly journal: Journal;
  readonly queue: TaskQueue<Job>;
  private readonly validator: TaskValidator;
  private readonly replies: Replies;
  private readonly runner: Runner;
  private readonly intake: Intake;
  private readonly startedAt = new Map<string, number>();

  constructor(private readonly d: PipelineDeps) {
    const { limits: l, clock } = d;
    this.events = new TaskEvents(d.log);
    this.journal = new Journal(d.db);
    this.queue = d.queue;
    this.validator = new TaskValidator({ max_new_tokens_limit: l.max_new_tokens_limit, max_payload_bytes: l.max_payload_bytes });
    this.replies = new Replies({ device: d.device, journal: this.journal, sender: d.sender, connection: d.connection, clock, events: this.events, signer: d.signer });
    this.runner = new Runner({
      engine: d.engine, queue: this.queue, clock, defaultMaxNewTokens: l.default_max_new_tokens, log: d.log, pace: d.pace,
      capacity: () => this.capacity,
      hooks: {
        started: async (job) => {
          const at = clock.now();
          this.startedAt.set(job.id, at);
          if (!job.sink) await this.journal.running(job.id, at, d.bootId ?? '');
          this.events.emit('started', { job, at });
        },
        delta: (job, delta) => this.replies.delta(job, delta),
        finished: async (job, result, note) => {
          const startedAt = this.startedAt.get(job.id) ?? clock.now();
          this.startedAt.delete(job.id);
          if (job.sink) await job.sink.finished(result, startedAt);
          else await this.replies.result(job, result, startedAt, note && { thermal: note });
          this.events.emit('finished', { job, result, startedAt });
        },
        failed: async (job, error) => {
          const startedAt = this.startedAt.get(job.id);
          this.startedAt.delete(job.id);
          this.events.emit('failed', { job, error, startedAt });
          if (job.sink) await job.sink.failed(error);
          else await this.replies.error(job.id, job.route, error, true);
        },
      },
    });
    this.intake = new Intake({
      validator: this.validator, journal: this.journal, queue: this.queue, runner: this.runner, engine: d.engine,
      replies: this.replies, events: this.events, sender: d.sender, clock, eventsTopic: d.eventsTopic,
      defaultMaxNewTokens: l.default_max_new_tokens, log: d.log, admit: d.admit,
    });
  }

  /** Tasks that run at once: config max_batch, at most what the loaded model batches (1 before one is loaded). */
  get maxBatch(): number {
    return Math.min(this.d.limits.max_batch, engineRows(this.d.engine));
  }

  /** Tasks that may start now: maxBatch, or fewer while the thermal guard asks for it. */
  private get capacity(): number {
    return Math.min(this.maxBatch, this.d.maxConcurrency?.() ?? Infinity);
  }

  /** Tasks running now, oldest first (up to maxBatch). */
  get runningIds(): string[] {
    return this.runner.runningIds;
  }

  /** Compiles the task schema; then recover() before the first handle(). */
  start(): void {
    this.validator.start();
  }

  /** One task message from the broker; resolves once it is journaled or answered (then the client sends the PUBACK). */
  handle(m: Incoming): Promise<void> {
    return this.intake.handle(m);
  }

  /**
   * A task of the agent's own (a scheduled job's run, issue 18): checked by the thermal guard and the
   * model's context like any task, queued below every task from outside, and answered to `sink`.
   * Throws the ReasondError that refuses it (thermal_throttled, context_overflow, busy while shutting down).
   */
  async submitLocal(request: TaskRequest, sink: LocalSink): Promise<void> {
    if (!this.intake.accepting) throw new ReasondError('busy', 'the agent is shutting down');
    this.d.admit?.();
    const now = this.d.clock.now();
    const job: Job = {
      id: request.id, priority: BACKGROUND_PRIORITY, seq: this.intake.nextSeq(), request, route: { topic: '' }, sink,
      received_at: now, deadline_at: request.deadline_ms !== undefined ? now + request.deadline_ms : undefined,
    };
    await this.d.engine.checkPrompt(engineRequest(job, this.d.limits.default_max_new_tokens));
    this.queue.push(job);
    this.runner.kick();
  }

  cancel(id: string): Promise<'queued' | 'running' | undefined> {
    return this.runner.cancel(id);
  }

  /** New tasks are answered busy from now on (shutdown). */
  close(): void {
    this.intake.close();
  }

  /** Lets queued and running tasks finish within graceMs, then cancels what is left. */
  stop(graceMs: number): Promise<void> {
    return this.runner.stop(graceMs);
  }

  /** Tasks journaled but never finished (the agent died): run again, or answered if they may be what killed it. */
  async recover(): Promise<void> {
    const d = this.d;
    const rows = await this.journal.unfinished();
    this.intake.expectResends(rows.map((r) => r.id));
    for (const r of rows) {
      const job: Job = {
        id: r.id, priority: r.priority, seq: this.intake.nextSeq(), request: JSON.parse(r.request), route: JSON.parse(r.route),
        received_at: r.received_at, deadline_at: r.deadline_at ?? undefined,
      };
      // A run that ended because the machine went down (another boot id: a power cut, a reboot) says
      // nothing about the task: it is not counted against it.
      if (r.state === 'running' && r.boot_id && d.bootId && r.boot_id !== d.bootId) {
        await this.journal.forgive(r.id);
        r.attempts = Math.max(0, r.attempts - 1);
      }
      if (r.state === 'running' && r.attempts >= MAX_CRASHED_RUNS) {
        const why = `task ${r.id} was running when the agent stopped ${r.attempts} times; it is not run again`;
        await this.replies.error(r.id, job.route, new ReasondError('internal', why), true);
        continue;
      }
      this.queue.push(job);
    }
    if (rows.length) this.d.log(`recovered ${rows.length} unfinished task(s) from the journal`);
    this.runner.kick();
  }

  /** Forgets finished tasks older than keepMs (0 = keep forever). */
  async prune(keepMs: number): Promise<void> {
    if (keepMs === 0) return;
    try {
      const n = await this.journal.prune(this.d.clock.now() - keepMs);
      if (n) this.d.log(`journal: forgot ${n} task(s) finished more than ${keepMs} ms ago`);
    } catch (e) {
      this.d.log(`journal: pruning failed: ${describeError(e)}`);
    }
  }
}
