/**
 * The schedule the daemons run on (telemetry's metrics, rollups and pruning; the
 * controller's reconcile and downsampling): a small interface so tests drive it with
 * a manual clock (test/helpers/manual-scheduler.ts) and the daemons with node-cron (cron.ts).
 */
export type Job = () => void | Promise<void>;

export interface Scheduler {
  /** Runs `job` on a five- or six-field cron expression (six: seconds first), in `timezone` (default UTC); returns a cancel function. */
  schedule(expression: string, name: string, job: Job, timezone?: string): () => void;
}

/**
 * The cron expression for "every N seconds". Cron cannot say "every 45 s", so only
 * periods that divide a minute, an hour or a day evenly are accepted; the config
 * check reports anything else with the value.
 */
export function cronEvery(seconds: number): string | undefined {
  if (!Number.isInteger(seconds) || seconds <= 0) return undefined;
  if (seconds < 60) return 60 % seconds === 0 ? `*/${seconds} * * * * *` : undefined;
  if (seconds < 3600) return seconds % 60 === 0 && 3600 % seconds === 0 ? `0 */${seconds / 60} * * * *` : undefined;
  if (seconds <= 86400) return seconds % 3600 === 0 && 86400 % seconds === 0 ? `0 0 */${seconds / 3600} * * *` : undefined;
  return undefined;
}
