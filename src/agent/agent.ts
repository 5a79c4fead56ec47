/**
 * The agent daemon (issue 4): wires journal, engine, broker connection,
 * intake, queue, runner, outbox and admin. Parts start in order and stop in
 * reverse; a part that fails to stop is logged, not fatal.
 *
 * Crash recovery: tasks journaled as received or running but never finished
 * are run again at start (or answered deadline_exceeded if their deadline
 * passed), before the agent subscribes for new tasks.
 */
import { describeError, ReasondError } from '../core/errors.js';
import { RequestTable, type EmbeddedBroker, type Incoming, type MqttConnection } from '../mqtt/index.js';
import type { Topics } from '../protocol/topics.js';
import { Journal, Outbox, type Database } from '../store/index.js';
import type { Clock } from '../core/clock.js';
import { Runner, TaskQueue, TaskValidator, type Job } from '../task/index.js';
import type { AgentConfig } from './config.js';
import type { AgentTelemetry } from '../telemetry/agent-telemetry.js';
import type { AgentUpdates } from '../update/agent-updates.js';
import type { ModelInfo, TaskEngine } from '../engine/index.js';
import { adminHandlers } from './admin-handlers.js';
import { Intake } from './intake.js';
import { Replies } from './replies.js';
import { OutboxSender } from './sender.js';
import { sha256File } from '../core/hash.js';
import { offlineStatus, onlineStatus, type StatusContext } from './status.js';

export interface AgentParts {
  config: AgentConfig;
  topics: Topics;
  engine: TaskEngine;
  connection: MqttConnection;
  /** Present when the agent runs its own broker. */
  broker?: EmbeddedBroker;
  db: Database;
  clock: Clock;
  log: (line: string) => void;
  /** Sensors, metrics and the thermal guard (issue 5). */
  telemetry?: AgentTelemetry;
  /** Model deploy/rollback (issue 6): its engine is `engine`; it adds admin actions and watches task outcomes. */
  updates?: AgentUpdates;
}

/** How long start() waits for the broker before carrying on offline (tasks then wait in the broker). */
const FIRST_CONNECT_WAIT_MS = 15000;
/** Runs of one task that ended with the agent dying; after this many it may be what kills the agent. */
const MAX_CRASHED_RUNS = 2;
const PRUNE_EVERY_MS = 3600_000;

export class Agent {
  readonly journal: Journal;
  readonly outbox: Outbox;
  readonly queue: TaskQueue<Job>;
  private readonly validator: TaskValidator;
  private readonly sender: OutboxSender;
  private readonly replies: Replies;
  private readonly runner: Runner;
  private readonly intake: Intake;
  private readonly admin: RequestTable;
  private readonly startedAt = new Map<string, number>();
  private status?: StatusContext;
  private pruneTimer?: NodeJS.Timeout;

  constructor(private readonly p: AgentParts) {
    const c = p.config;
    this.journal = new Journal(p.db);
    this.outbox = new Outbox(p.db);
    this.queue = new TaskQueue<Job>(c.queue_max);
    this.validator = new TaskValidator({ max_new_tokens_limit: c.max_new_tokens_limit, max_payload_bytes: c.max_payload_bytes });
    this.sender = new OutboxSender(this.outbox, p.connection, p.log);
    this.replies = new Replies({
      device: c.device_id, journal: this.journal, sender: this.sender, connection: p.connection, clock: p.clock,
      onError: (code, journaled) => void (journaled || p.telemetry?.rejected(code)),
    });
    this.runner = new Runner({
      engine: p.engine, queue: this.queue, clock: p.clock, defaultMaxNewTokens: c.default_max_new_tokens, log: p.log,
      pace: p.telemetry && ((job) => p.telemetry!.pace(job.id)),
      hooks: {
        started: async (job) => {
          this.startedAt.set(job.id, p.clock.now());
          await this.journal.running(job.id, p.clock.now());
        },
        delta: (job, d) => this.replies.delta(job, d),
        finished: async (job, r) => {
          const startedAt = this.startedAt.get(job.id) ?? p.clock.now();
          const thermal = p.telemetry?.finished(job.id, r, startedAt, Math.max(0, startedAt - job.received_at));
          p.updates?.taskEnded();
          await this.replies.result(job, r, startedAt, thermal && { thermal });
          this.startedAt.delete(job.id);
        },
        failed: async (job, e) => {
          p.telemetry?.failed(job.id, e.code, this.startedAt.get(job.id));
          p.updates?.taskEnded(e.code);
          this.startedAt.delete(job.id);
          await this.replies.error(job.id, job.route, e, true);
        },
      },
    });
    this.intake = new Intake({
      validator: this.validator, journal: this.journal, queue: this.queue, runner: this.runner, engine: p.engine,
      replies: this.replies, sender: this.sender, clock: p.clock, eventsTopic: p.topics.events,
      defaultMaxNewTokens: c.default_max_new_tokens, log: p.log,
      admit: p.telemetry && (() => p.telemetry!.admit()),
    });
    this.admin = new RequestTable({
      requestPrefix: p.topics.requestPrefix,
      responseTopic: p.topics.response,
      publish: (topic, payload, correlationData) => p.connection.publish(topic, payload, { qos: 1, correlationData }),
      handlers: { ...adminHandlers(this), ...p.updates?.handlers() },
      log: p.log,
    });
  }

  get config(): AgentConfig {
    return this.p.config;
  }

  get runningTask(): string | undefined {
    return this.runner.runningId;
  }

  cancel(id: string): Promise<'queued' | 'running' | undefined> {
    return this.runner.cancel(id);
  }

  onlineStatus(): Record<string, unknown> {
    if (!this.status) throw new ReasondError('model_unavailable', 'the agent has not started');
    return onlineStatus(this.status, this.p.clock.now());
  }

  /** Publishes on <base>/<device>/events through the outbox (model updates, issue 6). */
  publishEvent(payload: Record<string, unknown>): Promise<void> {
    return this.sender.send({ topic: this.p.topics.events, payload: JSON.stringify(payload), created_at: this.p.clock.now() });
  }

  /** The engine switched models between tasks (issue 6): the retained status names the new one. */
  async modelSwitched(model: ModelInfo): Promise<void> {
    if (!this.status) return;
    this.status = { ...this.status, model, modelSha256: await sha256File(model.file) };
    if (this.p.connection.connected) await this.p.connection.publish(this.p.topics.status, JSON.stringify(this.onlineStatus()), { qos: 1, retain: true });
  }

  get connected(): boolean {
    return this.p.connection.connected;
  }

  async start(): Promise<void> {
    const { config: c, connection, topics, log } = this.p;
    await this.p.db.start();
    const model = await this.p.engine.start();
    this.status = {
      device: c.device_id, pool: c.pool, model, modelSha256: await sha256File(model.file),
      maxNewTokensLimit: c.max_new_tokens_limit, mqttVersion: connection.protocolVersion, startedAt: this.p.clock.now(),
    };
    this.validator.start();
    await this.p.broker?.start();
    await this.recover();
    await this.prune();
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_EVERY_MS).unref();
    this.sender.start();
    await this.p.telemetry?.start((m) => this.sender.send(m));
    connection.onMessage((m) => this.dispatch(m));
    const subscribed = new Promise<void>((resolve) =>
      connection.onConnect(() => {
        this.status!.mqttVersion = connection.protocolVersion;
        this.online()
          .then(resolve, (e) => log(`could not subscribe or publish the birth message: ${describeError(e)}`));
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), FIRST_CONNECT_WAIT_MS)));
    const connecting = connection.start().then(() => subscribed).then(() => 'ok' as const);
    // A refusal after the wait (bad credentials) must not become an unhandled rejection.
    connecting.catch((e) => log(describeError(e)));
    const first = await Promise.race([connecting, waited]);
    clearTimeout(timer);
    if (first === 'late') log(`the broker is not reachable yet; retrying every ${c.reconnect_ms} ms`);
    await this.p.updates?.start();
    log(`agent ${c.device_id} ready: tasks on ${topics.task} and ${topics.poolTask}`);
  }

  async stop(): Promise<void> {
    const { config: c, connection, topics, log } = this.p;
    const step = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        log(`stopping ${name} failed: ${describeError(e)}`);
      }
    };
    this.intake.close();
    await step('telemetry', async () => this.p.telemetry?.stop());
    // Only the pool: its tasks go to other agents now, while tasks for this device wait in the
    // broker's session for the restart.
    await step('pool subscription', async () => connection.connected && connection.unsubscribe([topics.poolShared]));
    await step('runner', () => this.runner.stop(c.grace_ms));
    await step('outbox', () => withTimeout(this.sender.idle(), 5000));
    await step('offline status', async () =>
      connection.connected && withTimeout(connection.publish(topics.status, JSON.stringify(offlineStatus(c.device_id, 'stopped', this.p.clock.now())), { qos: 1, retain: true }), 5000),
    );
    await step('mqtt', () => connection.stop());
    await step('embedded broker', async () => this.p.broker?.stop());
    await step('updates', async () => this.p.updates?.stop());
    await step('engine', () => this.p.engine.stop());
    clearInterval(this.pruneTimer);
    await step('database', () => this.p.db.stop());
  }

  private async online(): Promise<void> {
    const { connection, topics } = this.p;
    await connection.subscribe([topics.task, topics.poolShared, topics.requestFilter]);
    await connection.publish(topics.status, JSON.stringify(this.onlineStatus()), { qos: 1, retain: true });
  }

  private dispatch(m: Incoming): Promise<void> {
    const t = this.p.topics;
    if (m.topic === t.task || m.topic === t.poolTask) return this.intake.handle(m);
    if (m.topic.startsWith(t.requestPrefix)) return this.admin.handle(m);
    return Promise.resolve();
  }

  private async prune(): Promise<void> {
    const keep = this.p.config.journal_keep_ms;
    if (keep === 0) return;
    try {
      const n = await this.journal.prune(this.p.clock.now() - keep);
      if (n) this.p.log(`journal: forgot ${n} task(s) finished more than ${keep} ms ago`);
    } catch (e) {
      this.p.log(`journal: pruning failed: ${describeError(e)}`);
    }
  }

  private async recover(): Promise<void> {
    const rows = await this.journal.unfinished();
    for (const r of rows) {
      const job: Job = {
        id: r.id, priority: r.priority, seq: this.intake.nextSeq(), request: JSON.parse(r.request), route: JSON.parse(r.route),
        received_at: r.received_at, deadline_at: r.deadline_at ?? undefined,
      };
      if (r.state === 'running' && r.attempts >= MAX_CRASHED_RUNS) {
        const why = `task ${r.id} was running when the agent stopped ${r.attempts} times; it is not run again`;
        await this.replies.error(r.id, job.route, new ReasondError('internal', why), true);
        continue;
      }
      this.queue.push(job);
    }
    if (rows.length) this.p.log(`recovered ${rows.length} unfinished task(s) from the journal`);
    this.runner.kick();
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}
