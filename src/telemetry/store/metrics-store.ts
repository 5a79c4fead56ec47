/**
 * Writes samples and task rows, folds raw samples into minutes and minutes into
 * hours, and prunes each resolution past its retention. Every rollup recomputes its
 * buckets from the finer rows, so running it twice, or after a crash, gives the
 * same rows.
 */
import { RETENTION_MS } from './schema.js';
import type { SqlDb } from './sql.js';

export interface SampleRow {
  at: number;
  hottest_c?: number;
  power_w?: number;
  energy_j?: number;
  rss_bytes?: number;
  mem_available?: number;
  decode_tps?: number;
  guard: 'normal' | 'soft' | 'hard';
}

export interface TaskRow {
  at: number;
  kind: 'answered' | 'rejected';
  status: string;
  queue_ms?: number;
  first_token_ms?: number;
  total_ms?: number;
  decode_tps?: number;
  prefill_tps?: number;
  tokens?: number;
  joules?: number;
}

const MINUTE = 60_000;
const HOUR = 3_600_000;
const nul = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? null : v);

// n-weighted averages that stay NULL when no folded row had the reading
const fold = (size: number) => `
  SELECT ?, (at / ${size}) * ${size} AS bucket, SUM(n),
    SUM(hottest_c_avg * n) / SUM(CASE WHEN hottest_c_avg IS NULL THEN NULL ELSE n END),
    MAX(hottest_c_max),
    SUM(power_w_avg * n) / SUM(CASE WHEN power_w_avg IS NULL THEN NULL ELSE n END),
    SUM(energy_j), MAX(rss_bytes_max), MIN(mem_available_min),
    SUM(decode_tps_avg * n) / SUM(CASE WHEN decode_tps_avg IS NULL THEN NULL ELSE n END),
    SUM(guard_soft_n), SUM(guard_hard_n)
  FROM metric_samples WHERE resolution = ? AND at >= ? AND at < ? GROUP BY bucket`;

const COLUMNS =
  '(resolution, at, n, hottest_c_avg, hottest_c_max, power_w_avg, energy_j, rss_bytes_max, mem_available_min, decode_tps_avg, guard_soft_n, guard_hard_n)';

export class MetricsStore {
  constructor(private readonly db: SqlDb) {}

  async addSample(s: SampleRow): Promise<void> {
    await this.db.run(`INSERT OR REPLACE INTO metric_samples ${COLUMNS} VALUES ('raw', ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      s.at,
      nul(s.hottest_c),
      nul(s.hottest_c),
      nul(s.power_w),
      nul(s.energy_j),
      nul(s.rss_bytes),
      nul(s.mem_available),
      nul(s.decode_tps),
      s.guard === 'soft' ? 1 : 0,
      s.guard === 'hard' ? 1 : 0,
    ]);
  }

  async addTask(t: TaskRow): Promise<void> {
    await this.db.run(
      'INSERT INTO task_stats (at, kind, status, queue_ms, first_token_ms, total_ms, decode_tps, prefill_tps, tokens, joules) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [t.at, t.kind, t.status, nul(t.queue_ms), nul(t.first_token_ms), nul(t.total_ms), nul(t.decode_tps), nul(t.prefill_tps), nul(t.tokens), nul(t.joules)],
    );
  }

  /** Folds complete minutes of raw samples into minute rows (the bucket still filling is left for the next run). */
  rollupMinutes(now: number): Promise<void> {
    return this.rollup('minute', 'raw', MINUTE, now, RETENTION_MS.raw);
  }

  rollupHours(now: number): Promise<void> {
    return this.rollup('hour', 'minute', HOUR, now, RETENTION_MS.minute);
  }

  private async rollup(to: string, from: string, size: number, now: number, lookback: number): Promise<void> {
    const end = Math.floor(now / size) * size;
    // every bucket the finer resolution still holds whole, so a bucket missed while the agent
    // was down is filled in, and one whose first rows were pruned is never rewritten short
    const start = Math.ceil((now - lookback) / size) * size;
    await this.db.run(`INSERT OR REPLACE INTO metric_samples ${COLUMNS} ${fold(size)}`, [to, from, start, end]);
  }

  /** Deletes rows past their resolution's retention. */
  async prune(now: number): Promise<void> {
    for (const res of ['raw', 'minute', 'hour'] as const)
      await this.db.run('DELETE FROM metric_samples WHERE resolution = ? AND at < ?', [res, now - RETENTION_MS[res]]);
    await this.db.run('DELETE FROM task_stats WHERE at < ?', [now - RETENTION_MS.tasks]);
  }
}
