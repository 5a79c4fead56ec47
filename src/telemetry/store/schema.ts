/**
 * The telemetry tables, as one migration for the store's ordered list (#5).
 * metric_samples holds raw samples and their per-minute and hourly rollups in one
 * table keyed by (resolution, at), so a rollup is one INSERT ... SELECT. A reading
 * the board lacks is NULL in every resolution, never 0.
 */
export const TELEMETRY_MIGRATION = `
CREATE TABLE metric_samples (
  resolution TEXT NOT NULL CHECK (resolution IN ('raw', 'minute', 'hour')),
  at INTEGER NOT NULL,           -- epoch ms; the bucket start for rollups
  n INTEGER NOT NULL,            -- raw samples folded into this row
  hottest_c_avg REAL,
  hottest_c_max REAL,
  power_w_avg REAL,              -- input rail
  energy_j REAL,                 -- joules on the input rail during the sample or bucket
  rss_bytes_max INTEGER,
  mem_available_min INTEGER,
  decode_tps_avg REAL,
  guard_soft_n INTEGER NOT NULL DEFAULT 0,  -- samples taken while the guard was soft
  guard_hard_n INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (resolution, at)
) WITHOUT ROWID;

CREATE TABLE task_stats (
  at INTEGER NOT NULL,           -- epoch ms the answer went out
  kind TEXT NOT NULL CHECK (kind IN ('answered', 'rejected')),
  status TEXT NOT NULL,          -- ok, or the error code
  queue_ms REAL,
  first_token_ms REAL,
  total_ms REAL,
  decode_tps REAL,
  prefill_tps REAL,
  tokens INTEGER,
  joules REAL
);
CREATE INDEX task_stats_at ON task_stats (at);
`;

const DAY = 86_400_000;

/** How long each resolution is kept: raw for a day, per-minute for a week, hourly for a year (#5). */
export const RETENTION_MS = { raw: DAY, minute: 7 * DAY, hour: 365 * DAY, tasks: 30 * DAY } as const;

export type Resolution = 'raw' | 'minute' | 'hour';
