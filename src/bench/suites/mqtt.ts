/**
 * The mqtt suite (issue 9), for the embedded broker and Mosquitto:
 * - latency: a short task through broker and agent against the same request
 *   as a direct engine call, alternating; overhead = MQTT time minus the
 *   direct call's just before it, p50 and p99 over the pairs;
 * - throughput: tasks/s through the whole pipeline (validation, journal,
 *   queue, runner, reply) with an engine that answers at once, with a window
 *   of tasks in flight so the bounded queue is never what limits it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildAgent, type Agent } from '../../agent/index.js';
import { loadConfig } from '../../agent/config.js';
import { Engine } from '../../engine/index.js';
import { MqttConnection } from '../../mqtt/index.js';
import type { TaskEngine } from '../../engine/index.js';
import { freePort, hasMosquitto, startMosquitto } from '../brokers.js';
import { BorrowedEngine, InstantEngine } from '../engines.js';
import { percentile, round } from '../stats.js';

export interface MqttFigures {
  broker: string;
  broker_version?: string;
  latency_ms: { direct_p50: number; direct_p99: number; mqtt_p50: number; mqtt_p99: number; overhead_p50: number; overhead_p99: number; n: number };
  pipeline: { tasks: number; ok: number; errors: Record<string, number>; tasks_per_s: number; window: number };
  /** The same with journal_durability normal (SQLite synchronous=NORMAL: no fsync per commit), measured right after. */
  pipeline_normal?: { tasks_per_s: number; ok: number };
}

interface Setup { kind: 'embedded' | 'mosquitto'; url?: string; port: number }

async function startAgent(engine: TaskEngine, s: Setup, modelDir: string, durability: 'full' | 'normal' = 'full'): Promise<Agent> {
  const config = loadConfig({
    cli: {
      'device-id': 'bench', 'data-dir': mkdtempSync(join(tmpdir(), 'reasond-bench-agent-')), model: modelDir,
      broker: s.url ?? '', 'embedded-port': s.port, 'queue-max': 256, 'reconnect-ms': 300, 'journal-durability': durability,
    },
    env: {},
  });
  const agent = buildAgent(config, { makeEngine: () => engine, log: () => {} });
  await agent.start();
  return agent;
}

class Client {
  private waiting = new Map<string, (r: any) => void>();
  readonly conn: MqttConnection;
  readonly reply = `bench/replies/${process.pid}`;
  constructor(url: string, version: 4 | 5) {
    this.conn = new MqttConnection({ url, clientId: `reasond-bench-${process.pid}-${Date.now()}`, mqttVersion: version, reconnectMs: 500 });
    this.conn.onMessage(async (m) => {
      const r = JSON.parse(m.payload.toString('utf8'));
      if (r.type === 'delta') return;
      this.waiting.get(r.id)?.(r);
      this.waiting.delete(r.id);
    });
  }
  async start(): Promise<void> {
    await this.conn.start();
    await this.conn.subscribe([this.reply]);
  }
  ask(task: Record<string, unknown>): Promise<any> {
    const done = new Promise<any>((resolve) => this.waiting.set(String(task.id), resolve));
    void this.conn.publish('reasond/bench/task', JSON.stringify({ ...task, reply_to: this.reply }), { qos: 1 });
    return done;
  }
}

export async function mqttSuite(o: { dir: string; threads: number; samples: number; pipelineTasks: number; progress: (l: string) => void }): Promise<MqttFigures[]> {
  const setups: Setup[] = [{ kind: 'embedded', port: await freePort() }];
  let mosquitto: Awaited<ReturnType<typeof startMosquitto>> | undefined;
  if (hasMosquitto()) {
    mosquitto = await startMosquitto();
    setups.push({ kind: 'mosquitto', url: mosquitto.url, port: await freePort() });
  } else o.progress('mqtt: mosquitto is not installed; the embedded broker only');
  const engine = new Engine({ model: o.dir, threads: o.threads });
  await engine.start();
  const out: MqttFigures[] = [];
  try {
    for (const s of setups) {
      const url = s.url ?? `mqtt://127.0.0.1:${s.port}`;
      const version = s.kind === 'embedded' ? 4 : 5;
      const agent = await startAgent(new BorrowedEngine(engine), s, o.dir);
      const client = new Client(url, version);
      await client.start();
      const req = { prompt: 'What is 2 + 3?', temperature: 0, max_new_tokens: 8 };
      const direct: number[] = [];
      const viaMqtt: number[] = [];
      for (let i = 0; i < o.samples + 5; i++) {
        let t = performance.now();
        await engine.generate(req);
        const d = performance.now() - t;
        t = performance.now();
        const r = await client.ask({ id: `lat-${s.kind}-${i}`, ...req });
        if (r.status !== 'ok') throw new Error(`mqtt task failed: ${JSON.stringify(r.error)}`);
        const m = performance.now() - t;
        if (i >= 5) { direct.push(d); viaMqtt.push(m); }
      }
      await client.conn.stop();
      await agent.stop();
      const p = (v: number[], q: number) => round(percentile(v, q), 2);
      // Paired: each MQTT task against the direct call just before it, so a drift of the machine cancels out.
      const overhead = viaMqtt.map((m, i) => m - direct[i]);
      const latency = {
        direct_p50: p(direct, 50), direct_p99: p(direct, 99), mqtt_p50: p(viaMqtt, 50), mqtt_p99: p(viaMqtt, 99),
        overhead_p50: p(overhead, 50), overhead_p99: p(overhead, 99), n: direct.length,
      };
      o.progress(`mqtt (${s.kind}): short task ${latency.mqtt_p50} ms p50 through the broker, ${latency.direct_p50} ms direct: overhead p50 ${latency.overhead_p50} ms, p99 ${latency.overhead_p99} ms`);

      const measurePipeline = async (durability: 'full' | 'normal') => {
        const agent2 = await startAgent(new InstantEngine(engine.info.file), { ...s, port: s.kind === 'embedded' ? await freePort() : s.port }, o.dir, durability);
        const client2 = new Client(s.kind === 'embedded' ? `mqtt://127.0.0.1:${(agent2.config as any).embedded_port}` : url, version);
        await client2.start();
        const window = 32;
        const errors: Record<string, number> = {};
        let ok = 0;
        let next = 0;
        const t0 = performance.now();
        const worker = async () => {
          while (next < o.pipelineTasks) {
            const r = await client2.ask({ id: `tp-${s.kind}-${durability}-${next++}`, prompt: 'What is 2 + 3?', max_new_tokens: 4 });
            if (r.status === 'ok') ok++;
            else errors[r.error?.code ?? 'unknown'] = (errors[r.error?.code ?? 'unknown'] ?? 0) + 1;
          }
        };
        await Promise.all(Array.from({ length: window }, worker));
        const secs = (performance.now() - t0) / 1000;
        await client2.conn.stop();
        await agent2.stop();
        return { tasks: o.pipelineTasks, ok, errors, tasks_per_s: round(ok / secs, 1), window };
      };
      // the journal's durability (issue 17): a commit reaches the disk before the PUBACK, against the earlier fsync-free setting
      const pipeline = await measurePipeline('full');
      const normal = await measurePipeline('normal');
      o.progress(`mqtt (${s.kind}): pipeline with an instant engine: ${pipeline.tasks_per_s} tasks/s with journal_durability full (${pipeline.ok}/${o.pipelineTasks} ok), ${normal.tasks_per_s} with normal`);
      out.push({ broker: s.kind, broker_version: s.kind === 'mosquitto' ? mosquitto?.version : 'aedes (embedded)', latency_ms: latency, pipeline, pipeline_normal: { tasks_per_s: normal.tasks_per_s, ok: normal.ok } });
    }
  } finally {
    await engine.stop();
    await mosquitto?.stop();
  }
  return out;
}
