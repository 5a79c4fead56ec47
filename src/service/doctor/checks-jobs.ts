/**
 * The doctor's jobs row (issue 18): the config's jobs were already checked with every other key; what
 * start checks against the agent's database (a job's SQL compiles and only reads) is checked here too,
 * on a read-only connection, so doctor and start agree.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../config/index.js';
import { describeError } from '../../core/errors.js';
import { checkJobSql } from '../../jobs/index.js';
import { Database } from '../../store/index.js';
import type { Check } from './types.js';

export const jobsCheck: Check = {
  name: 'jobs',
  fix: 'Fix the jobs key in the agent config (docs/jobs.md); reasond start refuses it the same way',
  async check(ctx) {
    const jobs = ctx.config.jobs;
    if (!jobs.length) return { status: 'ok', detail: 'no scheduled jobs' };
    const listed = jobs.map((j) => `${j.name} (${j.schedule} ${j.timezone}${j.enabled ? '' : ', disabled'})`).join(', ');
    const sql = jobs.filter((j) => j.input.kind === 'sql');
    const path = join(ctx.config.data_dir, 'reasond.db');
    if (!sql.length) return { status: 'ok', detail: listed };
    if (!existsSync(path)) return { status: 'warn', detail: `${listed}; the SQL of ${sql.map((j) => j.name).join(', ')} is checked at the first start (no database at ${path} yet)` };
    const db = Database.readOnly(path);
    try {
      await db.start();
      await checkJobSql(jobs, db);
      return { status: 'ok', detail: `${listed}; their SQL compiles and only reads` };
    } catch (e) {
      return { status: 'fail', detail: e instanceof ConfigError ? e.problems.join('; ') : describeError(e) };
    } finally {
      await db.stop().catch(() => {});
    }
  },
};
