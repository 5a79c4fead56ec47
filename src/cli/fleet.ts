/**
 * `reasond fleet ...` (issue 7): the operator's view of the fleet and its
 * rollouts, through the controller's MQTT API (docs/API.md). Tables for
 * people, --json for scripts.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ReasondError } from '../core/errors.js';
import { FleetClient } from '../fleet/client.js';
import { progressLine, rolloutsTable, statusTable, table } from '../fleet/tables.js';
import { parseSince } from '../telemetry/stats/since.js';
import { MANIFEST_FILE } from '../package/manifest.js';
import { readManifest } from '../package/verify.js';
import { brokerOptions, loadClientConfig } from './broker-options.js';
import { reportError } from './output.js';

type Args = Record<string, any>;
const CHUNK = 256 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const connectionOptions = (y: Argv) =>
  y
    .options(brokerOptions())
    .option('timeout', { type: 'number', default: 15, describe: 'Seconds to wait for each controller reply' })
    .option('json', { type: 'boolean', default: false, describe: 'Print JSON instead of a table' });

/** Runs fn with a connected client; errors print as `reasond: <code>: <message>`. */
const withClient = (fn: (c: FleetClient, a: Args) => Promise<void>) => async (a: Args) => {
  let client: FleetClient | undefined;
  try {
    client = new FleetClient({ ...loadClientConfig(a), timeoutMs: a.timeout * 1000 });
    await client.start();
    await fn(client, a);
  } catch (e) {
    reportError(e);
  } finally {
    await client?.stop().catch(() => {});
  }
};

const out = (s: string): void => void process.stdout.write(s);
const json = (v: unknown) => out(`${JSON.stringify(v, null, 2)}\n`);

async function status(c: FleetClient, a: Args): Promise<void> {
  do {
    const r = await c.request('fleet/status');
    if (a.json) json(r);
    else out(`${a.watch && process.stdout.isTTY ? '\x1b[H\x1b[2J' : ''}${statusTable(r.devices)}`);
    if (a.watch) await sleep(a.interval * 1000);
  } while (a.watch);
}

async function rollout(c: FleetClient, a: Args): Promise<void> {
  const at = String(a.package).lastIndexOf('@');
  const [name, version] = at > 0 ? [a.package.slice(0, at), a.package.slice(at + 1)] : [a.package.replace(/-(\d+\.\d+\.\d+.*)$/, ''), /-(\d+\.\d+\.\d+.*)$/.exec(a.package)?.[1]];
  if (!version) throw new ReasondError('invalid_request', `name the package as name@1.2.3 or name-1.2.3; got ${JSON.stringify(a.package)}`);
  const { rollout: r } = await c.request('rollout/create', {
    name, version, target: a.to, canary: a.canary, waves: a.waves, max_failures: a['max-failures'], rollback_on_abort: a['rollback-on-abort'],
    max_tps_drop: a['max-tps-drop'], max_error_increase: a['max-error-increase'], min_tasks: a['gate-tasks'],
  });
  if (!a.wait) return a.json ? json(r) : out(`rollout ${r.id} started\n`);
  let last = '';
  for (;;) {
    const show = await c.request('rollout/show', { rollout: r.id });
    const line = progressLine(show as never);
    if (!a.json && line !== last) out(`${line}\n`);
    last = line;
    if (show.rollout.state === 'completed' || show.rollout.state === 'aborted') {
      if (a.json) json(show);
      if (show.rollout.state === 'aborted') process.exitCode = 1;
      return;
    }
    await sleep(1000);
  }
}

async function show(c: FleetClient, a: Args): Promise<void> {
  const s = await c.request('rollout/show', { rollout: a.id });
  if (a.json) return json(s);
  out(`${progressLine(s as never)}${s.rollout.reason ? `\nreason: ${s.rollout.reason}` : ''}\n\n`);
  out(table(['WAVE', 'DEVICE', 'STATE', 'FROM', 'REASON'], s.devices.map((d: Args) => [d.wave, d.device, d.state, d.from_version, d.reason])));
  out(`\n${s.log.map((l: Args) => `${new Date(l.at).toISOString().slice(11, 19)}  ${l.message}`).join('\n')}\n`);
}

async function history(c: FleetClient, a: Args): Promise<void> {
  const now = Date.now();
  const r = await c.request('device/history', { device: a.device, since_ms: Math.max(1, now - parseSince(a.since, now)), points: a.points });
  if (a.json) return json(r);
  const f = (v: unknown, d = 1) => (typeof v === 'number' ? v.toFixed(d) : null);
  out(table(['TIME', 'TOK/S', 'LATENCY MS', 'TEMP °C', 'MEMORY MIB', 'QUEUE'], r.points.map((p: Args) => [
    new Date(p.at).toISOString().slice(0, 19) + 'Z', f(p.tokens_per_s), f(p.latency_ms, 0), f(p.temp_c), p.rss_bytes === null ? null : Math.round(p.rss_bytes / 1048576), f(p.queue_depth, 1),
  ])));
}

async function label(c: FleetClient, a: Args): Promise<void> {
  const pairs = (a.labels as string[]).map((l) => l.split('='));
  if (pairs.some((p) => p.length !== 2 || !p[0])) throw new ReasondError('invalid_request', `labels are key=value; got ${JSON.stringify(a.labels)}`);
  const r = await c.request('device/labels', { device: a.device, labels: Object.fromEntries(pairs) });
  if (a.json) return json(r);
  out(`${r.device}: ${Object.entries(r.labels).map(([k, v]) => `${k}=${v}`).join(' ') || 'no labels'}\n`);
}

/** Sends the package folder in chunks; the controller verifies the signature and hashes before it keeps it. */
async function upload(c: FleetClient, a: Args): Promise<void> {
  const m = await readManifest(a.dir);
  for (const path of [MANIFEST_FILE, ...m.files.map((f) => f.path)]) {
    const bytes = await readFile(join(a.dir, path));
    for (let offset = 0; offset === 0 || offset < bytes.length; offset += CHUNK) {
      await c.request('package/upload', { name: m.name, version: m.version, path, offset, data: bytes.subarray(offset, offset + CHUNK).toString('base64') });
    }
  }
  const r = await c.request('package/commit', { name: m.name, version: m.version });
  if (a.json) return json(r);
  out(`uploaded ${r.package.name}@${r.package.version} (${r.package.bytes} bytes, signed by key ${r.package.key_id})\n`);
}

async function abort(c: FleetClient, a: Args): Promise<void> {
  const r = await c.request('rollout/abort', { rollout: a.id, rollback: a.rollback });
  if (a.json) json(r);
  else out(`rollout ${r.rollout.id}: ${r.rollout.state}${r.rollout.reason ? ` (${r.rollout.reason})` : ''}\n`);
}

/** `rollout <package>` starts one; `rollout show <id>` and `rollout abort <id>` follow one. */
async function rolloutVerb(c: FleetClient, a: Args): Promise<void> {
  if (a.package === 'show' || a.package === 'abort') {
    if (!a.id) throw new ReasondError('invalid_request', `fleet rollout ${a.package} needs a rollout id`);
    return a.package === 'show' ? show(c, a) : abort(c, a);
  }
  return rollout(c, a);
}

export const fleetCommand: CommandModule<object, Args> = {
  command: 'fleet <command>',
  describe: 'Look at the fleet and roll out models through reasond controller',
  builder: (y) =>
    connectionOptions(y)
      .command('status', 'A table of every device', (s) => s
        .option('watch', { type: 'boolean', default: false, describe: 'Refresh in place' })
        .option('interval', { type: 'number', default: 2, describe: 'Seconds between refreshes with --watch' }), withClient(status))
      .command('rollout <package> [id]', 'Roll a package out in waves (name@1.2.3); `rollout show <id>` and `rollout abort <id>` follow one', (s) => s
        .positional('package', { type: 'string', describe: 'name@version (or name-version) in the package store; or show / abort' })
        .positional('id', { type: 'string', describe: 'The rollout, after show or abort' })
        .option('rollback', { type: 'boolean', describe: "With abort: roll updated devices back (default: the rollout's rollback_on_abort)" })
        .option('to', { type: 'string', default: 'all', describe: 'all | pool=NAME | devices=a,b | label:key=value' })
        .option('canary', { type: 'number', default: 0, describe: 'Devices in the first (canary) wave' })
        .option('waves', { type: 'string', default: '100', describe: 'Cumulative percentages of the target, ending at 100' })
        .option('max-failures', { type: 'string', default: '0%', describe: 'Share of a wave that may fail before the rollout aborts' })
        .option('rollback-on-abort', { type: 'boolean', default: true, describe: 'On abort, return updated devices to their previous version' })
        .option('max-tps-drop', { type: 'string', default: '50%', describe: "How far tokens/s may fall below the previous version's" })
        .option('max-error-increase', { type: 'string', default: '10%', describe: 'Error-rate points the new version may add' })
        .option('gate-tasks', { type: 'number', default: 0, describe: 'Tasks each device must serve on the new version before its wave gate judges it' })
        .option('wait', { type: 'boolean', default: true, describe: 'Show progress until the rollout ends (--no-wait returns at once)' }), withClient(rolloutVerb))
      .command('rollouts', 'Recent rollouts', () => {}, withClient(async (c, a) => {
        const r = await c.request('rollouts');
        if (a.json) json(r);
        else out(rolloutsTable(r.rollouts));
      }))
      .command('history <device>', "A device's metrics over time", (s) => s
        .positional('device', { type: 'string' })
        .option('since', { type: 'string', default: '24h', describe: '30m, 24h, 7d or an ISO date' })
        .option('points', { type: 'number', default: 48, describe: 'Rows (averaged buckets)' }), withClient(history))
      .command('label <device> [labels..]', 'Set the labels a label:key=value target selects on (key=value ...; none clears them)', (s) => s
        .positional('device', { type: 'string' })
        .positional('labels', { type: 'string', array: true, default: [] }), withClient(label))
      .command('upload <dir>', 'Send a signed package folder to the controller (verified there)', (s) => s.positional('dir', { type: 'string' }), withClient(upload))
      .demandCommand(1),
  handler: () => {},
};
