/**
 * `reasond stats`: local analytics for a time range, from the telemetry tables.
 * Task figures come from task_stats (exact percentiles); temperature and energy from
 * the finest sample resolution that still covers the start of the range.
 */
import { percentiles, type Percentiles } from '../metrics/window.js';
import { RETENTION_MS, type Resolution } from '../store/schema.js';
import type { SqlDb } from '../store/sql.js';

export interface StatsReport {
  since: string;
  until: string;
  resolution: Resolution;
  tasks: { ok: number; errors: number; errors_by_code: Record<string, number> };
  latency_ms?: Percentiles;
  first_token_ms?: Percentiles;
  decode_tokens_per_s?: Percentiles;
  tokens: number;
  temperature_c?: { avg: number; max: number };
  thermal_share?: { soft: number; hard: number };
  energy?: { joules: number; joules_per_task?: number; joules_per_token?: number };
}

export function resolutionFor(since: number, now: number): Resolution {
  if (since >= now - RETENTION_MS.raw) return 'raw';
  if (since >= now - RETENTION_MS.minute) return 'minute';
  return 'hour';
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

interface TaskStatRow {
  kind: string;
  status: string;
  total_ms: number | null;
  first_token_ms: number | null;
  decode_tps: number | null;
  tokens: number | null;
  joules: number | null;
}

/** The report for [since, until]; `now` (the present) decides which sample resolutions still cover `since`. */
export async function statsReport(db: SqlDb, since: number, until: number, now = until): Promise<StatsReport> {
  const rows = await db.all<TaskStatRow>(
    'SELECT kind, status, total_ms, first_token_ms, decode_tps, tokens, joules FROM task_stats WHERE at >= ? AND at <= ? ORDER BY at',
    [since, until],
  );
  const ok = rows.filter((r) => r.kind === 'answered' && r.status === 'ok');
  const counts = new Map<string, number>();
  for (const r of rows) if (r.status !== 'ok') counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  // by code name, so the text and JSON forms are stable
  const errors_by_code = Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b)));
  const nums = (key: keyof TaskStatRow) => ok.map((r) => r[key]).filter((v): v is number => typeof v === 'number');
  const resolution = resolutionFor(since, now);
  const report: StatsReport = {
    since: new Date(since).toISOString(),
    until: new Date(until).toISOString(),
    resolution,
    tasks: { ok: ok.length, errors: rows.length - ok.length, errors_by_code },
    tokens: nums('tokens').reduce((a, b) => a + b, 0),
  };
  const put = (key: 'latency_ms' | 'first_token_ms' | 'decode_tokens_per_s', col: keyof TaskStatRow) => {
    const p = percentiles(nums(col));
    if (p) report[key] = p;
  };
  put('latency_ms', 'total_ms');
  put('first_token_ms', 'first_token_ms');
  put('decode_tokens_per_s', 'decode_tps');

  const [s] = await db.all<{ n: number | null; t_n: number | null; t_sum: number | null; t_max: number | null; e: number | null; soft: number | null; hard: number | null }>(
    `SELECT SUM(n) AS n,
            SUM(CASE WHEN hottest_c_avg IS NULL THEN NULL ELSE n END) AS t_n,
            SUM(hottest_c_avg * n) AS t_sum, MAX(hottest_c_max) AS t_max,
            SUM(energy_j) AS e, SUM(guard_soft_n) AS soft, SUM(guard_hard_n) AS hard
       FROM metric_samples WHERE resolution = ? AND at >= ? AND at <= ?`,
    [resolution, since, until],
  );
  if (s?.t_n) report.temperature_c = { avg: round(s.t_sum! / s.t_n, 2), max: s.t_max! };
  if (s?.n) report.thermal_share = { soft: round((s.soft ?? 0) / s.n, 4), hard: round((s.hard ?? 0) / s.n, 4) };
  if (s?.e !== null && s?.e !== undefined) {
    const energy: NonNullable<StatsReport['energy']> = { joules: round(s.e, 3) };
    const metered = ok.filter((r) => r.joules !== null);
    if (metered.length > 0) {
      const j = metered.reduce((a, r) => a + r.joules!, 0);
      const tokens = metered.reduce((a, r) => a + (r.tokens ?? 0), 0);
      energy.joules_per_task = round(j / metered.length, 3);
      if (tokens > 0) energy.joules_per_token = round(j / tokens, 4);
    }
    report.energy = energy;
  }
  return report;
}
