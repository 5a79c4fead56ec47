/**
 * The rollout engine (issue 7) on real SQLite with a registry fed the way
 * MQTT feeds it, and the device requests recorded instead of sent: an abort
 * while a deploy is out, then a controller restart in the middle of the
 * rollback. Exact request lists.
 */
import test from 'ava';
import { join } from 'node:path';
import { hasCode } from '../../../src/core/errors.js';
import { MetricsHistory } from '../../../src/fleet/history.js';
import { Registry } from '../../../src/fleet/registry.js';
import { RolloutEngine } from '../../../src/fleet/rollout/engine.js';
import type { Strategy } from '../../../src/fleet/rollout/gates.js';
import { RolloutStore } from '../../../src/fleet/rollout/store.js';
import { controllerMigrations } from '../../../src/fleet/schema.js';
import { Database } from '../../../src/store/index.js';
import { tempDir } from '../../helpers/models.js';
import { offlineStatus, onlineStatus } from '../../helpers/messages.js';

const strategy: Strategy = { canary: 0, waves: [100], max_failures_percent: 0, rollback_on_abort: true, max_tps_drop_percent: 50, max_error_increase_percent: 10 };

/** A controller's rollout parts on a fresh SQLite file, with the clock in the test's hands. */
async function parts(t: any) {
  const db = new Database(join(tempDir('reasond-engine-'), 'controller.db'), controllerMigrations);
  await db.start();
  t.teardown(() => db.stop());
  const clock = { now: 1_000_000 };
  const history = new MetricsHistory(db, { rawKeepMs: 3_600_000, keepMs: 86_400_000 });
  const registry = new Registry(db, history, () => clock.now);
  const store = new RolloutStore(db, () => clock.now);
  return { clock, history, registry, store };
}

test('abort while a deploy is out, restart mid-rollback: no new deploys, the rollback is sent again, the rollout ends aborted', async (t) => {
  const { clock: time, history, registry, store } = await parts(t);
  const clock = () => time.now;
  const status = (device: string, version: string, startedAt = 1) =>
    registry.ingest('reasond', `reasond/${device}/status`, Buffer.from(JSON.stringify(onlineStatus({ device, started_at: startedAt, version }))));
  const makeEngine = (sent: string[]) => new RolloutEngine({
    store, registry, history, now: clock, log: () => {}, hasPackage: async () => true,
    commands: { deploy: async (d, p) => void sent.push(`deploy ${d} ${p.name}@${p.version}`), rollback: async (d) => void sent.push(`rollback ${d}`) },
  });
  await status('pi-01', '1.0.0');
  await status('pi-02', '1.0.0');

  const first: string[] = [];
  const engine = makeEngine(first);
  const r = await engine.create({ name: 'tiny', version: '1.3.0', target: { kind: 'all' }, strategy });
  t.deepEqual(first, ['deploy pi-01 tiny@1.3.0', 'deploy pi-02 tiny@1.3.0']);
  t.true(hasCode(await t.throwsAsync(engine.create({ name: 'tiny', version: '1.3.0', target: { kind: 'all' }, strategy })), 'busy'));

  time.now += 1000;
  await status('pi-01', '1.3.0'); // the switch re-publishes the status
  engine.poke();
  await engine.idle();
  const aborted = await engine.abort(r.id);
  t.is(aborted.state, 'rolling_back');
  t.deepEqual(first.slice(2), ['rollback pi-01']);
  t.deepEqual((await store.devices(r.id)).map((d) => [d.device, d.state]), [['pi-01', 'rolling_back'], ['pi-02', 'deploying']]);

  // a new controller process: pi-02's deploy may never have arrived, so it is given up, not sent again
  const second: string[] = [];
  const restarted = makeEngine(second);
  time.now += 1000;
  restarted.poke();
  await restarted.idle();
  t.deepEqual(second, ['rollback pi-01']);
  t.deepEqual((await store.devices(r.id)).map((d) => [d.device, d.state, d.reason]), [
    ['pi-01', 'rolling_back', null], ['pi-02', 'skipped', 'its deploy may not have arrived before the abort'],
  ]);

  time.now += 1000;
  await status('pi-01', '1.0.0');
  restarted.poke();
  await restarted.idle();
  const end = await store.get(r.id);
  t.is(end?.state, 'aborted');
  t.is(end?.reason, 'aborted by an operator');
  t.deepEqual((await store.devices(r.id)).map((d) => [d.device, d.state]), [['pi-01', 'rolled_back'], ['pi-02', 'skipped']]);
  t.deepEqual((await store.logOf(r.id)).map((l) => l.message).slice(-4), [
    'pi-02: skipped: its deploy may not have arrived before the abort', 'pi-01: rollback sent', 'pi-01: back on tiny@1.0.0', 'aborted; rollback finished',
  ]);
});

test('a device that never answers its deploy is failed after deploy_timeout, logged, and the wave goes on', async (t) => {
  const { clock: time, history, registry, store } = await parts(t);
  const clock = () => time.now;
  const sent: string[] = [];
  const engine = new RolloutEngine({
    store, registry, history, now: clock, log: () => {}, hasPackage: async () => true, deployTimeoutMs: 60_000,
    commands: { deploy: async (d, p) => void sent.push(`deploy ${d} ${p.name}@${p.version}`), rollback: async (d) => void sent.push(`rollback ${d}`) },
  });
  const online = (device: string) => registry.ingest('reasond', `reasond/${device}/status`, Buffer.from(JSON.stringify(onlineStatus({ device }))));
  await online('pi-01');
  const r = await engine.create({ name: 'tiny', version: '1.3.0', target: { kind: 'all' }, strategy: { ...strategy, max_failures_percent: 100 } });
  t.deepEqual(sent, ['deploy pi-01 tiny@1.3.0']);
  // the board goes away mid-deploy (its last will)
  await registry.ingest('reasond', 'reasond/pi-01/status', Buffer.from(JSON.stringify(offlineStatus('pi-01'))));
  time.now += 59_000;
  engine.poke();
  await engine.idle();
  t.deepEqual((await store.devices(r.id)).map((d) => d.state), ['deploying']);
  time.now += 2_000;
  engine.poke();
  await engine.idle();
  t.deepEqual((await store.devices(r.id)).map((d) => [d.state, d.reason]), [['failed', 'no answer within 60 s of its deploy (offline now)']]);
  t.true((await store.logOf(r.id)).some((l) => l.message === 'pi-01: failed: no answer within 60 s of its deploy (offline now)'));
  // the wave is no longer held: with failures allowed (max_failures_percent 100) the rollout ends
  engine.poke();
  await engine.idle();
  t.is((await store.get(r.id))?.state, 'completed');
});
