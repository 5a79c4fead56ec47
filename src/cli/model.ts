/**
 * `reasond model ...` (issue 6): make and check signed model packages,
 * serve them on the LAN, and look after the versions installed on this
 * board. list/activate/rollback change the models folder on disk; a running
 * agent picks the change up at its next start (to switch a running agent,
 * send it model/activate or model/rollback over MQTT). pull (issue 20) fetches
 * an onnx-community model from a Hugging Face hub into the same folder.
 */
import { readFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { ReasondError } from '../core/errors.js';
import { agentVersion } from '../core/paths.js';
import { identity } from '../package/manifest.js';
import { packModel } from '../package/pack.js';
import { PackageServer } from '../package/server.js';
import { readPrivateKey, readTrustedKey, writeKeyPair } from '../package/signing.js';
import { VersionStore } from '../update/store.js';
import { verifyPackage } from '../package/verify.js';
import { modelsDirFromArgs, modelsDirOptions } from './models-dir.js';
import { reportError } from './output.js';
import { pullCommand } from './model-pull.js';
import { listPulled } from '../update/hub/pulled.js';

type Args = Record<string, any>;

const guarded = (fn: (a: Args) => Promise<void>) => async (a: Args) => {
  try {
    await fn(a);
  } catch (e) {
    reportError(e);
  }
};

const storeOf = (a: Args): VersionStore => new VersionStore(modelsDirFromArgs(a)());
const storeOptions = modelsDirOptions;

const keygen: CommandModule<object, Args> = {
  command: 'keygen',
  describe: 'Make an Ed25519 key pair: <out>.key (keep secret) and <out>.pub (give to agents as trusted_keys)',
  builder: (y) => y.option('out', { type: 'string', demandOption: true, describe: 'Path prefix for the two files' }),
  handler: guarded(async (a) => {
    const k = writeKeyPair(a.out);
    process.stdout.write(`key ${k.keyId}: ${a.out}.key (private), ${a.out}.pub (public)\n`);
  }),
};

const pack: CommandModule<object, Args> = {
  command: 'pack <dir>',
  describe: 'Sign a model folder as a package: writes reasond-model.json with every file, its size and sha256',
  builder: (y) =>
    y
      .positional('dir', { type: 'string', demandOption: true, describe: 'Model folder (onnx-community or genai layout)' })
      .option('name', { type: 'string', demandOption: true, describe: 'Package name (lower case)' })
      .option('version', { type: 'string', demandOption: true, describe: 'Package version (semver)' })
      .option('key', { type: 'string', demandOption: true, describe: 'Private key file (.key)' })
      .option('out', { type: 'string', describe: 'Write the package to this new folder', defaultDescription: 'sign <dir> in place' })
      .option('smoke', { type: 'string', describe: 'JSON file with smoke checks {prompts: [{prompt, expect}], min_tokens_per_s, max_rss_mb}, or none for no checks', defaultDescription: "those of the folder's existing reasond-model.json" })
      .option('min-agent-version', { type: 'string', describe: 'Oldest agent that may install it', default: agentVersion })
      .option('dtype', { type: 'string', describe: 'Weights file the package is for (q4, q8, fp32, ...)' }),
  handler: guarded(async (a) => {
    const smoke = a.smoke === 'none' ? null : a.smoke ? JSON.parse(readFileSync(a.smoke, 'utf8')) : undefined;
    const { dir, manifest, smokeFrom } = await packModel({
      dir: a.dir, out: a.out, name: a.name, version: a.version, key: readPrivateKey(a.key), smoke,
      minAgentVersion: a['min-agent-version'], dtype: a.dtype,
    });
    const n = manifest.smoke.prompts.length;
    const checks = smokeFrom === 'kept' ? `${n} smoke check${n === 1 ? '' : 's'} kept from the existing manifest` : smokeFrom === 'given' ? `${n} smoke check${n === 1 ? '' : 's'} from ${a.smoke}` : 'no smoke checks: a rollout will check nothing but the signature';
    process.stdout.write(`${identity(manifest)}: ${manifest.files.length} files signed by key ${manifest.signature!.key_id} in ${dir}; ${checks}\n`);
  }),
};

const verify: CommandModule<object, Args> = {
  command: 'verify <dir>',
  describe: 'Check a package: signature by a trusted key, paths, sizes, sha256, ONNX external data',
  builder: (y) =>
    y
      .positional('dir', { type: 'string', demandOption: true })
      .option('pub', { type: 'string', array: true, demandOption: true, describe: 'Trusted public key file(s)' }),
  handler: guarded(async (a) => {
    const m = await verifyPackage(a.dir, { trusted: (a.pub as string[]).map(readTrustedKey), agentVersion });
    process.stdout.write(`${identity(m)}: ok (${m.files.length} files, key ${m.signature!.key_id})\n`);
  }),
};

const list: CommandModule<object, Args> = {
  command: 'list',
  describe: 'Versions installed on this board, the active one and those marked bad; then the models pulled from a hub',
  builder: storeOptions,
  handler: guarded(async (a) => {
    const s = storeOf(a);
    await s.start();
    const active = await s.active();
    const bad = new Set(s.snapshot.bad);
    for (const v of await s.installed()) {
      const id = identity(v);
      process.stdout.write(`${active && identity(active) === id ? '*' : ' '} ${id}${bad.has(id) ? ' (bad)' : ''}\n`);
    }
    if (!active) process.stdout.write('(no installed version is active: the configured model serves)\n');
    // pulled models serve when named: --model <repo> (or the model key)
    const pulled = listPulled(s.root);
    if (pulled.length) process.stdout.write('pulled (serve one with --model <repo>):\n');
    for (const p of pulled) {
      const rev = p.revision === p.commit ? p.commit.slice(0, 12) : `${p.revision} @ ${p.commit.slice(0, 12)}`;
      process.stdout.write(`  ${p.repo} ${p.dtype} (${rev}) in ${p.dir}\n`);
    }
  }),
};

const activate: CommandModule<object, Args> = {
  command: 'activate <version>',
  describe: 'Make an installed version the active one (at the agent\'s next start)',
  builder: (y) => storeOptions(y).positional('version', { type: 'string', demandOption: true }).option('name', { type: 'string', describe: 'Package name', defaultDescription: 'the active one\'s' }),
  handler: guarded(async (a) => {
    const s = storeOf(a);
    await s.start();
    const name = a.name ?? (await s.active())?.name;
    if (!name) throw new ReasondError('invalid_request', 'no version is active; name the package with --name');
    const v = { name, version: String(a.version) };
    if (s.isBad(v)) throw new ReasondError('invalid_request', `${identity(v)} is marked bad on this board`);
    await s.activate(v);
    process.stdout.write(`active: ${identity(v)}\n`);
  }),
};

const rollback: CommandModule<object, Args> = {
  command: 'rollback',
  describe: 'Activate the previous version (or the configured model) at the agent\'s next start',
  builder: storeOptions,
  handler: guarded(async (a) => {
    const s = storeOf(a);
    await s.start();
    const prev = await s.previous();
    if (prev) await s.activate(prev);
    else await s.deactivate();
    process.stdout.write(`active: ${prev ? identity(prev) : 'the configured model'}\n`);
  }),
};

const serve: CommandModule<object, Args> = {
  command: 'serve <dir>',
  describe: 'Serve package folders over HTTP (with Range) for agents to deploy from',
  builder: (y) =>
    y
      .positional('dir', { type: 'string', demandOption: true })
      .option('port', { type: 'number', default: 8080 })
      .option('host', { type: 'string', default: '0.0.0.0' })
      .option('bytes-per-second', { type: 'number', default: 0, describe: 'Cap each download at this rate (0 = no cap)' }),
  handler: guarded(async (a) => {
    const server = new PackageServer({ root: a.dir, host: a.host, port: a.port, bytesPerSecond: a['bytes-per-second'], log: (l) => process.stderr.write(`[reasond] ${l}\n`) });
    const url = await server.start();
    process.stderr.write(`[reasond] serving ${a.dir} on ${url} (index: ${url}index.json)\n`);
    await new Promise<void>((resolve) => process.once('SIGINT', resolve).once('SIGTERM', resolve));
    await server.stop();
  }),
};

export const modelCommand: CommandModule = {
  command: 'model <command>',
  describe: 'Signed model packages: keygen, pack, verify, serve; list, activate, rollback on this board; pull from a Hugging Face hub',
  // --version and <version> mean the package's here, not the agent's (yargs' global --version)
  builder: (y) => y.version(false).command(keygen).command(pack).command(verify).command(list).command(activate).command(rollback).command(serve).command(pullCommand).demandCommand(1),
  handler: () => {},
};
