/**
 * `reasond jobs` (issue 18): the scheduled reasoning jobs of this board. `list` and
 * `history` read the agent's config and database (like stats: they work with the
 * agent stopped); `run` asks the running agent over the broker, so the run goes
 * through its queue, is stored and published like a scheduled one.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { loadConfig, type AgentConfig } from '../agent/config.js';
import { nextFire } from '../core/cron.js';
import { ReasondError, type ErrorCode } from '../core/errors.js';
import { windowText, type JobRunRow, type JobSpec } from '../jobs/index.js';
import { brokerConnection, MqttConnection } from '../mqtt/index.js';
import { deviceRequestTopic, topics, type JobResultMessage } from '../protocol/index.js';
import { table } from '../fleet/tables.js';
import { agentDbPath, openAgentDb } from './agent-db.js';
import { parseSince } from '../telemetry/stats/since.js';
import { bold, dim, reportError } from './output.js';

interface JobsArgs {
  name?: string;
  json: boolean;
  since: string;
  limit: number;
  'dry-run': boolean;
  'timeout-ms': number;
  'data-dir'?: string;
  config?: string;
}

const agentConfig = (a: JobsArgs): AgentConfig => loadConfig({ cli: { 'data-dir': a['data-dir'], config: a.config }, env: process.env });

/** The config has a job of that name, or the command says which it has. */
function requireJob(c: AgentConfig, name: string | undefined): void {
  if (!c.jobs.some((j) => j.name === name)) throw new ReasondError('invalid_request', `no job is named ${JSON.stringify(name)} in the agent config; it has ${c.jobs.map((j) => j.name).join(', ') || 'no jobs'}`);
}

const when = (ms: number | null | undefined) => (ms == null ? '-' : new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z'));
const inputText = (j: JobSpec) => (j.input.kind === 'topics' ? `topics ${j.input.topics.join(' ')} (last ${windowText(j.input.window_s)})` : j.input.kind === 'sql' ? 'sql' : `file ${j.input.file}`);
const outcome = (r: Pick<JobRunRow, 'state' | 'answer' | 'error_code' | 'error_message'>) =>
  r.state === 'ok' ? JSON.stringify(r.answer) : r.state === 'error' ? `error ${r.error_code}: ${r.error_message}` : 'running';

async function list(a: JobsArgs): Promise<void> {
  const c = agentConfig(a);
  const now = Date.now();
  let last = new Map<string, JobRunRow>();
  if (existsSync(agentDbPath(c.data_dir))) {
    const db = await openAgentDb(c.data_dir);
    try {
      const rows = await db.all<JobRunRow>('SELECT * FROM job_runs WHERE id IN (SELECT MAX(id) FROM job_runs GROUP BY job)');
      last = new Map(rows.map((r) => [r.job, r]));
    } finally {
      await db.stop();
    }
  }
  const jobs = c.jobs.map((j) => {
    const l = last.get(j.name);
    return {
      name: j.name, enabled: j.enabled, schedule: j.schedule, timezone: j.timezone, input: j.input, catch_up: j.catch_up, alerts: j.alerts.map((x) => x.name),
      next_run: j.enabled ? nextFire(j.schedule, j.timezone, now) ?? null : null,
      last_run: l ? { run_id: l.id, state: l.state, started_at: l.started_at, answer: l.answer, value: l.value, error_code: l.error_code, error_message: l.error_message } : null,
    };
  });
  if (a.json) return void process.stdout.write(JSON.stringify(jobs, null, 2) + '\n');
  if (!jobs.length) return void process.stdout.write(`no jobs: the agent config${c.config ? ` (${c.config})` : ''} has no jobs key (docs/jobs.md)\n`);
  const rows: string[][] = [];
  for (const [i, j] of jobs.entries()) {
    const spec = c.jobs[i];
    const l = last.get(j.name);
    rows.push([j.name, `${j.schedule} ${j.timezone}${j.enabled ? '' : ' (disabled)'}`, when(j.next_run), l ? `#${l.id} ${when(l.started_at)}` : 'never', l ? outcome(l) : '-', inputText(spec)]);
  }
  process.stdout.write(table(['job', 'schedule', 'next run', 'last run', 'last outcome', 'input'], rows));
}

async function history(a: JobsArgs): Promise<void> {
  if (!Number.isInteger(a.limit) || a.limit < 1) throw new ReasondError('invalid_request', `--limit must be a whole number above 0; got ${JSON.stringify(process.argv[process.argv.indexOf('--limit') + 1] ?? a.limit)}`);
  const c = agentConfig(a);
  const now = Date.now();
  const since = parseSince(a.since, now);
  requireJob(c, a.name);
  const db = await openAgentDb(c.data_dir);
  let rows: JobRunRow[];
  try {
    rows = await db.all<JobRunRow>('SELECT * FROM job_runs WHERE job = ? AND started_at >= ? ORDER BY id DESC LIMIT ?', [a.name, since, a.limit]);
  } finally {
    await db.stop();
  }
  if (a.json) {
    const out = rows.map((r) => ({ ...r, usage: r.usage && JSON.parse(r.usage), timing: r.timing && JSON.parse(r.timing), model: r.model && JSON.parse(r.model), alerts: r.alerts ? JSON.parse(r.alerts) : [] }));
    return void process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  }
  if (!rows.length) return void process.stdout.write(`no runs of ${a.name} since ${when(since)}\n`);
  const lines: string[][] = [];
  for (const r of rows) {
    const alerts = r.alerts ? (JSON.parse(r.alerts) as string[]).join(', ') : '';
    const took = r.finished_at == null ? '-' : `${((r.finished_at - r.started_at) / 1000).toFixed(1)} s`;
    const rowsText = r.input_rows == null ? '-' : r.used_rows === r.input_rows ? String(r.input_rows) : `${r.used_rows}/${r.input_rows}`;
    lines.push([`#${r.id}`, when(r.started_at), r.trigger, took, rowsText, outcome(r), alerts || '-']);
  }
  process.stdout.write(table(['run', 'started', 'trigger', 'took', 'rows', 'outcome', 'alerts'], lines));
}

/** One admin request to this board's agent over its broker; the reply's data, or a ReasondError with its code. */
async function askAgent(c: AgentConfig, action: string, body: Record<string, unknown>, timeoutMs: number): Promise<Record<string, any>> {
  const host = c.embedded_host === '0.0.0.0' ? '127.0.0.1' : c.embedded_host;
  const url = c.broker || `mqtt://${host}:${c.embedded_port}`;
  const t = topics(c);
  const connection = new MqttConnection({ ...brokerConnection(c), url, clientId: `reasond-jobs-${randomUUID().slice(0, 8)}`, mqttVersion: 4, reconnectMs: 1000, failFast: true });
  const id = `jobs-${randomUUID()}`;
  let timer: NodeJS.Timeout | undefined;
  try {
    const reply = new Promise<Record<string, any>>((resolve, reject) => {
      connection.onMessage(async (m) => {
        let r: Record<string, any>;
        try {
          r = JSON.parse(m.payload.toString('utf8'));
        } catch {
          return;
        }
        if (r.id !== id) return;
        if (r.status === 'ok') resolve(r.data ?? {});
        else reject(new ReasondError((r.error?.code as ErrorCode) ?? 'internal', r.error?.message ?? 'the agent gave no reason'));
      });
      timer = setTimeout(() => reject(new ReasondError('deadline_exceeded', `no reply from agent ${c.device_id} to ${action} within ${timeoutMs} ms (is reasond start running on ${url}?)`)), timeoutMs);
    });
    await connection.start();
    await connection.subscribe([t.response(action)]);
    await connection.publish(deviceRequestTopic(c.base_topic, c.device_id, action), JSON.stringify({ ...body, id }), { qos: 1 });
    return await reply;
  } finally {
    clearTimeout(timer);
    await connection.stop().catch(() => {});
  }
}

async function run(a: JobsArgs): Promise<void> {
  if (!Number.isInteger(a['timeout-ms']) || a['timeout-ms'] < 1) throw new ReasondError('invalid_request', `--timeout-ms must be a whole number of milliseconds above 0; got ${JSON.stringify(process.argv[process.argv.indexOf('--timeout-ms') + 1] ?? a['timeout-ms'])}`);
  const c = agentConfig(a);
  requireJob(c, a.name);
  const data = await askAgent(c, 'jobs/run', { job: a.name, dry_run: a['dry-run'] }, a['timeout-ms']);
  if (a.json) return void process.stdout.write(JSON.stringify(data, null, 2) + '\n');
  if (a['dry-run']) {
    const rows = data.rows as Record<string, unknown>[];
    process.stdout.write(`${bold('input')}: ${data.input.kind}, ${data.input.rows} row(s) read, ${data.input.used_rows} used; reduction: ${data.input.reduction}\n`);
    for (const r of rows) process.stdout.write(dim(`  ${JSON.stringify(r)}\n`));
    process.stdout.write(`${bold('prompt')}:\n${data.prompt}\n`);
    return;
  }
  const r = data as JobResultMessage;
  if (r.status === 'ok') {
    process.stdout.write(`${r.answer}\n`);
    process.stderr.write(dim(`run #${r.run_id}: ${r.input.used_rows}/${r.input.rows} rows, ${r.finish_reason}, ${((r.finished_at - r.started_at) / 1000).toFixed(1)} s${r.alerts.length ? `; alerts: ${r.alerts.join(', ')}` : ''}\n`));
  } else {
    throw new ReasondError(r.error!.code as ErrorCode, `run #${r.run_id} of ${r.job} failed: ${r.error!.message}`);
  }
}

const common = (y: Argv<object>) =>
  y
    .option('data-dir', { type: 'string', describe: "The agent's data folder (holds reasond.db)", defaultDescription: 'as reasond start resolves it' })
    .option('config', { type: 'string', describe: 'The agent config file the jobs are in', defaultDescription: '/etc/reasond/config.json when it exists' })
    .option('json', { type: 'boolean', default: false, describe: 'Print JSON' });

const handle = (fn: (a: JobsArgs) => Promise<void>) => async (a: JobsArgs) => {
  try {
    await fn(a);
  } catch (e) {
    reportError(e);
  }
};

export const jobsCommand: CommandModule<object, JobsArgs> = {
  command: 'jobs <command>',
  describe: 'Scheduled reasoning jobs over site data: list, run, history (docs/jobs.md)',
  builder: (y) =>
    (common(y) as Argv<JobsArgs>)
      .command('list', 'Every job of the agent config: schedule, next run, last run and its outcome', () => {}, handle(list))
      .command('run <name>', "Run a job now on the running agent (through its queue; stored and published like a scheduled run) and print the answer", (s) => s
        .positional('name', { type: 'string', describe: "the job's name" })
        .option('dry-run', { type: 'boolean', default: false, describe: 'Print the rendered prompt and the input rows it used; ask no model, store nothing' })
        .option('timeout-ms', { type: 'number', default: 660_000, describe: 'How long to wait for the answer' }), handle(run))
      .command('history <name>', "A job's stored runs, newest first", (s) => s
        .positional('name', { type: 'string', describe: "the job's name" })
        .option('since', { type: 'string', default: '7d', describe: 'Runs started since: a duration back from now (30m, 24h, 7d) or an ISO date' })
        .option('limit', { type: 'number', default: 50, describe: 'Most runs shown' }), handle(history))
      .demandCommand(1, 'Name a jobs command: list, run or history.') as Argv<JobsArgs>,
  handler: () => {},
};
