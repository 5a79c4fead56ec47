/**
 * Telemetry end to end (#5): an agent on a Raspberry Pi 5 fixture tree, a real
 * broker (embedded, and Mosquitto when installed), the schedule driven by a manual
 * clock. The test heats the fixture's temperature file and watches the guard go
 * soft, hard and back on the events topic, a task answered thermal_throttled while
 * hard, metrics on schedule, and the rows `reasond stats` reads afterwards.
 */
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { buildAgent } from '../../src/agent/index.js';
import { Engine, type GenerateRequest } from '../../src/engine/index.js';
import type { TaskEngine } from '../../src/engine/index.js';
import { loadConfig } from '../../src/agent/config.js';
import { MqttConnection } from '../../src/mqtt/index.js';
import { Database } from '../../src/store/index.js';
import { migrations } from '../../src/agent/migrations.js';
import { statsReport } from '../../src/telemetry/stats/report.js';
import { ManualClock, ManualScheduler } from '../helpers/manual-scheduler.js';
import { tempDir, tinyRandom } from '../helpers/models.js';
import { copySysFixture, fixtureCommands, setTemp } from '../helpers/sysfs.js';

const T0 = Date.UTC(2026, 10, 29, 3, 0, 0);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Msg {
  topic: string;
  json: any;
}

/** A subscriber that keeps every message; waitFor gives up after a generous bound (a failure, never a timing check). */
async function listener(url: string, version: 4 | 5, filters: string[]) {
  const conn = new MqttConnection({ url, clientId: `watch-${Math.random().toString(16).slice(2)}`, mqttVersion: version });
  const got: Msg[] = [];
  conn.onMessage(async (m) => void got.push({ topic: m.topic, json: JSON.parse(m.payload.toString()) }));
  await conn.start();
  await conn.subscribe(filters);
  const waitFor = async (pred: (m: Msg) => boolean, what: string): Promise<Msg> => {
    for (let i = 0; i < 400; i++) {
      const m = got.find(pred);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no message: ${what}; got ${got.map((m) => m.topic).join(', ')}`);
  };
  return { conn, got, waitFor };
}

async function scenario(t: ExecutionContext, broker: 'embedded' | 'mosquitto') {
  const root = copySysFixture('rpi5');
  const dataDir = tempDir('reasond-telemetry-');
  const port = await freePort();
  let mosquitto: ChildProcess | undefined;
  if (broker === 'mosquitto') {
    mosquitto = spawn('mosquitto', ['-p', String(port)], { stdio: 'ignore' });
    t.teardown(() => void mosquitto?.kill());
    await new Promise((r) => setTimeout(r, 300)); // let it bind; connect retries cover a slow start
  }
  const url = `mqtt://127.0.0.1:${port}`;
  const device = `hot-${broker}`;
  const probeFile = join(dataDir, 'probe.csv');
  writeFileSync(probeFile, 'value\n21\n23\n');
  const config = loadConfig({
    cli: {
      'device-id': device,
      'data-dir': dataDir,
      model: tinyRandom,
      ...(broker === 'embedded' ? { 'embedded-port': port } : { broker: url }),
      'sys-root': root,
      'metrics-interval': 30,
      'thermal-interval': 5,
      'thermal-soft-c': 70,
      'thermal-hard-c': 80,
      'thermal-hysteresis-c': 5,
      'thermal-soft-pause-ms': 0,
      'thermal-soft-step-pause-ms': 1,
      'ha-discovery': true,
      // a scheduled job (issue 18), run by hand below: the thermal guard applies to it as to any task
      jobs: JSON.stringify([{ name: 'probe', schedule: '0 0 1 1 *', enabled: false, input: { file: probeFile }, prompt: 'Values: {{ texts|join(", ") }}. Highest?', generation: { max_new_tokens: 4 } }]),
    },
    env: {},
  });
  const clock = new ManualClock(T0);
  const scheduler = new ManualScheduler(clock);
  const logs: string[] = [];
  // the real engine, recording the requests it is asked to run
  const real = new Engine({ model: tinyRandom });
  const requests: GenerateRequest[] = [];
  const engine: TaskEngine = {
    start: () => real.start(),
    stop: () => real.stop(),
    get info() {
      return real.info;
    },
    checkPrompt: (r) => real.checkPrompt(r),
    countPromptTokens: (r) => real.countPromptTokens(r),
    generate: (r, h) => {
      requests.push(r);
      return real.generate(r, h);
    },
  };
  const agent = buildAgent(config, { makeEngine: () => engine, clock, scheduler, commands: fixtureCommands(root), log: (l) => logs.push(l) });
  await agent.start();
  let stopped = false;
  t.teardown(async () => {
    if (!stopped) await agent.stop();
  });
  const version = broker === 'embedded' ? 4 : 5;
  const w = await listener(url, version, [`reasond/${device}/#`, 'homeassistant/#', `replies/${device}`]);
  t.teardown(() => w.conn.stop());

  // retained: the first metrics and the HA configs are there for a late subscriber
  const first = await w.waitFor((m) => m.topic === `reasond/${device}/metrics`, 'retained metrics');
  t.is(first.json.at, '2026-11-29T03:00:00.000Z');
  t.is(first.json.thermal.hottest_c, 52.65);
  t.is(first.json.thermal.guard, 'normal');
  t.deepEqual(first.json.board, { kind: 'raspberry-pi', model: 'Raspberry Pi 5 Model B Rev 1.0' });
  t.deepEqual([first.json.power.board_w, first.json.power.source], [2.746, 'pmic_sum']);
  await w.waitFor((m) => m.topic === `homeassistant/sensor/reasond_${device}/temperature/config`, 'HA discovery');

  const event = (to: string) => w.waitFor((m) => m.topic === `reasond/${device}/events` && m.json.type === 'thermal' && m.json.to === to, `thermal ${to}`);
  setTemp(root, 'thermal_zone0', 72);
  await scheduler.advance(5_000);
  const soft = await event('soft');
  t.like(soft.json, { from: 'normal', reason: 'temperature', temp_c: 72, zone: 'cpu-thermal', at: '2026-11-29T03:00:05.000Z' });

  // soft: the task runs with half its reasoning budget
  await w.conn.publish(`reasond/${device}/task`, JSON.stringify({ id: 'while-soft', prompt: '3+4?', max_new_tokens: 4, reasoning: { budget_tokens: 40 }, reply_to: `replies/${device}` }), { qos: 1 });
  const slowed = await w.waitFor((m) => m.topic === `replies/${device}` && m.json.id === 'while-soft' && m.json.type === 'result', 'a result while soft');
  t.is(requests.at(-1)!.reasoning?.budget_tokens, 20);
  t.deepEqual(slowed.json.thermal, { state: 'soft', pause_ms: 0, step_pause_ms: 1, reasoning_budget_tokens: 20 }); // and it says so

  setTemp(root, 'thermal_zone0', 84.5);
  await scheduler.advance(5_000);
  const hard = await event('hard');
  t.like(hard.json, { from: 'soft', temp_c: 84.5, policy: { accept: false, retry_after_ms: 30_000 } });

  await w.conn.publish(`reasond/${device}/task`, JSON.stringify({ id: 'while-hard', prompt: '2+2?', max_new_tokens: 4, reply_to: `replies/${device}` }), { qos: 1 });
  const refused = await w.waitFor((m) => m.topic === `replies/${device}` && m.json.id === 'while-hard', 'thermal_throttled answer');
  t.like(refused.json, { status: 'error', error: { code: 'thermal_throttled' }, retry_after_ms: 30_000 });
  t.is(refused.json.error.message, 'the board is at 84.5 °C, above its hard limit; retry after 30000 ms');
  const job = await agent.p.jobs.runNow('probe');
  t.like(job, { status: 'error', error: { code: 'thermal_throttled', message: 'the board is at 84.5 °C, above its hard limit; retry after 30000 ms' }, input: { rows: 2, used_rows: 2 } });
  t.is(requests.length, 1, 'the job run never reached the engine');

  setTemp(root, 'thermal_zone0', 50);
  await scheduler.advance(5_000);
  t.like((await event('normal')).json, { from: 'hard', reason: 'cooled', temp_c: 50 });

  await w.conn.publish(`reasond/${device}/task`, JSON.stringify({ id: 'cool-again', prompt: '2+2?', max_new_tokens: 4, reply_to: `replies/${device}` }), { qos: 1 });
  const ok = await w.waitFor((m) => m.topic === `replies/${device}` && m.json.id === 'cool-again' && m.json.type === 'result', 'a result once cool');
  t.is(ok.json.status, 'ok');
  t.false('thermal' in ok.json);

  // metrics on schedule: the 30 s sample carries the guard state and the rejection
  await scheduler.advance(15_000);
  const at30 = await w.waitFor((m) => m.topic === `reasond/${device}/metrics` && m.json.at === '2026-11-29T03:00:30.000Z', 'metrics at 30 s');
  t.is(at30.json.thermal.guard, 'normal');
  t.deepEqual(at30.json.throughput.rejections_total, { thermal_throttled: 1 });
  t.is(at30.json.throughput.tasks, 2);
  t.deepEqual(
    w.got.filter((m) => m.topic === `reasond/${device}/events` && m.json.type === 'thermal').map((m) => m.json.to),
    ['soft', 'hard', 'normal'],
  );

  stopped = true;
  await agent.stop();
  const db = new Database(join(dataDir, 'reasond.db'), migrations);
  await db.start();
  t.teardown(() => db.stop());
  const report = await statsReport(db, T0, T0 + 60_000);
  t.deepEqual(report.tasks, { ok: 2, errors: 1, errors_by_code: { thermal_throttled: 1 } });
  t.is(requests.find((r) => r.prompt === '2+2?')!.reasoning, undefined); // normal again: as sent
  t.deepEqual(report.temperature_c, { avg: 51.33, max: 52.65 }); // the samples at 0 s (52.65 °C) and 30 s (50 °C)
  t.is(report.energy?.joules, 82.38); // the PMIC's 2.746 W for the 30 s between the samples
}

test.serial('thermal guard, events, thermal_throttled and metrics through the embedded broker', (t) => scenario(t, 'embedded'));

const hasMosquitto = spawnSync('mosquitto', ['-h'], { stdio: 'ignore' }).error === undefined;
(hasMosquitto ? test.serial : test.skip)('the same through Mosquitto (MQTT 5)', (t) => scenario(t, 'mosquitto'));
