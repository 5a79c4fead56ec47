/** The device registry and metrics history (issue 7) on a real SQLite file, with the controller's clock in the test's hands. */
import test from 'ava';
import { join } from 'node:path';
import { MetricsHistory } from '../../../src/fleet/history.js';
import { Registry } from '../../../src/fleet/registry.js';
import { parseDeviceTopic } from '../../../src/protocol/index.js';
import { metricsMessage, modelUpdate, offlineStatus, onlineStatus } from '../../helpers/messages.js';
import { controllerMigrations } from '../../../src/fleet/schema.js';
import { Database } from '../../../src/store/index.js';
import { tempDir } from '../../helpers/models.js';

async function setup(t: any) {
  const db = new Database(join(tempDir('reasond-registry-'), 'controller.db'), controllerMigrations);
  await db.start();
  t.teardown(() => db.stop());
  let now = Date.UTC(2026, 10, 29, 10, 0, 0);
  const history = new MetricsHistory(db, { rawKeepMs: 3_600_000, keepMs: 86_400_000 });
  const logged: string[] = [];
  const registry = new Registry(db, history, () => now, (l) => logged.push(l));
  const send = (topic: string, body: unknown) => registry.ingest('reasond', topic, Buffer.from(JSON.stringify(body)));
  return { db, history, registry, send, logged, tick: (ms: number) => (now += ms), at: () => now };
}

const metrics = (tps: number, temp: number, tasks = 4, errors: Record<string, number> = {}) => metricsMessage({ tps, temp, tasks, errors, latency_ms: 800, queue_depth: 1, rss_bytes: 1000, version: '1.0.0' });

test('topics: only <base>/<device>/{status,metrics,events}', (t) => {
  t.deepEqual(parseDeviceTopic('reasond', 'reasond/pi-01/status'), { device: 'pi-01', kind: 'status' });
  t.is(parseDeviceTopic('reasond', 'reasond/pi-01/task'), undefined);
  t.is(parseDeviceTopic('reasond', 'reasond/controller/status'), undefined);
  t.is(parseDeviceTopic('reasond', 'other/pi-01/status'), undefined);
});

test('status: birth, last will, a new birth moves online_since; events set the update state', async (t) => {
  const { registry, send, tick } = await setup(t);
  await send('reasond/pi-01/status', onlineStatus({ device: 'pi-01', pool: 'line-1', started_at: 5, version: '1.0.0' }));
  const first = (await registry.get('pi-01'))!;
  t.like(first, { online: 1, pool: 'line-1', model_name: 'tiny', model_version: '1.0.0' });
  tick(1000);
  await send('reasond/pi-01/status', onlineStatus({ device: 'pi-01', pool: 'line-1', started_at: 5, version: '1.3.0' })); // model switched, same process
  t.like(await registry.get('pi-01'), { model_version: '1.3.0', online_since: first.online_since });
  tick(1000);
  await send('reasond/pi-01/status', offlineStatus('pi-01'));
  t.like(await registry.get('pi-01'), { online: 0, model_version: '1.3.0' });
  tick(1000);
  await send('reasond/pi-01/status', onlineStatus({ device: 'pi-01', pool: 'line-1', started_at: 9, version: '1.3.0' }));
  t.is((await registry.get('pi-01'))!.online_since, first.online_since! + 3000);
  await send('reasond/pi-01/events', modelUpdate({ state: 'rejected', version: '1.4.0', reason: 'smoke_failed' }));
  t.like(await registry.get('pi-01'), { update_state: 'rejected', update_version: 'tiny@1.4.0', update_reason: 'smoke_failed' });
  t.deepEqual((await registry.updateEvents('pi-01', 'tiny', '1.4.0', 0)).map((e) => e.state), ['rejected']);
  // the reason goes on with its message, so rollout show, fleet status and the dashboard can say why (issue 16)
  await send('reasond/pi-01/events', modelUpdate({ state: 'rejected', version: '1.5.0', reason: 'smoke_failed', message: 'smoke_failed: asked "2+2?", expected "4", got "5"' }));
  t.like(await registry.get('pi-01'), { update_reason: 'smoke_failed: asked "2+2?", expected "4", got "5"' });
  t.deepEqual((await registry.updateEvents('pi-01', 'tiny', '1.5.0', 0)).map((e) => e.reason), ['smoke_failed: asked "2+2?", expected "4", got "5"']);
  await send('reasond/pi-01/events', modelUpdate({ state: 'rolled_back', version: '1.6.0', reason: 'crash loop', message: 'the agent started 3 times' }));
  t.like(await registry.get('pi-01'), { update_reason: 'crash loop: the agent started 3 times' });
});

test('metrics: last figures on the device, a history sample each, minute downsampling and retention', async (t) => {
  const { registry, history, send, tick, at } = await setup(t);
  const start = at();
  for (const [tps, temp] of [[10, 50], [20, 52], [30, 54]]) {
    await send('reasond/pi-01/metrics', metrics(tps, temp));
    tick(20_000); // three samples in one minute
  }
  t.like(JSON.parse((await registry.get('pi-01'))!.metrics!), { thermal: { hottest_c: 54 } });
  const raw = await history.query('pi-01', start, at(), 300);
  t.deepEqual(raw.map((p) => p.tokens_per_s), [10, 20, 30]);
  // two hours on: the three raw samples become one minute average
  tick(2 * 3_600_000);
  await history.downsample(at());
  const folded = await history.query('pi-01', start, at(), 300);
  t.deepEqual(folded.map((p) => [p.at, p.tokens_per_s, p.temp_c]), [[start, 20, 52]]);
  // past the retention, the minute rows go too
  tick(2 * 86_400_000);
  await history.downsample(at());
  t.deepEqual(await history.query('pi-01', start, at(), 300), []);
});

test('history reads average into at most `points` buckets', async (t) => {
  const { history, send, tick, at } = await setup(t);
  const start = at();
  for (let i = 0; i < 10; i++) {
    await send('reasond/pi-01/metrics', metrics(i, 40));
    tick(1000);
  }
  const two = await history.query('pi-01', start, start + 10_000, 2);
  t.deepEqual(two.map((p) => p.tokens_per_s), [2, 7]);
  t.deepEqual(await history.baseline(['pi-01'], '1.0.0'), { tokens_per_s: 4.5, error_rate: 0 });
});

test('a status or model_update that is not the shape the agent writes is logged and ignored (one schema, issue 16)', async (t) => {
  const { registry, send, logged } = await setup(t);
  await send('reasond/pi-01/status', onlineStatus({ device: 'pi-01', version: '1.0.0' }));
  const { capabilities: _dropped, ...noCapabilities } = onlineStatus({ device: 'pi-01', version: '9.9.9', started_at: 7 });
  await send('reasond/pi-01/status', noCapabilities);
  await send('reasond/pi-01/status', { state: 'offline', device: 'pi-01', agent_version: '0.1.0', reason: 'power' });
  await send('reasond/pi-01/events', { ...modelUpdate({ state: 'active', version: '1.3.0' }), state: 'done' });
  t.like(await registry.get('pi-01'), { online: 1, model_version: '1.0.0', update_state: null });
  t.deepEqual(logged, [
    'status from pi-01 ignored: capabilities: is required',
    'status from pi-01 ignored: reason must be equal to one of the allowed values; got "power"',
    'model_update from pi-01 ignored: state must be equal to one of the allowed values; got "done"',
  ]);
});
