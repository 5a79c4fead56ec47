/**
 * `reasond fleet ...` (issue 7): the operator's view of the fleet and its
 * rollouts, through the controller's MQTT API (docs/API.md). Tables for
 * people, --json for scripts.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { describeError, ReasondError } from '../core/errors.js';
import { FleetClient } from '../fleet/client.js';
import { jobsTable, packagesTable, progressLine, rolloutsTable, statusTable, table } from '../fleet/tables.js';
import type { JobResultMessage } from '../protocol/index.js';
import { parseSince } from '../telemetry/stats/since.js';
import { MANIFEST_FILE } from '../package/manifest.js';
import { readManifest } from '../package/verify.js';
import { writeKeyPair } from '../package/signing.js';
import { brokerOptions, loadClientConfig } from './broker-options.js';
import { reportError } from './output.js';

type Args = Record<string, any>;
const CHUNK = 256 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Where `fleet keygen` puts the operator's pair, and where every fleet command looks for the key. */
const DEFAULT_OPERATOR_KEY = join(homedir(), '.config/reasond/operator');

const connectionOptions = (y: Argv) =>
  y
    .options(brokerOptions())
    .option('operator-key', {
      type: 'string',
      describe: "Your Ed25519 operator key (.key): requests are signed with it; the controller lists its .pub in operator_keys [env REASOND_OPERATOR_KEY]",
      defaultDescription: `${DEFAULT_OPERATOR_KEY}.key if it exists`,
    })
    .option('timeout', { type: 'number', default: 15, describe: 'Seconds to wait for each controller reply' })
    .option('json', { type: 'boolean', default: false, describe: 'Print JSON instead of a table' });

/** The operator's key: --operator-key, else $REASOND_OPERATOR_KEY, else the default file if there is one. */
function operatorKey(a: Args): KeyObject | undefined {
  const given = a['operator-key'] ?? process.env.REASOND_OPERATOR_KEY;
  const path = given || (existsSync(`${DEFAULT_OPERATOR_KEY}.key`) ? `${DEFAULT_OPERATOR_KEY}.key` : undefined);
  if (!path) return undefined;
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch (e) {
    throw new ReasondError('invalid_config', `--operator-key: cannot read the private key ${path}: ${describeError(e)}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new ReasondError('invalid_config', `--operator-key: ${path} is a ${key.asymmetricKeyType} key; operator keys are ed25519 (reasond fleet keygen)`);
  return key;
}

/** Runs fn with a connected client; errors print as `reasond: <code>: <message>`. */
const withClient = (fn: (c: FleetClient, a: Args) => Promise<void>) => async (a: Args) => {
  let client: FleetClient | undefined;
  try {
    client = new FleetClient({ ...loadClientConfig(a), timeoutMs: a.timeout * 1000, operatorKey: operatorKey(a) });
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
    max_tps_drop: a['max-tps-drop'], max_error_increase: a['max-error-increase'], min_tasks: a['gate-tasks'], allow_downgrade: a['allow-downgrade'], force: a.force,
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
        .option('allow-downgrade', { type: 'boolean', default: false, describe: 'Let the agents install it though it is older than the version they serve (any package name): a deliberate step back' })
        .option('force', { type: 'boolean', default: false, describe: 'Roll out a package with no smoke checks though --gate-tasks is 0 (nothing then tests it first)' })
        .option('wait', { type: 'boolean', default: true, describe: 'Show progress until the rollout ends (--no-wait returns at once)' }), withClient(rolloutVerb))
      .command('rollback <target>', 'Send devices back to their previous model version: all | pool=NAME | devices=a,b | label:key=value', (s) => s
        .positional('target', { type: 'string', describe: 'Which devices' }), withClient(async (c, a) => {
        const r = await c.request('fleet/rollback', { target: a.target });
        if (a.json) json(r);
        else out(`rollback sent to ${r.devices.join(', ')}; fleet status shows each device's outcome\n`);
      }))
      .command('rollouts', 'Recent rollouts', () => {}, withClient(async (c, a) => {
        const r = await c.request('rollouts');
        if (a.json) json(r);
        else out(rolloutsTable(r.rollouts));
      }))
      .command('packages', 'The packages in the controller\'s store, with the key that signed each and the operator who uploaded it', () => {}, withClient(async (c, a) => {
        const r = await c.request('packages');
        if (a.json) json(r);
        else out(packagesTable(r.packages));
      }))
      .command('jobs', "Each device's latest result of each scheduled job: status, answer (or error code), value, alerts raised, when it finished", (s) => s
        .option('device', { type: 'string', describe: "Only this device's jobs" }), withClient(async (c, a) => {
        const r = await c.request<{ jobs: JobResultMessage[]; at: number }>('jobs', a.device === undefined ? {} : { device: a.device });
        if (a.json) json(r);
        else out(jobsTable(r.jobs, r.at));
      }))
      .command('history <device>', "A device's metrics over time", (s) => s
        .positional('device', { type: 'string' })
        .option('since', { type: 'string', default: '24h', describe: '30m, 24h, 7d or an ISO date' })
        .option('points', { type: 'number', default: 48, describe: 'Rows (averaged buckets)' }), withClient(history))
      .command('label <device> [labels..]', 'Set the labels a label:key=value target selects on (key=value ...; none clears them)', (s) => s
        .positional('device', { type: 'string' })
        .positional('labels', { type: 'string', array: true, default: [] }), withClient(label))
      .command('keygen', "Make your operator key pair (Ed25519): keep the .key, list the .pub in the controller's operator_keys", (s) => s
        .option('out', { type: 'string', default: DEFAULT_OPERATOR_KEY, describe: 'Path prefix for <out>.key and <out>.pub' }), (a) => {
        try {
          const k = writeKeyPair(a.out);
          out(`operator key ${k.keyId}: ${a.out}.key (private: fleet commands sign with it), ${a.out}.pub (add it to the controller's operator_keys)\n`);
        } catch (e) {
          reportError(e);
        }
      })
      .command('upload <dir>', 'Send a signed package folder to the controller (verified there)', (s) => s.positional('dir', { type: 'string' }), withClient(upload))
      .demandCommand(1),
  handler: () => {},
};
