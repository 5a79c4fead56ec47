/**
 * Metrics history (issue 7): each metrics message becomes one raw sample;
 * a scheduled job folds raw samples older than `rawKeepMs` into minute
 * averages and drops minute rows older than `keepMs`. Reads downsample
 * again to at most `points` buckets, so a chart of a month stays small.
 */
import type { MetricsMessage } from '../protocol/index.js';
import type { Database } from '../store/index.js';

export interface Sample {
  model_version: string | null;
  tokens_per_s: number | null;
  latency_ms: number | null;
  temp_c: number | null;
  rss_bytes: number | null;
  queue_depth: number | null;
  tasks: number | null;
  errors: number | null;
}

export interface HistoryPoint extends Omit<Sample, 'model_version'> {
  at: number;
}

const MINUTE = 60_000;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The figures the fleet table, charts and health gates use, from one metrics payload (docs/API.md). */
export function metricsSample(m: MetricsMessage): Sample {
  const t = m.throughput;
  const errors = Object.values(t.errors_by_code).reduce((a: number, b) => a + (num(b) ?? 0), 0);
  return {
    model_version: m.model?.version ?? null,
    tokens_per_s: num(t.decode_tokens_per_s?.p50),
    latency_ms: num(t.latency_ms?.p50),
    temp_c: num(m.thermal.hottest_c),
    rss_bytes: num(m.memory.rss_bytes),
    queue_depth: num(t.queue_depth),
    tasks: num(t.tasks),
    errors,
  };
}

export class MetricsHistory {
  constructor(private readonly db: Database, private readonly o: { rawKeepMs: number; keepMs: number }) {}

  async record(device: string, at: number, s: Sample): Promise<void> {
    await this.db.run(
      `INSERT OR REPLACE INTO metrics_samples (device, resolution, at, model_version, tokens_per_s, latency_ms, temp_c, rss_bytes, queue_depth, tasks, errors)
       VALUES (?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [device, at, s.model_version, s.tokens_per_s, s.latency_ms, s.temp_c, s.rss_bytes, s.queue_depth, s.tasks, s.errors],
    );
  }

  /** Raw samples before now - rawKeepMs become minute averages; minute rows past keepMs go. */
  async downsample(now: number): Promise<void> {
    const cut = Math.floor((now - this.o.rawKeepMs) / MINUTE) * MINUTE;
    await this.db.transaction(async () => {
      await this.db.run(
        `INSERT OR REPLACE INTO metrics_samples (device, resolution, at, model_version, tokens_per_s, latency_ms, temp_c, rss_bytes, queue_depth, tasks, errors)
         SELECT device, ${MINUTE}, (at / ${MINUTE}) * ${MINUTE}, MAX(model_version), AVG(tokens_per_s), AVG(latency_ms), AVG(temp_c), AVG(rss_bytes), AVG(queue_depth), MAX(tasks), MAX(errors)
         FROM metrics_samples WHERE resolution = 0 AND at < ? GROUP BY device, at / ${MINUTE}`,
        [cut],
      );
      await this.db.run('DELETE FROM metrics_samples WHERE resolution = 0 AND at < ?', [cut]);
      await this.db.run(`DELETE FROM metrics_samples WHERE resolution = ${MINUTE} AND at < ?`, [now - this.o.keepMs]);
    });
  }

  /** Samples of one device since `since`, averaged into at most `points` equal buckets. */
  async query(device: string, since: number, until: number, points = 300): Promise<HistoryPoint[]> {
    const bucket = Math.max(1, Math.ceil((until - since) / Math.max(1, points)));
    // sqlite3 binds numbers past 32 bits as REAL: the casts keep the bucket division whole
    return this.db.all<HistoryPoint>(
      `SELECT MIN(at) AS at, AVG(tokens_per_s) AS tokens_per_s, AVG(latency_ms) AS latency_ms, AVG(temp_c) AS temp_c, AVG(rss_bytes) AS rss_bytes,
              AVG(queue_depth) AS queue_depth, MAX(tasks) AS tasks, MAX(errors) AS errors
       FROM metrics_samples WHERE device = ? AND at >= ? AND at <= ? GROUP BY (at - CAST(? AS INTEGER)) / CAST(? AS INTEGER) ORDER BY at`,
      [device, since, until, since, bucket],
    );
  }

  /** The latest raw samples of a device on one model version since `since` (health gates). */
  latest(device: string, version: string | null, since: number): Promise<Sample | undefined> {
    return this.db.get<Sample>(
      'SELECT * FROM metrics_samples WHERE device = ? AND model_version IS ? AND at >= ? ORDER BY at DESC LIMIT 1',
      [device, version, since],
    );
  }

  /** Average tokens/s and error share of a version across devices (the gate's baseline). */
  async baseline(devices: string[], version: string | null): Promise<{ tokens_per_s: number | null; error_rate: number | null }> {
    if (devices.length === 0) return { tokens_per_s: null, error_rate: null };
    const marks = devices.map(() => '?').join(',');
    const r = await this.db.get<{ tps: number | null; tasks: number | null; errors: number | null }>(
      `SELECT AVG(tokens_per_s) AS tps, SUM(tasks) AS tasks, SUM(errors) AS errors FROM metrics_samples WHERE device IN (${marks}) AND model_version IS ? AND resolution = 0`,
      [...devices, version],
    );
    return { tokens_per_s: r?.tps ?? null, error_rate: r?.tasks ? (r.errors ?? 0) / r.tasks : null };
  }
}
