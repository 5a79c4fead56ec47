/**
 * The metrics contract (#19): a real agent's retained metrics message, on each board
 * fixture, passes src/protocol's metrics schema, and the controller's registry reads
 * it through that schema: heated past its soft limit, the agent's message makes the
 * device throttled (the registry once read `thermal.guard.state`, which agents never
 * send, so every board counted as never throttled).
 */
import test from 'ava';
import { join } from 'node:path';
import { buildAgent } from '../../src/agent/index.js';
import { loadConfig } from '../../src/agent/config.js';
import { MetricsHistory } from '../../src/fleet/history.js';
import { Registry } from '../../src/fleet/registry.js';
import { controllerMigrations } from '../../src/fleet/schema.js';
import { MqttConnection } from '../../src/mqtt/index.js';
import { checker, metricsSchema, topics, type MetricsMessage } from '../../src/protocol/index.js';
import { Database } from '../../src/store/index.js';
import { freePort } from '../helpers/brokers.js';
import { ManualClock, ManualScheduler } from '../helpers/manual-scheduler.js';
import { tempDir, tinyRandom } from '../helpers/models.js';
import { copySysFixture, fixtureCommands, setTemp, type BoardFixture } from '../helpers/sysfs.js';

const T0 = Date.UTC(2026, 10, 29, 3, 0, 0);
const isMetrics = checker<MetricsMessage>(metricsSchema, 'the metrics');

/** An agent on a board fixture with its schedule on a manual clock, and the metrics messages it publishes. */
async function boardAgent(t: import('ava').ExecutionContext, board: BoardFixture) {
  const root = copySysFixture(board);
  const port = await freePort();
  const device = `contract-${board}`;
  const config = loadConfig({
    cli: { 'device-id': device, 'data-dir': tempDir('reasond-contract-'), model: tinyRandom, 'embedded-port': port, 'sys-root': root, 'metrics-interval': 30, 'thermal-interval': 5 },
    env: {},
  });
  const scheduler = new ManualScheduler(new ManualClock(T0));
  const agent = buildAgent(config, { clock: scheduler.clock, scheduler, commands: fixtureCommands(root), log: () => {} });
  await agent.start();
  t.teardown(() => agent.stop());
  const conn = new MqttConnection({ url: `mqtt://127.0.0.1:${port}`, clientId: `contract-${board}-watch`, mqttVersion: 4 });
  const got: { raw: Buffer; json: MetricsMessage }[] = [];
  conn.onMessage(async (m) => void got.push({ raw: m.payload, json: JSON.parse(m.payload.toString('utf8')) }));
  await conn.start();
  t.teardown(() => conn.stop());
  const topic = topics(config).metrics;
  await conn.subscribe([topic]);
  const metricsAt = async (at: string) => {
    for (let i = 0; i < 400; i++) {
      const m = got.find((x) => x.json.at === at);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no metrics message at ${at}; got ${got.map((x) => x.json.at).join(', ')}`);
  };
  return { root, scheduler, device, topic, metricsAt };
}

for (const board of ['rpi5', 'jetson-orin-nano', 'x86'] as const) {
  test.serial(`a real agent's metrics on ${board} pass the protocol's metrics schema`, async (t) => {
    const a = await boardAgent(t, board);
    const first = await a.metricsAt('2026-11-29T03:00:00.000Z');
    t.true(isMetrics(first.json), isMetrics.problems().join('\n'));
  });
}

test.serial("the controller counts a real agent as throttled from its message when the guard is soft", async (t) => {
  const a = await boardAgent(t, 'rpi5');
  const db = new Database(join(tempDir('reasond-contract-ctl-'), 'controller.db'), controllerMigrations);
  await db.start();
  t.teardown(() => db.stop());
  const registry = new Registry(db, new MetricsHistory(db, { rawKeepMs: 3_600_000, keepMs: 86_400_000 }), () => T0, (l) => t.log(l));

  const cool = await a.metricsAt('2026-11-29T03:00:00.000Z');
  t.is(cool.json.thermal.guard, 'normal');
  await registry.ingest('reasond', a.topic, cool.raw);
  t.is((await registry.get(a.device))?.throttled, 0);

  setTemp(a.root, 'thermal_zone0', 72); // above the default soft limit (70 °C), below hard (80 °C)
  await a.scheduler.advance(30_000);
  const hot = await a.metricsAt('2026-11-29T03:00:30.000Z');
  t.is(hot.json.thermal.guard, 'soft');
  await registry.ingest('reasond', a.topic, hot.raw);
  const row = await registry.get(a.device);
  t.is(row?.throttled, 1);
  t.is(JSON.parse(row!.metrics!).thermal.guard, 'soft');
});
