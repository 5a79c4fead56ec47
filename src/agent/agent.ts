/**
 * The agent daemon (issue 4) as a composition root (#19): build.ts makes the
 * parts in order and hands them in; Agent starts them in that order and stops
 * them in reverse, and a part that fails to stop is logged, not fatal. What a
 * task goes through is task/pipeline.ts; who listens to it is wired in build.ts.
 *
 * Crash recovery: the pipeline answers or re-runs tasks the journal holds as
 * unfinished before the agent subscribes for new tasks.
 */
import { randomUUID } from 'node:crypto';
import { describeError } from '../core/errors.js';
import type { TaskEngine } from '../engine/index.js';
import type { EmbeddedBroker, Incoming, MosquittoBroker, MqttConnection, RequestTable } from '../mqtt/index.js';
import type { Topics } from '../protocol/index.js';
import type { Database, Outbox } from '../store/index.js';
import type { OutboxSender, TaskPipeline } from '../task/index.js';
import type { AgentTelemetry } from '../telemetry/agent-telemetry.js';
import type { AgentUpdates } from '../update/agent-updates.js';
import type { AgentConfig } from './config.js';
import type { OpenAiServer } from './openai-http.js';
import type { ReadingsStore, SiteJobs } from '../jobs/index.js';
import { checkJobSql } from '../jobs/index.js';
import type { StatusPublisher } from './status.js';

export interface AgentParts {
  config: AgentConfig;
  topics: Topics;
  db: Database;
  /** The serving engine slot (engine/slot.ts), switched between tasks by the update path. */
  engine: TaskEngine;
  connection: MqttConnection;
  /** Present when the agent runs its own broker. */
  broker?: EmbeddedBroker | MosquittoBroker;
  outbox: Outbox;
  sender: OutboxSender;
  status: StatusPublisher;
  pipeline: TaskPipeline;
  /** Admin requests: the agent's actions and the update path's (mqtt/request-table.ts). */
  requests: RequestTable;
  /** Sensors, metrics and the thermal guard (issue 5). */
  telemetry: AgentTelemetry;
  /** Model deploy/rollback (issue 6). */
  updates: AgentUpdates;
  /** The OpenAI-compatible endpoint, when http_port is set (issue 20). */
  http?: OpenAiServer;
  /** The readings of the jobs' site topics and the scheduled jobs (issue 18). */
  readings: ReadingsStore;
  jobs: SiteJobs;
  log: (line: string) => void;
}

/** How long start() waits for the broker before carrying on offline (tasks then wait in the broker). */
const FIRST_CONNECT_WAIT_MS = 15000;
const PRUNE_EVERY_MS = 3600_000;

export class Agent {
  private pruneTimer?: NodeJS.Timeout;

  constructor(readonly p: AgentParts) {}

  get config(): AgentConfig {
    return this.p.config;
  }

  get connected(): boolean {
    return this.p.connection.connected;
  }

  get queue(): TaskPipeline['queue'] {
    return this.p.pipeline.queue;
  }

  get journal(): TaskPipeline['journal'] {
    return this.p.pipeline.journal;
  }

  get outbox(): Outbox {
    return this.p.outbox;
  }

  get runningTasks(): string[] {
    return this.p.pipeline.runningIds;
  }

  get maxBatch(): number {
    return this.p.pipeline.maxBatch;
  }

  async start(): Promise<void> {
    const { config: c, connection, topics, pipeline, log } = this.p;
    await this.p.db.start();
    // a job's SQL is checked against the database before the model loads: a config error comes at once
    await this.p.jobs.openReadonly();
    await checkJobSql(this.p.jobs.specs, this.p.jobs.readonlyDb);
    const info = await this.p.engine.start();
    const kv = info.kv_cache_bytes ? `KV cache ${(info.kv_cache_bytes / 2 ** 20).toFixed(1)} MiB reserved for ${info.max_batch} x ${info.context_length} positions` : 'KV cache from the plain graph\'s outputs';
    log(`model ${info.name}${info.version ? ' ' + info.version : ''} (${info.dtype}): ${kv}; up to ${this.maxBatch} task${this.maxBatch === 1 ? '' : 's'} at once${info.batch_note ? ` (${info.batch_note})` : ''}`);
    await this.p.status.loaded(info);
    pipeline.start();
    await this.p.broker?.start();
    await pipeline.recover();
    await pipeline.prune(c.journal_keep_ms);
    await this.pruneReadings();
    this.pruneTimer = setInterval(() => {
      void pipeline.prune(c.journal_keep_ms);
      void this.pruneReadings();
    }, PRUNE_EVERY_MS).unref();
    this.p.sender.start();
    await this.p.telemetry.start((m) => this.p.sender.send(m));
    connection.onMessage((m) => this.dispatch(m));
    const subscribed = new Promise<void>((resolve) =>
      connection.onConnect(() => {
        this.online().then(resolve, (e) => log(`could not subscribe or publish the birth message: ${describeError(e)}`));
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
    await this.p.updates.start();
    await this.p.jobs.start();
    await this.p.http?.start(first === 'ok' ? FIRST_CONNECT_WAIT_MS : 0);
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
    this.p.pipeline.close();
    this.p.jobs.stopSchedules();
    await step('OpenAI-compatible endpoint', async () => this.p.http?.stop());
    await step('telemetry', () => this.p.telemetry.stop());
    // Only the pool: its tasks go to other agents now, while tasks for this device wait in the
    // broker's session for the restart.
    await step('pool subscription', async () => connection.connected && connection.unsubscribe([topics.poolShared]));
    await step('runner', () => this.p.pipeline.stop(c.grace_ms));
    await step('jobs', () => this.p.jobs.stop());
    await step('readings', () => this.p.readings.stop());
    await step('outbox', () => withTimeout(this.p.sender.idle(), 5000));
    await step('offline status', async () => connection.connected && withTimeout(this.p.status.publishOffline(), 5000));
    await step('mqtt', () => connection.stop());
    await step('embedded broker', async () => this.p.broker?.stop());
    await step('updates', () => this.p.updates.stop());
    await step('engine', () => this.p.engine.stop());
    clearInterval(this.pruneTimer);
    await step('database', () => this.p.db.stop());
  }

  private async pruneReadings(): Promise<void> {
    try {
      const n = await this.p.readings.prune();
      if (n) this.p.log(`readings: forgot ${n} reading(s) (readings_keep_ms, readings_max_rows)`);
    } catch (e) {
      this.p.log(`readings: pruning failed: ${describeError(e)}`);
    }
  }

  private async online(): Promise<void> {
    const { connection, topics } = this.p;
    const ha = this.p.config.ha_discovery ? [topics.haAsk] : [];
    await connection.subscribe([topics.task, topics.poolShared, topics.requestFilter, ...ha, ...this.p.readings.filters]);
    await this.p.status.publishOnline();
  }

  private dispatch(m: Incoming): Promise<void> {
    const t = this.p.topics;
    if (m.topic === t.task || m.topic === t.poolTask) return this.p.pipeline.handle(m);
    if (m.topic.startsWith(t.requestPrefix)) return this.p.requests.handle(m);
    if (m.topic === t.haAsk && this.p.config.ha_discovery) return this.p.pipeline.handle(haTask(m, t.haAnswer));
    // a site topic a job reads (never the agents' own topics under base_topic)
    if (!m.topic.startsWith(`${this.p.config.base_topic}/`) && this.p.readings.wants(m.topic)) this.p.readings.add(m.topic, m.payload);
    return Promise.resolve();
  }
}

/**
 * Home Assistant's Ask entity sends the question as plain text (issue 20): it becomes an ordinary task,
 * journaled and queued like any, answered on the answer topic the Answer sensor reads.
 */
function haTask(m: Incoming, answerTopic: string): Incoming {
  const task = { id: `ha-${Date.now()}-${randomUUID().slice(0, 8)}`, prompt: m.payload.toString('utf8').trim(), reply_to: answerTopic };
  return { topic: m.topic, payload: Buffer.from(JSON.stringify(task)), qos: m.qos };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]).finally(() => clearTimeout(timer));
}
