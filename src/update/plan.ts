/**
 * Deploys as reconciliation (the balena-supervisor shape): compare the
 * desired version with what is on disk and list the steps still needed.
 * After a restart the same plan picks up where the last run stopped: a
 * partly downloaded staging folder resumes, an installed version is not
 * fetched again, an already active one needs nothing.
 */
export type StepName = 'download' | 'verify' | 'probe' | 'install' | 'switch' | 'prune';

export interface Observed {
  installed: boolean;
  active: boolean;
}

export function planDeploy(o: Observed): StepName[] {
  if (o.active) return [];
  // installed implies it was verified and probed before the rename that installed it
  if (o.installed) return ['switch', 'prune'];
  return ['download', 'verify', 'probe', 'install', 'switch', 'prune'];
}
