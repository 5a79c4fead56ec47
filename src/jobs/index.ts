export { jobKeys, jobChecks, type JobsConfig } from './config-keys.js';
export { parseJobs, parseWindow, type JobSpec, type JobInput, type AlertRule } from './spec.js';
export { ReadingsStore, readValue, type Reading, type FieldRule } from './readings.js';
export { SiteJobs, numericAnswer, raisedAlerts, type SiteJobsDeps, type DryRun, type JobRunRow, type RunSink } from './site-jobs.js';
export { checkJobSql } from './checks.js';
export { JOBS_MIGRATION } from './schema.js';
export { windowText } from './context.js';
