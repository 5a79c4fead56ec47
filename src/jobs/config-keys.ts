/**
 * The jobs' keys in the agent's config (issue 18), declared once (#19): the jobs
 * themselves (a JSON list, read and checked by spec.ts) and the readings store's
 * retention. agent/config.ts appends them.
 */
import type { ConfigKey, ConfigOf, CrossCheck } from '../config/index.js';
import { parseJobs, type JobSpec } from './spec.js';

export const jobKeys = [
  {
    key: 'jobs', type: 'json', typeText: 'JSON list', default: '[]', defaultText: 'none',
    description: 'Scheduled reasoning jobs over site data: each has name, schedule (cron) and timezone, input (topics with a window, sql, or file), prompt (a Jinja template), generation, alerts, output, catch_up, enabled (docs/jobs.md)',
    parse: (v: unknown, where: string, problems: string[]): JobSpec[] => parseJobs(v, where, problems),
  },
  { key: 'readings_keep_ms', type: 'integer', default: 7 * 24 * 3600 * 1000, min: 60_000, max: 10 * 365 * 24 * 3600 * 1000, description: "How long readings of the jobs' topics stay in the readings table, milliseconds" },
  { key: 'readings_max_rows', type: 'integer', default: 1_000_000, min: 1000, max: 100_000_000, description: 'Most readings kept; the oldest go first' },
  { key: 'readings_payload_bytes', type: 'integer', default: 1024, min: 0, max: 65536, description: "Bytes of a reading's raw payload kept with it (longer payloads are kept cut, with their value picked first)" },
] as const satisfies readonly ConfigKey[];

export type JobsConfig = ConfigOf<typeof jobKeys>;

/** A job's max_new_tokens and reasoning budget within the agent's own limit. */
export const jobChecks: readonly CrossCheck<JobsConfig & { max_new_tokens_limit: number }>[] = [
  {
    keys: ['jobs', 'max_new_tokens_limit'],
    check: (c) => c.jobs.flatMap((j, i) => {
      const out: string[] = [];
      const g = j.generation;
      if (g.max_new_tokens !== undefined && g.max_new_tokens > c.max_new_tokens_limit) out.push(`jobs[${i}].generation.max_new_tokens: must be at most max_new_tokens_limit (${c.max_new_tokens_limit}); got ${g.max_new_tokens}`);
      if (g.reasoning?.budget_tokens !== undefined && g.reasoning.budget_tokens > c.max_new_tokens_limit) out.push(`jobs[${i}].generation.reasoning.budget_tokens: must be at most max_new_tokens_limit (${c.max_new_tokens_limit}); got ${g.reasoning.budget_tokens}`);
      return out;
    }),
  },
];
