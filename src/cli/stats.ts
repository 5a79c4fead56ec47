/**
 * `reasond stats`: the board's own analytics from its SQLite file, for a time
 * range: tasks, errors by code, latency percentiles, tokens/s, heat and energy (#5).
 */
import type { CommandModule } from 'yargs';
import { loadConfig } from '../agent/config.js';
import { ReasondError } from '../core/errors.js';
import type { Database } from '../store/index.js';
import { openAgentDb } from './agent-db.js';
import { formatStats } from '../telemetry/stats/format.js';
import { statsReport } from '../telemetry/stats/report.js';
import { parseSince } from '../telemetry/stats/since.js';
import { reportError } from './output.js';

interface StatsArgs {
  since: string;
  until?: string;
  json: boolean;
  'data-dir'?: string;
  config?: string;
}

export const statsCommand: CommandModule<object, StatsArgs> = {
  command: 'stats',
  describe: "Local analytics from this board's database: tasks, errors, latency, tokens/s, heat, energy",
  builder: (y) =>
    y
      .option('since', { type: 'string', default: '24h', describe: 'Start of the range: a duration back from now (30m, 24h, 7d) or an ISO date' })
      .option('until', { type: 'string', describe: 'End of the range, same forms', defaultDescription: 'now' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' })
      .option('data-dir', { type: 'string', describe: "The agent's data folder (holds reasond.db)", defaultDescription: 'as reasond start resolves it' })
      .option('config', { type: 'string', describe: 'The agent config file to take data_dir from' }),
  handler: async (a) => {
    let db: Database | undefined;
    try {
      const now = Date.now();
      const since = parseSince(a.since, now);
      const until = a.until === undefined ? now : parseSince(a.until, now);
      const config = loadConfig({ cli: { 'data-dir': a['data-dir'], config: a.config }, env: process.env });
      db = await openAgentDb(config.data_dir);
      const report = await statsReport(db, since, until, now);
      process.stdout.write(a.json ? JSON.stringify(report, null, 2) + '\n' : formatStats(report));
    } catch (e) {
      reportError(e);
    } finally {
      await db?.stop().catch(() => {});
    }
  },
};
