/**
 * The fleet's recent events (issue 20) on a real SQLite file: which events the list keeps (a
 * download's first and latest percent, per device and version; every other listed kind), what each
 * reads as in one line, and a body that does not match its schema shown as such, not dropped.
 */
import test from 'ava';
import { join } from 'node:path';
import { fleetApi, type ApiDeps } from '../../../src/fleet/api.js';
import { MetricsHistory } from '../../../src/fleet/history.js';
import { Registry } from '../../../src/fleet/registry.js';
import { controllerMigrations } from '../../../src/fleet/schema.js';
import { Database } from '../../../src/store/index.js';
import { modelUpdate } from '../../helpers/messages.js';
import { tempDir } from '../../helpers/models.js';

async function setup(t: any) {
  const db = new Database(join(tempDir('reasond-events-'), 'controller.db'), controllerMigrations);
  await db.start();
  t.teardown(() => db.stop());
  let now = Date.UTC(2026, 10, 29, 10, 0, 0);
  const registry = new Registry(db, new MetricsHistory(db, { rawKeepMs: 3_600_000, keepMs: 86_400_000 }), () => now);
  const api = fleetApi({ registry, now: () => now } as unknown as ApiDeps);
  const send = async (device: string, body: unknown) => {
    await registry.ingest('reasond', `reasond/${device}/events`, Buffer.from(JSON.stringify(body)));
    now += 1000;
  };
  const list = async (sinceMs?: number, limit?: number) => (await api.events(sinceMs, limit)).events.map((e) => `${e.device} ${e.type}: ${e.summary}`);
  return { send, list, tick: (ms: number) => (now += ms) };
}

const downloading = (version: string, percent: number) => modelUpdate({ state: 'downloading', version, percent });

test("a download's middle percents are left out, per device and version; a download in progress shows its latest", async (t) => {
  const { send, list } = await setup(t);
  // two devices download at once, their percents interleaved
  for (const p of [0, 20, 40]) {
    await send('pi-01', downloading('1.3.0', p));
    await send('pi-02', downloading('1.3.0', p));
  }
  await send('pi-01', downloading('1.3.0', 100));
  await send('pi-01', modelUpdate({ state: 'verifying', version: '1.3.0' }));
  await send('pi-01', modelUpdate({ state: 'active', version: '1.3.0' }));
  // a download cut off by a rejection and tried again is two downloads
  await send('pi-03', downloading('1.3.0', 0));
  await send('pi-03', downloading('1.3.0', 50));
  await send('pi-03', downloading('1.3.0', 70));
  await send('pi-03', modelUpdate({ state: 'rejected', version: '1.3.0', reason: 'download_failed', message: 'connection reset' }));
  await send('pi-03', downloading('1.3.0', 0));
  await send('pi-03', downloading('1.3.0', 10));
  await send('pi-03', downloading('1.3.0', 20));
  t.deepEqual(await list(), [
    'pi-03 model_update: tiny@1.3.0 downloading 20%',
    'pi-03 model_update: tiny@1.3.0 downloading 0%',
    'pi-03 model_update: tiny@1.3.0 rejected: download_failed: connection reset',
    'pi-03 model_update: tiny@1.3.0 downloading 70%',
    'pi-03 model_update: tiny@1.3.0 downloading 0%',
    'pi-01 model_update: tiny@1.3.0 active',
    'pi-01 model_update: tiny@1.3.0 verifying',
    'pi-01 model_update: tiny@1.3.0 downloading 100%',
    'pi-02 model_update: tiny@1.3.0 downloading 40%',
    'pi-02 model_update: tiny@1.3.0 downloading 0%',
    'pi-01 model_update: tiny@1.3.0 downloading 0%',
  ]);
});

test('every listed kind in one line; unlisted kinds left out; a body off its schema says so; since and limit', async (t) => {
  const { send, list, tick } = await setup(t);
  const at = new Date(0).toISOString();
  // a summary is one line of at most 120 characters
  const cut = `${'x'.repeat(119 - 'door raised open (run 3): '.length)}…`;
  await send('pi-01', modelUpdate({ state: 'active', version: '1.0.0' }));
  tick(8 * 86_400_000); // a week and a day: the first event is past the default window
  await send('pi-01', modelUpdate({ state: 'rolled_back', version: '1.3.0', reason: 'crash_loop', message: 'the agent started 3 times', to: '1.2.0' }));
  await send('pi-01', modelUpdate({ state: 'rolled_back', version: '1.4.0', reason: 'operator', to: null }));
  await send('pi-01', { type: 'thermal', from: 'soft', to: 'hard', reason: 'temperature', temp_c: 91.25, zone: 'cpu', at, limits: {}, device: 'pi-01' });
  await send('pi-01', { type: 'thermal', from: 'normal', to: 'soft', reason: 'board_throttling', at, limits: {}, device: 'pi-01' });
  await send('pi-01', { type: 'board_throttling', raw: '0x0', now: { under_voltage: false, throttled: false }, since_boot: { under_voltage: true }, at, device: 'pi-01' });
  await send('pi-01', { type: 'memory', from: 'pressure', to: 'normal', available_bytes: 1.5 * 2 ** 30, total_bytes: 8 * 2 ** 30, at, device: 'pi-01' });
  await send('pi-01', { type: 'task_rejected', id: null, topic: 'reasond/pi-01/task', error: { code: 'invalid_request', message: 'not JSON' }, created_at: 1 });
  await send('pi-01', { type: 'job_alert', job: 'door', run_id: 2, rule: 'open', answer: 'the door\n\nis   open', device: 'pi-01', created_at: 1 });
  await send('pi-01', { type: 'job_alert', job: 'door', run_id: 3, rule: 'open', answer: 'x'.repeat(200), device: 'pi-01', created_at: 1 });
  await send('pi-01', { type: 'thermal', from: 'warm', to: 'soft', reason: 'temperature', at, limits: {}, device: 'pi-01' });
  await send('pi-01', { type: 'debug', note: 'not listed' });
  t.deepEqual(await list(), [
    'pi-01 thermal: (does not match the thermal schema: from must be equal to one of the allowed values; got "warm")',
    `pi-01 job_alert: door raised open (run 3): ${cut}`,
    'pi-01 job_alert: door raised open (run 2): the door is open',
    'pi-01 task_rejected: invalid_request: not JSON',
    'pi-01 memory: pressure → normal: 1.5 GiB of 8.0 GiB available',
    'pi-01 board_throttling: firmware flags now: none; since boot: under_voltage',
    'pi-01 thermal: normal → soft (board_throttling)',
    'pi-01 thermal: soft → hard (temperature, 91.3 °C on cpu)',
    'pi-01 model_update: tiny@1.4.0 rolled_back: operator (now serving the configured model)',
    'pi-01 model_update: tiny@1.3.0 rolled_back: crash_loop: the agent started 3 times (now serving 1.2.0)',
  ]);
  t.deepEqual(await list(3000, 2), ['pi-01 thermal: (does not match the thermal schema: from must be equal to one of the allowed values; got "warm")', `pi-01 job_alert: door raised open (run 3): ${cut}`]);
  t.is((await list(10 * 86_400_000)).at(-1), 'pi-01 model_update: tiny@1.0.0 active');
});
