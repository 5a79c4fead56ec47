/** The suites `reasond bench` can run: apart from run.ts, so the CLI can list them without loading the suites (#19). */
export const SUITES = ['engine', 'concurrency', 'mqtt', 'memory', 'eventloop', 'accuracy', 'jobs'] as const;
export type Suite = (typeof SUITES)[number];
