/**
 * Builds every reply a task gets (docs/API.md, "Replies") and sends it:
 * deltas straight to the broker when connected (best effort, QoS 0), final
 * results and errors through the journal and the outbox (never lost).
 */
import type { Delta, GenerationResult } from '../engine/index.js';
import type { ReasondError } from '../core/errors.js';
import type { MqttConnection } from '../mqtt/index.js';
import type { AnswerSigner, DeltaMessage, ErrorMessage, ResultMessage, WireErrorCode } from '../protocol/index.js';
import type { OutboxMessage } from '../store/index.js';
import type { Journal } from './journal.js';
import type { Clock } from '../core/clock.js';
import type { TaskEvents } from './events.js';
import type { Job, Route } from './job.js';
import type { OutboxSender } from './outbox-sender.js';

export class Replies {
  constructor(
    private readonly deps: {
      device: string; journal: Journal; sender: OutboxSender; connection: Pick<MqttConnection, 'connected' | 'publish'>; clock: Clock;
      /** An error for a task never journaled is a `rejected` event (telemetry counts them by code, issue 5). */
      events: TaskEvents;
      /** Signs every final reply as this device's (issue 16); absent: unsigned. */
      signer?: AnswerSigner;
    },
  ) {}

  private final(reply: object): string {
    return JSON.stringify(this.deps.signer ? this.deps.signer.sign(reply) : reply);
  }

  delta(job: Job, d: Delta): void {
    if (!this.deps.connection.connected) return;
    const payload = JSON.stringify({ id: job.id, type: 'delta', channel: d.channel, seq: d.seq, text: d.text } satisfies DeltaMessage);
    this.deps.connection
      .publish(job.route.topic, payload, { qos: 0, correlationData: correlation(job.route) })
      .catch(() => {});
  }

  /** `extra`: fields another part adds, e.g. `thermal` when the guard slowed the task (issue 5). */
  async result(job: Job, r: GenerationResult, startedAt: number, extra?: Record<string, unknown>): Promise<void> {
    const now = this.deps.clock.now();
    const payload: ResultMessage = {
      id: job.id,
      type: 'result',
      status: 'ok',
      answer: r.answer,
      reasoning: r.reasoning,
      finish_reason: r.finish_reason,
      usage: r.usage,
      timing: { queue_ms: Math.max(0, startedAt - job.received_at), ...r.timing },
      model: r.model,
      device: this.deps.device,
      ...extra,
      created_at: now,
    };
    const text = this.final(payload);
    await this.deps.journal.finish(job.id, { state: 'done', at: now, usage: r.usage, timing: payload.timing, result: text, reply: this.message(job.route, text, now) });
    this.deps.sender.kick();
  }

  /** A task's final error; journaled when the task was (journaled = true). */
  async error(id: string | undefined, route: Route, e: ReasondError, journaled: boolean): Promise<void> {
    const now = this.deps.clock.now();
    if (!journaled) this.deps.events.emit('rejected', { id, error: e });
    const text = this.final(errorPayload(id, e, this.deps.device, now));
    const reply = this.message(route, text, now);
    if (journaled && id !== undefined) {
      await this.deps.journal.finish(id, { state: 'failed', at: now, errorCode: e.code, result: text, reply });
      this.deps.sender.kick();
    } else {
      await this.deps.sender.send(reply);
    }
  }

  /** Answers a repeated task id with the stored final reply, marked replayed. */
  async replay(stored: string, route: Route): Promise<void> {
    const now = this.deps.clock.now();
    const text = this.final({ ...JSON.parse(stored), replayed: true });
    await this.deps.sender.send(this.message(route, text, now));
  }

  private message(route: Route, payload: string, at: number): OutboxMessage {
    return { topic: route.topic, payload, properties: route.correlation_data ? { correlation_data: route.correlation_data } : undefined, created_at: at };
  }
}

export function errorPayload(id: string | undefined, e: ReasondError, device: string, now: number): ErrorMessage {
  return {
    id: id ?? null,
    type: 'error',
    status: 'error',
    error: { code: e.code as WireErrorCode, message: e.message },
    ...(e.retryAfterMs !== undefined ? { retry_after_ms: e.retryAfterMs } : {}),
    device,
    created_at: now,
  };
}

const correlation = (r: Route) => (r.correlation_data ? Buffer.from(r.correlation_data, 'base64') : undefined);
