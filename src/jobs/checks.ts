/**
 * The job checks that need the agent's database (issue 18): a sql input must compile
 * against its tables and must not write. SQLite says what a statement does in its
 * EXPLAIN program: a write opens a table with OpenWrite (an INSERT inside a WITH, a
 * trigger's target, DDL on sqlite_schema), which a read never does. The queries also
 * run on a read-only connection, so SQLite itself refuses a write this check missed.
 */
import { ConfigError } from '../config/index.js';
import type { Database } from '../store/index.js';
import type { JobSpec } from './spec.js';

export async function checkJobSql(jobs: JobSpec[], readonly: Database): Promise<void> {
  const problems: string[] = [];
  for (const [i, j] of jobs.entries()) {
    if (j.input.kind !== 'sql') continue;
    const at = `jobs[${i}].input.sql`;
    try {
      const program = await readonly.all<{ opcode: string }>(`EXPLAIN ${j.input.sql}`);
      if (program.some((op) => op.opcode === 'OpenWrite')) problems.push(`${at}: writes to the database (a job's query must only read); got ${JSON.stringify(j.input.sql)}`);
    } catch (e) {
      problems.push(`${at}: does not compile against the agent's database (${(e as Error).message}); got ${JSON.stringify(j.input.sql)}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
}
