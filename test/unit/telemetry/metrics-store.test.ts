import test from 'ava';
import { join } from 'node:path';
import { Database } from '../../../src/store/database.js';
import { migrations } from '../../../src/agent/migrations.js';
import { MetricsStore } from '../../../src/telemetry/store/metrics-store.js';
import { formatStats } from '../../../src/telemetry/stats/format.js';
import { statsReport } from '../../../src/telemetry/stats/report.js';
import { parseSince } from '../../../src/telemetry/stats/since.js';
import { tempDir } from '../../helpers/models.js';

const T0 = Date.UTC(2026, 10, 29, 0, 0, 0); // a UTC midnight
const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

async function open() {
  const db = new Database(join(tempDir('reasond-metrics-'), 'reasond.db'), migrations);
  await db.start();
  return { db, store: new MetricsStore(db) };
}

const rows = (db: Database, resolution: string) =>
  db.all(
    'SELECT at, n, hottest_c_avg, hottest_c_max, power_w_avg, energy_j, rss_bytes_max, mem_available_min, decode_tps_avg, guard_soft_n, guard_hard_n FROM metric_samples WHERE resolution = ? ORDER BY at',
    [resolution],
  );

test('the telemetry migration is in the store list', (t) => {
  t.true(migrations.some((m) => m.sql.includes('CREATE TABLE metric_samples')));
});

test('raw samples fold into minutes, minutes into hours; NULL stays NULL; reruns give the same rows', async (t) => {
  const { db, store } = await open();
  t.teardown(() => db.stop());
  // minute 0: three samples, one of them soft; minute 1: one sample with no temperature sensor
  await store.addSample({ at: T0, hottest_c: 50, power_w: 6, energy_j: 60, rss_bytes: 100, mem_available: 900, decode_tps: 10, guard: 'normal' });
  await store.addSample({ at: T0 + 20 * S, hottest_c: 60, power_w: 8, energy_j: 140, rss_bytes: 300, mem_available: 700, guard: 'soft' });
  await store.addSample({ at: T0 + 40 * S, hottest_c: 70, power_w: 7, energy_j: 140, rss_bytes: 200, mem_available: 800, decode_tps: 20, guard: 'normal' });
  await store.addSample({ at: T0 + MIN + 10 * S, rss_bytes: 150, guard: 'hard' });
  // the minute still filling is left alone
  await store.addSample({ at: T0 + 2 * MIN + 5 * S, hottest_c: 99, guard: 'hard' });
  await store.rollupMinutes(T0 + 2 * MIN + 5 * S);
  await store.rollupMinutes(T0 + 2 * MIN + 6 * S);
  t.deepEqual(await rows(db, 'minute'), [
    { at: T0, n: 3, hottest_c_avg: 60, hottest_c_max: 70, power_w_avg: 7, energy_j: 340, rss_bytes_max: 300, mem_available_min: 700, decode_tps_avg: 15, guard_soft_n: 1, guard_hard_n: 0 },
    { at: T0 + MIN, n: 1, hottest_c_avg: null, hottest_c_max: null, power_w_avg: null, energy_j: null, rss_bytes_max: 150, mem_available_min: null, decode_tps_avg: null, guard_soft_n: 0, guard_hard_n: 1 },
  ]);
  await store.rollupHours(T0 + HOUR + MIN);
  t.deepEqual(await rows(db, 'hour'), [
    { at: T0, n: 4, hottest_c_avg: 60, hottest_c_max: 70, power_w_avg: 7, energy_j: 340, rss_bytes_max: 300, mem_available_min: 700, decode_tps_avg: 15, guard_soft_n: 1, guard_hard_n: 1 },
  ]);
});

test('pruning keeps raw a day, minutes a week, hours a year, tasks 30 days', async (t) => {
  const { db, store } = await open();
  t.teardown(() => db.stop());
  const now = T0 + 400 * DAY;
  for (const [res, ages] of [
    ['raw', [DAY + S, DAY - S]],
    ['minute', [7 * DAY + MIN, 7 * DAY - MIN]],
    ['hour', [365 * DAY + HOUR, 365 * DAY - HOUR]],
  ] as const)
    for (const age of ages) await db.run("INSERT INTO metric_samples (resolution, at, n) VALUES (?, ?, 1)", [res, now - age]);
  await store.addTask({ at: now - 31 * DAY, kind: 'answered', status: 'ok' });
  await store.addTask({ at: now - 29 * DAY, kind: 'answered', status: 'ok' });
  await store.prune(now);
  t.deepEqual(
    await db.all('SELECT resolution, ? - at AS age FROM metric_samples ORDER BY resolution', [now]),
    [
      { resolution: 'hour', age: 365 * DAY - HOUR },
      { resolution: 'minute', age: 7 * DAY - MIN },
      { resolution: 'raw', age: DAY - S },
    ],
  );
  t.deepEqual(await db.all('SELECT ? - at AS age FROM task_stats', [now]), [{ age: 29 * DAY }]);
});

test('a minute bucket whose first raw rows were pruned is not rewritten short', async (t) => {
  const { db, store } = await open();
  t.teardown(() => db.stop());
  await store.addSample({ at: T0, hottest_c: 40, guard: 'normal' });
  await store.addSample({ at: T0 + 30 * S, hottest_c: 60, guard: 'normal' });
  await store.rollupMinutes(T0 + MIN);
  const later = T0 + DAY + 10 * S; // raw T0 is past retention, T0 + 30 s is not yet
  await store.prune(later);
  await store.rollupMinutes(later);
  t.deepEqual(await db.all("SELECT at, n, hottest_c_avg FROM metric_samples WHERE resolution = 'minute'"), [{ at: T0, n: 2, hottest_c_avg: 50 }]);
});

async function seeded() {
  const { db, store } = await open();
  const now = T0 + 10 * HOUR;
  for (let i = 1; i <= 10; i++)
    await store.addTask({ at: now - i * MIN, kind: 'answered', status: 'ok', total_ms: i * 1000, first_token_ms: i * 100, decode_tps: 10 + i, tokens: 100, joules: 30 });
  await store.addTask({ at: now - 11 * MIN, kind: 'answered', status: 'deadline_exceeded', total_ms: 60_000 });
  await store.addTask({ at: now - 12 * MIN, kind: 'rejected', status: 'thermal_throttled' });
  await store.addTask({ at: now - 13 * MIN, kind: 'rejected', status: 'thermal_throttled' });
  await store.addTask({ at: now - 2 * DAY, kind: 'answered', status: 'ok', total_ms: 999_000 }); // outside 24 h
  for (let i = 0; i < 4; i++)
    await store.addSample({ at: now - i * 30 * S, hottest_c: 50 + i * 5, power_w: 6, energy_j: 180, rss_bytes: 1, guard: i === 3 ? 'soft' : 'normal' });
  return { db, store, now };
}

test('stats for a seeded database: exact JSON report', async (t) => {
  const { db, now } = await seeded();
  t.teardown(() => db.stop());
  t.deepEqual(await statsReport(db, now - DAY, now), {
    since: '2026-11-28T10:00:00.000Z',
    until: '2026-11-29T10:00:00.000Z',
    resolution: 'raw',
    tasks: { ok: 10, errors: 3, errors_by_code: { deadline_exceeded: 1, thermal_throttled: 2 } },
    latency_ms: { p50: 5000, p95: 10000, p99: 10000 },
    first_token_ms: { p50: 500, p95: 1000, p99: 1000 },
    decode_tokens_per_s: { p50: 15, p95: 20, p99: 20 },
    tokens: 1000,
    temperature_c: { avg: 57.5, max: 65 },
    thermal_share: { soft: 0.25, hard: 0 },
    energy: { joules: 720, joules_per_task: 30, joules_per_token: 0.3 },
  });
});

test('stats text output for a seeded database is exact', async (t) => {
  const { db, now } = await seeded();
  t.teardown(() => db.stop());
  t.is(
    formatStats(await statsReport(db, now - DAY, now)),
    [
      'reasond stats 2026-11-28T10:00:00.000Z .. 2026-11-29T10:00:00.000Z (heat and energy from raw samples)',
      'tasks        10 ok, 3 errors (deadline_exceeded 1, thermal_throttled 2)',
      'latency      p50 5.00 s  p95 10.00 s  p99 10.00 s',
      'first token  p50 0.50 s  p95 1.00 s  p99 1.00 s',
      'decode       p50 15.0  p95 20.0  p99 20.0 tokens/s',
      'tokens       1000',
      'temperature  avg 57.5 °C  max 65.0 °C  (soft 25%, hard 0% of samples)',
      'energy       720.0 J  (30.00 J per task, 0.300 J per token)',
      '',
    ].join('\n'),
  );
  t.is(
    formatStats(await statsReport(db, now - 3 * DAY, now - 2 * DAY - HOUR, now)),
    [
      'reasond stats 2026-11-26T10:00:00.000Z .. 2026-11-27T09:00:00.000Z (heat and energy from per-minute rollups)',
      'tasks        0 ok, 0 errors',
      'latency      none',
      'first token  none',
      'decode       none',
      'tokens       0',
      'temperature  none',
      'energy       none (no power rails)',
      '',
    ].join('\n'),
  );
});

test('--since takes durations and ISO dates', (t) => {
  const now = T0 + DAY;
  t.is(parseSince('24h', now), T0);
  t.is(parseSince('90m', now), now - 90 * MIN);
  t.is(parseSince('7d', now), now - 7 * DAY);
  t.is(parseSince('2026-11-29T00:00:00Z', now), T0);
  const e = t.throws(() => parseSince('24', now));
  t.is((e as any).code, 'invalid_request');
  t.is(e?.message, '--since "24": give a duration such as 30m, 24h, 7d, or an ISO date');
});
