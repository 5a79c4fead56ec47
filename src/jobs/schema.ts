/** The jobs' tables in the agent's database (issue 18), handed to agent/migrations.ts. */
export const JOBS_MIGRATION = `
  CREATE TABLE readings (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    at INTEGER NOT NULL,
    value REAL,
    text TEXT,
    payload TEXT
  );
  CREATE INDEX readings_topic_at ON readings (topic, at);
  CREATE INDEX readings_at ON readings (at);
  CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    trigger TEXT NOT NULL,
    scheduled_at INTEGER,
    started_at INTEGER NOT NULL,
    finished_at INTEGER,
    state TEXT NOT NULL CHECK (state IN ('running', 'ok', 'error')),
    input_kind TEXT,
    input_rows INTEGER,
    used_rows INTEGER,
    input_hash TEXT,
    reduction TEXT,
    input_from INTEGER,
    input_to INTEGER,
    prompt TEXT,
    answer TEXT,
    reasoning TEXT,
    value REAL,
    finish_reason TEXT,
    error_code TEXT,
    error_message TEXT,
    usage TEXT,
    timing TEXT,
    model TEXT,
    alerts TEXT
  );
  CREATE INDEX job_runs_job ON job_runs (job, started_at);`;
