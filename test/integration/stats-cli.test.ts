/**
 * `reasond stats` as a user runs it: a real process reading a seeded database.
 * The rows sit in the last hour (whatever the date), so the raw resolution applies
 * and the output can be stated exactly.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Database } from '../../src/store/index.js';
import { migrations } from '../../src/agent/migrations.js';
import { MetricsStore } from '../../src/telemetry/store/metrics-store.js';
import { repoRoot, tempDir } from '../helpers/models.js';

const cli = join(repoRoot, 'src/cli/index.ts');
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );

const MIN = 60_000;
const base = Math.floor(Date.now() / MIN) * MIN - 60 * MIN; // an hour ago, on a minute
const iso = (ms: number) => new Date(ms).toISOString();
const dataDir = tempDir('reasond-stats-');

test.before(async () => {
  const db = new Database(join(dataDir, 'reasond.db'), migrations);
  await db.start();
  const store = new MetricsStore(db);
  for (let i = 0; i < 4; i++) {
    await store.addTask({ at: base + (i + 1) * MIN, kind: 'answered', status: 'ok', total_ms: (i + 1) * 2000, first_token_ms: 300, decode_tps: 12 + i, tokens: 50, joules: 12 });
    await store.addSample({ at: base + i * 30_000, hottest_c: 60 + i, power_w: 6, energy_j: 180, guard: i === 3 ? 'hard' : 'normal' });
  }
  await store.addTask({ at: base + 5 * MIN, kind: 'rejected', status: 'busy' });
  await store.addTask({ at: base + 50 * MIN, kind: 'answered', status: 'ok', total_ms: 1 }); // after --until
  await db.stop();
});

const range = ['--since', iso(base - MIN), '--until', iso(base + 30 * MIN), '--data-dir', dataDir];

test('reasond stats prints the exact report for the range', async (t) => {
  const r = await run(['stats', ...range]);
  t.is(r.code, 0, r.stderr);
  t.is(
    r.stdout,
    [
      `reasond stats ${iso(base - MIN)} .. ${iso(base + 30 * MIN)} (heat and energy from raw samples)`,
      'tasks        4 ok, 1 errors (busy 1)',
      'latency      p50 4.00 s  p95 8.00 s  p99 8.00 s',
      'first token  p50 0.30 s  p95 0.30 s  p99 0.30 s',
      'decode       p50 13.0  p95 15.0  p99 15.0 tokens/s',
      'tokens       200',
      'temperature  avg 61.5 °C  max 63.0 °C  (soft 0%, hard 25% of samples)',
      'energy       720.0 J  (12.00 J per task, 0.240 J per token)',
      '',
    ].join('\n'),
  );
});

test('reasond stats --json gives the same figures to scripts', async (t) => {
  const r = await run(['stats', ...range, '--json']);
  t.is(r.code, 0, r.stderr);
  t.like(JSON.parse(r.stdout), {
    resolution: 'raw',
    tasks: { ok: 4, errors: 1, errors_by_code: { busy: 1 } },
    latency_ms: { p50: 4000, p95: 8000, p99: 8000 },
    tokens: 200,
    temperature_c: { avg: 61.5, max: 63 },
    thermal_share: { soft: 0, hard: 0.25 },
    energy: { joules: 720, joules_per_task: 12, joules_per_token: 0.24 },
  });
});

test('reasond stats without a database says where it looked and fails', async (t) => {
  const missing = join(tempDir('reasond-stats-none-'), 'nothing');
  const r = await run(['stats', '--data-dir', missing]);
  t.is(r.code, 2);
  t.is(r.stderr, `reasond: invalid_request: no agent database at ${join(missing, 'reasond.db')}: has reasond start run with this --data-dir?\n`);
  const bad = await run(['stats', '--since', 'yesterday', '--data-dir', dataDir]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--since "yesterday": give a duration such as 30m, 24h, 7d, or an ISO date/);
});
