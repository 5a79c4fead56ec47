/** The one file that imports node-cron. Jobs never overlap themselves, and run in UTC so rollup boundaries are UTC minutes and hours. */
import cron from 'node-cron';
import type { Job, Scheduler } from './scheduler.js';

export const cronScheduler = (): Scheduler => ({
  schedule(expression, name, job: Job) {
    const task = cron.schedule(expression, () => job(), { name, noOverlap: true, timezone: 'Etc/UTC' });
    return () => void task.destroy();
  },
});

/** Whether a six-field expression fires at `date` (UTC), using node-cron's own parser: for the manual test scheduler. */
export function cronMatcher(expression: string): (date: Date) => boolean {
  const f = cron.parse(expression);
  return (d) =>
    f.second.includes(d.getUTCSeconds()) &&
    f.minute.includes(d.getUTCMinutes()) &&
    f.hour.includes(d.getUTCHours()) &&
    f.month.includes(d.getUTCMonth() + 1) &&
    (f.dayOfMonth as (number | string)[]).map(Number).includes(d.getUTCDate()) &&
    (f.dayOfWeek as (number | string)[]).map(Number).includes(d.getUTCDay());
}
