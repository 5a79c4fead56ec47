/**
 * The controller's own database (issue 7), beside the agent's: a separate
 * file (<data_dir>/controller.db) with its own ordered migrations, run by
 * src/store's Database. Never edit a shipped entry; add one at the end.
 */
import type { Migration } from '../store/index.js';

export const controllerMigrations: readonly Migration[] = [
  {
    name: 'device registry, metrics history, packages, rollouts (issue 7)',
    sql: `
      CREATE TABLE devices (
        device TEXT PRIMARY KEY,
        online INTEGER NOT NULL DEFAULT 0,
        pool TEXT,
        agent_version TEXT,
        model_name TEXT,
        model_version TEXT,
        hardware TEXT,
        labels TEXT NOT NULL DEFAULT '{}',
        status TEXT,
        metrics TEXT,
        update_state TEXT,
        update_version TEXT,
        update_reason TEXT,
        update_at INTEGER,
        throttled INTEGER NOT NULL DEFAULT 0,
        first_seen INTEGER NOT NULL,
        last_seen INTEGER NOT NULL,
        online_since INTEGER
      );
      -- resolution 0 = a metrics message as received; 60000 = a minute average (downsampled)
      CREATE TABLE metrics_samples (
        device TEXT NOT NULL,
        resolution INTEGER NOT NULL,
        at INTEGER NOT NULL,
        model_version TEXT,
        tokens_per_s REAL,
        latency_ms REAL,
        temp_c REAL,
        rss_bytes REAL,
        queue_depth REAL,
        tasks INTEGER,
        errors INTEGER,
        PRIMARY KEY (device, resolution, at)
      );
      CREATE TABLE device_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        device TEXT NOT NULL,
        at INTEGER NOT NULL,
        type TEXT,
        state TEXT,
        name TEXT,
        version TEXT,
        reason TEXT,
        body TEXT NOT NULL
      );
      CREATE INDEX device_events_by_device ON device_events (device, at);
      CREATE TABLE packages (
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        key_id TEXT NOT NULL,
        uploaded_at INTEGER NOT NULL,
        PRIMARY KEY (name, version)
      );
      CREATE TABLE rollouts (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        target TEXT NOT NULL,
        strategy TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'rolling_back', 'completed', 'aborted')),
        wave INTEGER NOT NULL,
        waves INTEGER NOT NULL,
        reason TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        finished_at INTEGER
      );
      CREATE TABLE rollout_devices (
        rollout_id TEXT NOT NULL REFERENCES rollouts (id),
        device TEXT NOT NULL,
        wave INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('waiting', 'deploying', 'active', 'failed', 'rolling_back', 'rolled_back', 'skipped')),
        from_version TEXT,
        reason TEXT,
        sent_at INTEGER,
        sent_boot TEXT,
        done_at INTEGER,
        PRIMARY KEY (rollout_id, device)
      );
      CREATE TABLE rollout_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        rollout_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        wave INTEGER,
        message TEXT NOT NULL
      );`,
  },
  {
    name: 'operators who created rollouts and uploaded packages; nonces of signed requests (issue 16)',
    sql: `
      ALTER TABLE rollouts ADD COLUMN created_by TEXT;
      ALTER TABLE packages ADD COLUMN uploaded_by TEXT;
      CREATE TABLE operator_nonces (
        nonce TEXT PRIMARY KEY,
        key_id TEXT NOT NULL,
        at INTEGER NOT NULL
      );
      CREATE INDEX operator_nonces_by_at ON operator_nonces (at);`,
  },
  {
    name: "the fleet's recent events, read by time across devices (issue 20)",
    sql: 'CREATE INDEX device_events_by_at ON device_events (at);',
  },
];
