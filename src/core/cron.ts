/**
 * The one file that imports node-cron. Jobs never overlap themselves. The daemons' own
 * schedules run in UTC (rollup boundaries are UTC minutes and hours); a site's jobs
 * (issue 18) run in the time zone their config states.
 */
import cron from 'node-cron';
import type { Job, Scheduler } from './scheduler.js';

export const cronScheduler = (): Scheduler => ({
  schedule(expression, name, job: Job, timezone = 'Etc/UTC') {
    const task = cron.schedule(expression, () => job(), { name, noOverlap: true, timezone });
    return () => void task.destroy();
  },
});

/** What is wrong with a five- or six-field cron expression, in node-cron's words; undefined when it is valid. */
export function cronProblem(expression: string): string | undefined {
  const r = cron.validateDetailed(expression) as { valid: boolean; errors?: { field?: string; message?: string }[] };
  if (r.valid) return undefined;
  return (r.errors ?? []).map((e) => e.message ?? `bad ${e.field}`).join('; ') || 'not a cron expression';
}

/** A time zone Intl knows (an IANA name such as Europe/Berlin, or UTC). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

interface WallTime {
  second: number;
  minute: number;
  hour: number;
  day: number;
  month: number;
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall-clock fields of an instant in a time zone. */
function wallTime(zone: string): (d: Date) => WallTime {
  if (zone === 'UTC' || zone === 'Etc/UTC') {
    return (d) => ({ second: d.getUTCSeconds(), minute: d.getUTCMinutes(), hour: d.getUTCHours(), day: d.getUTCDate(), month: d.getUTCMonth() + 1, weekday: d.getUTCDay() });
  }
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', weekday: 'short', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  return (d) => {
    const p = Object.fromEntries(f.formatToParts(d).map((x) => [x.type, x.value]));
    return { second: Number(p.second), minute: Number(p.minute), hour: Number(p.hour), day: Number(p.day), month: Number(p.month), weekday: WEEKDAYS[p.weekday] };
  };
}

/** Whether a five- or six-field expression fires at `date` in `zone` (default UTC), using node-cron's own parser. */
export function cronMatcher(expression: string, zone = 'UTC'): (date: Date) => boolean {
  const f = cron.parse(expression);
  const wall = wallTime(zone);
  const days = (f.dayOfMonth as (number | string)[]).map(Number);
  const weekdays = (f.dayOfWeek as (number | string)[]).map(Number);
  return (d) => {
    const w = wall(d);
    return f.second.includes(w.second) && f.minute.includes(w.minute) && f.hour.includes(w.hour) && f.month.includes(w.month) && days.includes(w.day) && weekdays.includes(w.weekday);
  };
}

/**
 * The last time after `after` and at or before `until` (epoch ms) that the expression fired in `zone`,
 * or undefined: how the agent tells a run missed while it was off (issue 18). Looks back at most
 * `horizonMs` (default 400 days) from `until`, minute by minute, then second by second within a minute.
 */
export function lastFireBetween(expression: string, zone: string, after: number, until: number, horizonMs = 400 * 86400_000): number | undefined {
  const matches = cronMatcher(expression, zone);
  const f = cron.parse(expression);
  const seconds = [...f.second].sort((a, b) => b - a);
  const floor = Math.max(after, until - horizonMs);
  for (let minute = Math.floor(until / 60_000) * 60_000; minute + 59_000 > floor; minute -= 60_000) {
    for (const s of seconds) {
      const t = minute + s * 1000;
      if (t > until || t <= floor) continue;
      if (matches(new Date(t))) return t;
    }
  }
  return undefined;
}

/** The next time after `after` (epoch ms) the expression fires in `zone`, looking ahead at most `horizonMs` (default 400 days). */
export function nextFire(expression: string, zone: string, after: number, horizonMs = 400 * 86400_000): number | undefined {
  const matches = cronMatcher(expression, zone);
  const seconds = [...cron.parse(expression).second].sort((a, b) => a - b);
  for (let minute = Math.floor(after / 60_000) * 60_000; minute <= after + horizonMs; minute += 60_000) {
    for (const s of seconds) {
      const t = minute + s * 1000;
      if (t > after && matches(new Date(t))) return t;
    }
  }
  return undefined;
}
