/**
 * Builds an Agent from the resolved config (#19: the composition root's wiring,
 * in the order the parts depend on each other, with no part reaching for one made
 * later). Tests hand in an engine factory, a clock, a schedule and board tools;
 * the update path is always on, so tests run the engine slot the daemon runs.
 */
import type { KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bootId } from '../core/boot.js';
import { systemClock, type Clock } from '../core/clock.js';
import { describeError, ReasondError } from '../core/errors.js';
import type { Scheduler } from '../core/scheduler.js';
import { Engine, parseDtype, type TaskEngine } from '../engine/index.js';
import { brokerConnection, chooseEmbeddedBroker, EmbeddedBroker, findMosquitto, MosquittoBroker, MqttConnection, RequestTable } from '../mqtt/index.js';
import { AnswerSigner, topics } from '../protocol/index.js';
import { readPrivateKey, writeKeyPair } from '../package/signing.js';
import { Database, Outbox } from '../store/index.js';
import { engineRequest, OutboxSender, TaskPipeline, TaskQueue, type Job } from '../task/index.js';
import { ReadingsStore, SiteJobs } from '../jobs/index.js';
import { cronScheduler } from '../core/cron.js';
import { AgentTelemetry } from '../telemetry/agent-telemetry.js';
import { resolveTelemetry } from '../telemetry/config.js';
import type { CommandRunner } from '../telemetry/sensors/index.js';
import { buildUpdates } from '../update/agent-updates.js';
import type { FreeSpaceReader } from '../update/disk.js';
import type { Prober } from '../update/probe.js';
import { adminHandlers, jobHandlers } from './admin-handlers.js';
import { OpenAiServer } from './openai-http.js';
import { Agent } from './agent.js';
import type { AgentConfig } from './config.js';
import { migrations } from './migrations.js';
import { offlineStatus, StatusPublisher } from './status.js';

/** Makes the engine for a model folder: the configured one, or an installed package version. */
export type EngineFactory = (dir: string, dtype?: string) => TaskEngine;

export interface BuildOverrides {
  /** Tests hand in engines that borrow one started engine; the engine slot and the update path stay as in the daemon. */
  makeEngine?: EngineFactory;
  clock?: Clock;
  log?: (line: string) => void;
  /** Telemetry's schedule and board tools (issue 5): a manual clock and fixture answers in tests. */
  scheduler?: Scheduler;
  commands?: CommandRunner;
  /** Model updates (issue 6): the package fetch, the free-space reader and the probe. */
  fetch?: typeof fetch;
  freeSpace?: FreeSpaceReader;
  probe?: Prober;
  /** This boot's id (default: the kernel's); tests stand in a power cut with another. */
  bootId?: string;
}

/**
 * The broker the agent runs when none is configured (issue 20): Mosquitto when it is installed (MQTT 5
 * on the default path), else aedes in the process, MQTT 3.1.1 only, which it says.
 */
export function embeddedBroker(
  c: Pick<AgentConfig, 'embedded_broker' | 'embedded_host' | 'embedded_port' | 'data_dir'>, log: (line: string) => void, find: () => string | undefined = findMosquitto,
): EmbeddedBroker | MosquittoBroker {
  const choice = chooseEmbeddedBroker(c.embedded_broker, find);
  if (choice.kind === 'mosquitto') return new MosquittoBroker({ host: c.embedded_host, port: c.embedded_port, dataDir: c.data_dir, binary: choice.binary, log });
  if (choice.missing) log('mosquitto is not installed: the embedded broker is aedes, MQTT 3.1.1 only (MQTT 5 clients such as mosquitto_rr -V mqttv5 need Mosquitto: apt-get install mosquitto)');
  return new EmbeddedBroker({ host: c.embedded_host, port: c.embedded_port, log });
}

/** `<data_dir>/answer.key`: made at the first start (mode 0600), kept for the device's life. */
function answerKey(dataDir: string): KeyObject {
  const prefix = join(dataDir, 'answer');
  if (!existsSync(`${prefix}.key`)) writeKeyPair(prefix);
  return readPrivateKey(`${prefix}.key`);
}

/** How long a request to the OpenAI-compatible endpoint may wait for its answer (its task's deadline). */
const HTTP_DEADLINE_MS = 600_000;

export function buildAgent(c: AgentConfig, o: BuildOverrides = {}): Agent {
  const log = o.log ?? ((line: string) => process.stderr.write(`[reasond] ${line}\n`));
  const clock = o.clock ?? systemClock;
  const boot = o.bootId ?? bootId();
  const t = topics(c);

  // the broker connection (and the embedded broker when no broker is configured)
  const broker = c.broker ? undefined : embeddedBroker(c, log);
  const connectHost = c.embedded_host === '0.0.0.0' ? '127.0.0.1' : c.embedded_host;
  // the agent's connection and its OpenAI endpoint's: one broker, one protocol (aedes speaks 3.1.1 only)
  const link = {
    ...brokerConnection(c),
    url: c.broker || `mqtt://${connectHost}:${c.embedded_port}`,
    mqttVersion: broker instanceof EmbeddedBroker ? 4 as const : (c.mqtt_version as 4 | 5),
  };
  const connection = new MqttConnection({
    ...link,
    clientId: `reasond-${c.device_id}`,
    persistent: true,
    will: { topic: t.status, payload: JSON.stringify(offlineStatus(c.device_id, 'connection lost')), retain: true, qos: 1 },
    log,
  });

  // the journal and outbox database, and what goes out through the outbox
  const db = new Database(join(c.data_dir, 'reasond.db'), migrations, c.journal_durability === 'normal' ? 'NORMAL' : 'FULL');
  const outbox = new Outbox(db);
  const sender = new OutboxSender(outbox, connection, log);
  // the device's answer key: its answers are signed, its status carries the public half (issue 16)
  const signer = new AnswerSigner(answerKey(c.data_dir));
  const status = new StatusPublisher({
    device: c.device_id, pool: c.pool, maxNewTokensLimit: c.max_new_tokens_limit, topic: t.status, clock, connection,
    hashIndex: join(c.data_dir, 'graphs', 'sha256-index.json'), answerKey: signer.answerKey,
  });

  // the update path owns the engine slot the tasks run on (issue 6)
  const makeEngine: EngineFactory = o.makeEngine ?? ((dir, dtype) => new Engine({
    model: dir,
    dtype: dtype ? parseDtype(dtype) : undefined,
    threads: c.threads || undefined,
    prefill_chunk: c.prefill_chunk,
    context_tokens: c.context_tokens,
    graph_rewrites: c.graph_rewrites,
    max_batch: c.max_batch,
    // Rewritten graphs live with the agent's data, never in a signed model folder.
    graph_cache_dir: join(c.data_dir, 'graphs'),
    log: c.log_level === 'debug' ? log : undefined,
  }));
  const updates = buildUpdates({
    config: c, clock, log, fetch: o.fetch, freeSpace: o.freeSpace, probe: o.probe, makeEngine, bootId: boot,
    emit: (e) => void sender.send({ topic: t.events, payload: JSON.stringify(e), created_at: clock.now() }).catch((err) => log(`update event not queued: ${describeError(err)}`)),
    switched: (info) => void status.modelSwitched(info).catch((err) => log(`status after the model switch not sent: ${describeError(err)}`)),
  });
  const engine = updates.engine;

  // telemetry and the thermal guard, which paces the task path (issue 5)
  const queue = new TaskQueue<Job>(c.queue_max);
  // the pipeline is made after telemetry, which reports its running tasks
  let running: () => { ids: string[]; max: number } = () => ({ ids: [], max: 1 });
  const telemetry = new AgentTelemetry({
    settings: resolveTelemetry(c), base_topic: c.base_topic, device_id: c.device_id, link: connection, db,
    now: () => clock.now(), log, scheduler: o.scheduler, run: o.commands,
    model: () => {
      try {
        const { name, version, dtype } = engine.info;
        return version === undefined ? { name, dtype } : { name, version, dtype };
      } catch {
        return undefined; // not loaded yet
      }
    },
    queueDepth: () => queue.size,
    batch: () => {
      const r = running();
      return { running: r.ids.length, max: r.max };
    },
  });

  // the task path, and who listens to it
  const pipeline = new TaskPipeline({
    device: c.device_id, limits: c, engine, db, queue, sender, connection, eventsTopic: t.events, clock, log,
    admit: () => telemetry.admit(),
    pace: (job) => telemetry.pace(job.id),
    maxConcurrency: () => telemetry.maxConcurrency(),
    bootId: boot,
    signer,
  });
  running = () => ({ ids: pipeline.runningIds, max: pipeline.maxBatch });
  pipeline.events.on('finished', ({ job, result, startedAt }) => telemetry.finished(job.id, result, startedAt, Math.max(0, startedAt - job.received_at)));
  pipeline.events.on('failed', ({ job, error, startedAt }) => telemetry.failed(job.id, error.code, startedAt));
  pipeline.events.on('rejected', ({ error }) => telemetry.rejected(error.code));
  pipeline.events.on('finished', () => updates.taskEnded());
  pipeline.events.on('failed', ({ error }) => updates.taskEnded(error.code));

  // scheduled reasoning jobs over site data (issue 18): the readings they read, and the runs, through the task queue
  const dbPath = join(c.data_dir, 'reasond.db');
  const readings = new ReadingsStore({
    db, rules: c.jobs.filter((j) => j.input.kind === 'topics').flatMap((j) => (j.input.kind === 'topics' ? j.input.topics.map((filter) => ({ filter, field: j.input.kind === 'topics' ? j.input.field : undefined })) : [])),
    payloadBytes: c.readings_payload_bytes, keepMs: c.readings_keep_ms, maxRows: c.readings_max_rows, now: () => clock.now(), log,
  });
  const jobs = new SiteJobs({
    jobs: c.jobs, device: c.device_id, base: c.base_topic, db, readonly: Database.readOnly(dbPath), outbox, kick: () => sender.kick(), readings,
    submit: (request, sink) => pipeline.submitLocal(request, sink),
    fits: async (request) => {
      // a job's prompt must leave room for its whole answer (max_new_tokens), not only for a first token
      const req = engineRequest({ id: request.id, priority: -1, seq: 0, request, route: { topic: '' }, received_at: 0 }, c.default_max_new_tokens);
      const n = await engine.countPromptTokens(req);
      const ctx = engine.info.context_length;
      if (n + req.max_new_tokens! > ctx) throw new ReasondError('context_overflow', `the prompt is ${n} tokens and the job may answer in up to ${req.max_new_tokens}; the model's context is ${ctx}`);
    },
    eventsTopic: t.events, scheduler: o.scheduler ?? cronScheduler(), clock, log,
    onResult: (r) => telemetry.jobResult(r.job, r.status, r.value),
    haPrefix: c.ha_discovery ? c.ha_prefix : undefined,
  });

  // admin requests: the agent's own actions and the update path's
  const view = {
    config: c, journal: pipeline.journal, outbox, queue,
    get connected() {
      return connection.connected;
    },
    get runningTasks() {
      return pipeline.runningIds;
    },
    get maxBatch() {
      return pipeline.maxBatch;
    },
    onlineStatus: () => status.online(),
    cancel: (id: string) => pipeline.cancel(id),
  };
  const requests = new RequestTable({
    requestPrefix: t.requestPrefix,
    responseTopic: t.response,
    publish: (topic, payload, correlationData) => connection.publish(topic, payload, { qos: 1, correlationData }),
    handlers: { ...adminHandlers(view), ...updates.handlers(), ...jobHandlers(jobs) },
    log,
    // a rollback waiting for a download must not stop pings and tasks (issue 16)
    background: true,
  });

  // the OpenAI-compatible endpoint (issue 20): a client of this agent with its own broker connection
  const http = c.http_port === 0 ? undefined : new OpenAiServer({
    host: c.http_host, port: c.http_port, token: c.http_token, maxBodyBytes: c.max_payload_bytes, timeoutMs: HTTP_DEADLINE_MS,
    connection: new MqttConnection({ ...link, clientId: `reasond-${c.device_id}-http`, log }),
    taskTopic: t.task, replyTopic: t.httpReplies, cancelTopic: `${t.requestPrefix}task/cancel`,
    modelName: () => {
      try {
        return engine.info.name;
      } catch {
        return 'not loaded';
      }
    },
    log,
  });

  return new Agent({ config: c, topics: t, db, engine, connection, broker, outbox, sender, status, pipeline, requests, telemetry, updates, http, readings, jobs, log });
}
