/**
 * A task message in: size and schema checks, reply route, repeated ids,
 * context window, queue bound, then the journal and the queue. Returns only
 * when the task is journaled (or answered), so the MQTT client sends the
 * PUBACK after that (issue 4, item 5). Never throws on input.
 */
import { describeError, isReasondError, ReasondError } from '../core/errors.js';
import type { Incoming } from '../mqtt/index.js';
import { isPublishableTopic, type TaskRejectedEvent, type WireErrorCode } from '../protocol/index.js';
import type { TaskEvents } from './events.js';
import type { Journal } from './journal.js';
import type { Clock } from '../core/clock.js';
import type { TaskEngine } from '../engine/index.js';
import { engineRequest, type Job, type Route } from './job.js';
import type { TaskQueue } from './queue.js';
import type { Runner } from './runner.js';
import type { TaskValidator } from './validate.js';
import type { Replies } from './replies.js';
import type { OutboxSender } from './outbox-sender.js';

export interface IntakeDeps {
  validator: TaskValidator;
  journal: Journal;
  queue: TaskQueue<Job>;
  runner: Runner;
  engine: TaskEngine;
  replies: Replies;
  events: TaskEvents;
  sender: OutboxSender;
  clock: Clock;
  eventsTopic: string;
  defaultMaxNewTokens: number;
  log: (line: string) => void;
  /** Throws thermal_throttled while the board is too hot (issue 5). */
  admit?: () => void;
}

/**
 * How long after recovery a copy of a recovered task counts as the broker's resend: the MQTT 5
 * session we ask for lives 300 s (mqtt/client.ts), and a broker resends its unacknowledged copies
 * as soon as the session resumes.
 */
export const RESEND_WINDOW_MS = 300_000;

export class Intake {
  private seq = 0;
  /** False once the agent is shutting down. */
  accepting = true;
  /** Tasks recovered unfinished from the journal, each until its first copy arrives or the window ends. */
  private readonly resendable = new Map<string, number>();

  constructor(private readonly d: IntakeDeps) {}

  /** New tasks are answered busy from now on (shutdown). */
  close(): void {
    this.accepting = false;
  }

  /**
   * The agent died with these tasks journaled: the broker may hold a copy it never had a PUBACK for
   * and send it again after the restart. MQTT says such a resend carries the DUP flag, but the
   * embedded broker (aedes) resends without it, so the first copy of each of these ids within the
   * window is taken for that resend, DUP or not. Its recovered run answers the requester either way.
   */
  expectResends(ids: string[]): void {
    const until = this.d.clock.now() + RESEND_WINDOW_MS;
    for (const id of ids) this.resendable.set(id, until);
  }

  /** Whether this copy of `id` is the broker's resend of a recovered task (and forgets the id). */
  private resent(id: string, dup: boolean, now: number): boolean {
    const until = this.resendable.get(id);
    if (until === undefined) return dup;
    this.resendable.delete(id);
    return dup || now <= until;
  }

  nextSeq(): number {
    return this.seq++;
  }

  async handle(m: Incoming): Promise<void> {
    try {
      await this.accept(m);
    } catch (e) {
      this.d.log(`task on ${m.topic} not handled: ${describeError(e)}`);
    }
  }

  private async accept(m: Incoming): Promise<void> {
    const now = this.d.clock.now();
    const parsed = this.d.validator.parse(m.payload);
    const route = this.route(m, parsed.replyTo);
    if (!route) {
      const why = parsed.error ?? new ReasondError('invalid_request', parsed.replyTo === undefined
        ? 'the task has no reply route: set reply_to, or the MQTT 5 Response Topic'
        : `reply_to must be a topic with no wildcards that does not start with $; got ${JSON.stringify(parsed.replyTo)}`);
      return this.reject(parsed.id, why, m.topic);
    }
    if (parsed.error || !parsed.task) return this.d.replies.error(parsed.id, route, parsed.error!, false);
    const task = parsed.task;

    const seen = await this.d.journal.get(task.id);
    const resent = this.resent(task.id, m.dup === true, now);
    // The broker's own resend of a copy we journaled but never acknowledged (the agent died before the
    // PUBACK): the answer from that copy's recovered run is already in the outbox or sent. A requester
    // asking again sends a fresh copy and gets the answer replayed.
    if (seen?.result && resent) return this.d.log(`task ${task.id} redelivered after it finished; its answer went out already`);
    if (seen?.result) return this.d.replies.replay(seen.result, route);
    // Still queued or running: a redelivery; the first copy's answer is on its way.
    if (seen) return this.d.log(`task ${task.id} is already ${seen.state}; ignoring the repeat`);

    if (!this.accepting) {
      return this.d.replies.error(task.id, route, new ReasondError('busy', 'the agent is shutting down', { retryAfterMs: 5000 }), false);
    }
    try {
      this.d.admit?.();
    } catch (e) {
      return this.d.replies.error(task.id, route, isReasondError(e) ? e : new ReasondError('internal', describeError(e)), false);
    }
    const expiry = m.messageExpiryInterval !== undefined ? now + m.messageExpiryInterval * 1000 : undefined;
    const fromField = task.deadline_ms !== undefined ? now + task.deadline_ms : undefined;
    const deadlines = [expiry, fromField].filter((x): x is number => x !== undefined);
    const job: Job = {
      id: task.id,
      priority: task.priority ?? 0,
      seq: this.nextSeq(),
      request: task,
      route,
      received_at: now,
      deadline_at: deadlines.length ? Math.min(...deadlines) : undefined,
    };
    try {
      await this.d.engine.checkPrompt(engineRequest(job, this.d.defaultMaxNewTokens));
    } catch (e) {
      return this.d.replies.error(task.id, route, isReasondError(e) ? e : new ReasondError('internal', describeError(e)), false);
    }
    if (this.d.runner.busy && this.d.queue.full) {
      const retry = this.d.runner.retryAfterMs();
      return this.d.replies.error(task.id, route, new ReasondError('busy', `the queue is full (${this.d.queue.size} tasks wait); retry in about ${retry} ms`, { retryAfterMs: retry }), false);
    }
    const fresh = await this.d.journal.receive({
      id: job.id, request: JSON.stringify(task), route: JSON.stringify(route), priority: job.priority,
      received_at: now, deadline_at: job.deadline_at ?? null,
    });
    if (!fresh) return;
    this.d.queue.push(job);
    this.d.events.emit('accepted', { job });
    this.d.runner.kick();
  }

  private route(m: Incoming, replyTo: string | undefined): Route | undefined {
    if (m.responseTopic && isPublishableTopic(m.responseTopic)) {
      return { topic: m.responseTopic, correlation_data: m.correlationData?.toString('base64') };
    }
    if (replyTo !== undefined && isPublishableTopic(replyTo)) return { topic: replyTo };
    return undefined;
  }

  /** A task we cannot answer directly: say so on the device's events topic. */
  private async reject(id: string | undefined, e: ReasondError, topic: string): Promise<void> {
    const now = this.d.clock.now();
    const payload: TaskRejectedEvent = { type: 'task_rejected', id: id ?? null, topic, error: { code: e.code as WireErrorCode, message: e.message }, created_at: now };
    await this.d.sender.send({ topic: this.d.eventsTopic, payload: JSON.stringify(payload), created_at: now });
  }
}
