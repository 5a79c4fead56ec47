/** Builds an Agent from the resolved config; tests pass their own engine or clock. */
import { join } from 'node:path';
import type { AgentConfig } from './config.js';
import { Engine, parseDtype, type TaskEngine } from '../engine/index.js';
import { brokerConnection, EmbeddedBroker, MqttConnection } from '../mqtt/index.js';
import { topics } from '../protocol/topics.js';
import { Database } from '../store/index.js';
import { migrations } from './migrations.js';
import { systemClock, type Clock } from '../core/clock.js';
import { AgentTelemetry } from '../telemetry/agent-telemetry.js';
import { resolveTelemetry } from '../telemetry/config.js';
import type { Scheduler } from '../core/scheduler.js';
import type { CommandRunner } from '../telemetry/sensors/index.js';
import { describeError } from '../core/errors.js';
import { buildUpdates } from '../update/agent-updates.js';
import type { FreeSpaceReader } from '../update/disk.js';
import type { Prober } from '../update/probe.js';
import { Agent } from './agent.js';
import { offlineStatus } from './status.js';

export interface BuildOverrides {
  engine?: TaskEngine;
  clock?: Clock;
  log?: (line: string) => void;
  /** Telemetry's schedule and board tools (issue 5): a manual clock and fixture answers in tests. */
  scheduler?: Scheduler;
  commands?: CommandRunner;
  /** Model updates (issue 6): the package fetch, the free-space reader and the probe. */
  fetch?: typeof fetch;
  freeSpace?: FreeSpaceReader;
  probe?: Prober;
}

export function buildAgent(c: AgentConfig, o: BuildOverrides = {}): Agent {
  const log = o.log ?? ((line: string) => process.stderr.write(`[reasond] ${line}\n`));
  const t = topics(c);
  const broker = c.broker ? undefined : new EmbeddedBroker({ host: c.embedded_host, port: c.embedded_port, log });
  const connectHost = c.embedded_host === '0.0.0.0' ? '127.0.0.1' : c.embedded_host;
  const connection = new MqttConnection({
    ...brokerConnection(c),
    url: c.broker || `mqtt://${connectHost}:${c.embedded_port}`,
    clientId: `reasond-${c.device_id}`,
    // The embedded broker (aedes) speaks 3.1.1 only.
    mqttVersion: broker ? 4 : (c.mqtt_version as 4 | 5),
    persistent: true,
    will: { topic: t.status, payload: JSON.stringify(offlineStatus(c.device_id, 'connection lost')), retain: true, qos: 1 },
    log,
  });
  const clock = o.clock ?? systemClock;
  let agent: Agent | undefined;
  // A test's own engine serves as is; otherwise the engine can switch model versions (issue 6).
  const updates = o.engine ? undefined : buildUpdates({
    config: c, clock, log, fetch: o.fetch, freeSpace: o.freeSpace, probe: o.probe,
    makeEngine: (dir, dtype) => new Engine({
      model: dir,
      dtype: dtype ? parseDtype(dtype) : undefined,
      threads: c.threads || undefined,
      prefill_chunk: c.prefill_chunk,
      log: c.log_level === 'debug' ? log : undefined,
    }),
    emit: (e) => void agent?.publishEvent({ ...e }).catch((err) => log(`update event not queued: ${describeError(err)}`)),
    switched: (info) => void agent?.modelSwitched(info).catch((err) => log(`status after the model switch not sent: ${describeError(err)}`)),
  });
  const engine = o.engine ?? updates!.engine;
  const db = new Database(join(c.data_dir, 'reasond.db'), migrations);
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
    queueDepth: () => agent?.queue.size ?? 0,
  });
  agent = new Agent({ config: c, topics: t, engine, connection, broker, db, clock, log, telemetry, updates });
  return agent;
}
