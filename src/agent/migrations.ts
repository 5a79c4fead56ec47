/**
 * The agent database's schema, in order, handed to src/store's Database by the
 * composition root (store/ runs migrations, it does not own them: #19). Never
 * edit a shipped entry: add a new one at the end.
 */
import { TELEMETRY_MIGRATION } from '../telemetry/store/schema.js';
import type { Migration } from '../store/database.js';
import { JOBS_MIGRATION } from '../jobs/schema.js';

export const migrations: readonly Migration[] = [
  {
    name: 'journal and outbox (issue 4)',
    sql: `
      CREATE TABLE tasks (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('received', 'running', 'done', 'failed')),
        request TEXT NOT NULL,
        route TEXT NOT NULL,
        priority INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        deadline_at INTEGER,
        started_at INTEGER,
        finished_at INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        error_code TEXT,
        usage TEXT,
        timing TEXT,
        result TEXT
      );
      CREATE INDEX tasks_unfinished ON tasks (state) WHERE state IN ('received', 'running');
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        properties TEXT,
        created_at INTEGER NOT NULL
      );`,
  },
  { name: 'telemetry samples, rollups and task figures (issue 5)', sql: TELEMETRY_MIGRATION },
  // issue 17: a task that was running when the machine itself went down (the boot id changed) is not
  // counted against it by the poison-task rule
  { name: 'the boot a task was running under (issue 17)', sql: 'ALTER TABLE tasks ADD COLUMN boot_id TEXT;' },
  { name: 'readings of site topics and scheduled job runs (issue 18)', sql: JOBS_MIGRATION },
];
