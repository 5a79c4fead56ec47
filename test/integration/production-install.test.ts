/**
 * A production install as a board gets it (issue 17): `npm pack`, the tarball installed by
 * scripts/install.sh into a throwaway root, which prunes the dependencies to the runtime ones
 * (`npm prune --omit=dev`). The installed copy must then answer --version and every --help, pass
 * `doctor`, and start on its embedded broker with the config install.sh wrote and answer a task.
 * The dependencies come from this checkout's node_modules, as install.sh takes them on a board
 * (no network). It packs the built dist/: `npm ci` builds it, `npm run build` after an edit.
 */
import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, stopChild } from '../helpers/brokers.js';
import { seedRoot } from '../helpers/install-root.js';
import { readJson, repoRoot, tempDir } from '../helpers/models.js';
import { Inbox } from '../helpers/mqtt-inbox.js';

const env = { ...process.env, NO_COLOR: '1' };
const work = tempDir('reasond-prod-');
const root = join(work, 'root');
const opt = join(root, 'opt/reasond');
const cli = join(opt, 'dist/cli/index.js');
const reasond = (args: string[], timeout = 120_000) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env, cwd: work, timeout });

test.before(() => {
  const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: repoRoot, encoding: 'utf8', env });
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stderr}`);
  const tarball = join(work, JSON.parse(pack.stdout)[0].filename);
  const untar = spawnSync('tar', ['xzf', tarball, '-C', work], { encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr}`);
  // what `npm ci` leaves in a source checkout on the board; install.sh copies and prunes it
  symlinkSync(join(repoRoot, 'node_modules'), join(work, 'package/node_modules'));
  seedRoot(root);
  const install = spawnSync('bash', [join(work, 'package/scripts/install.sh'), '--root', root, '--from', join(work, 'package'), '--node', process.execPath, '--device-id', 'pi-prod'], { encoding: 'utf8', env });
  if (install.status !== 0) throw new Error(`install.sh failed: ${install.stderr}`);
});

test('the installed copy holds the runtime dependencies only, built for this machine', (t) => {
  // npm's own view of the runtime tree (some runtime packages need @types/node, so it stays)
  const ls = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: repoRoot, encoding: 'utf8', env });
  const runtime = new Set(ls.stdout.split('\n').map((p) => p.match(/\/node_modules\/((?:@[^/]+\/)?[^/]+)$/)?.[1]).filter((p): p is string => !!p));
  const installed = readdirSync(join(opt, 'node_modules')).filter((n) => !n.startsWith('.')).flatMap((n) => (n.startsWith('@') ? readdirSync(join(opt, 'node_modules', n)).map((m) => `${n}/${m}`) : [n]));
  t.deepEqual(installed.filter((n) => !runtime.has(n)).sort(), []);
  const pkg = readJson(join(repoRoot, 'package.json'));
  t.deepEqual(Object.keys(pkg.devDependencies).filter((d) => !runtime.has(d) && existsSync(join(opt, 'node_modules', d))), []);
  t.deepEqual(Object.keys(pkg.dependencies).filter((d) => !existsSync(join(opt, 'node_modules', d))), []);
  // sqlite3's native module was copied, not re-fetched unbuilt (a symlinked node_modules once was)
  t.true(existsSync(join(opt, 'node_modules/sqlite3/build/Release/node_sqlite3.node')));
  t.true(existsSync(join(repoRoot, 'node_modules/@huggingface/transformers')), 'the source checkout keeps its dev dependencies');
  t.deepEqual(readdirSync(join(opt, 'models/dev-keys')).sort(), ['README.md', 'dev.pub']);
});

test('--version and every command\'s --help run without a dev dependency', (t) => {
  const version = reasond(['--version']);
  t.is(version.status, 0, version.stderr);
  t.is(version.stdout, `${readJson(join(repoRoot, 'package.json')).version}\n`);
  for (const command of ['run', 'eval', 'start', 'ask', 'stats', 'model', 'doctor', 'controller', 'fleet', 'bench']) {
    const help = reasond([command, '--help']);
    t.is(help.status, 0, `${command}: ${help.stderr}`);
    t.true(help.stdout.startsWith(`reasond ${command}`), `${command}: ${help.stdout.slice(0, 80)}`);
    t.is(help.stderr, '', command);
  }
});

test('doctor passes on the installed copy with the config install.sh wrote', (t) => {
  const data = join(work, 'doctor-data');
  mkdirSync(data);
  const r = reasond(['doctor', '--json', '--config', join(root, 'etc/reasond/config.json'), '--data-dir', data, '--model', join(opt, 'models/reasond-tiny')]);
  t.is(r.status, 0, r.stdout + r.stderr);
  const report = JSON.parse(r.stdout);
  const byName = new Map(report.checks.map((c: { name: string; status: string; detail: string }) => [c.name, c]));
  t.is((byName.get('model') as { status: string }).status, 'ok');
  t.is((byName.get('onnxruntime') as { status: string }).status, 'ok');
  t.regex((byName.get('model') as { detail: string }).detail, /^reasond-tiny 1\.0\.0 \(hf, q4\) in .*\/opt\/reasond\/models\/reasond-tiny$/);
});

test('start on the embedded broker, then ask: the installed copy answers a task', async (t) => {
  const port = await freePort();
  const data = join(work, 'agent-data');
  const agent: ChildProcess = spawn(
    process.execPath,
    [cli, 'start', '--config', join(root, 'etc/reasond/config.json'), '--data-dir', data, '--model', join(opt, 'models/reasond-tiny'), '--embedded-port', String(port), '--threads', '1'],
    { env, cwd: work, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let log = '';
  agent.stdout!.on('data', (b) => (log += b));
  agent.stderr!.on('data', (b) => (log += b));
  try {
    // ready = its retained birth message is on the broker (the inbox keeps retrying until it listens)
    const inbox = await new Inbox(`mqtt://127.0.0.1:${port}`).start(['reasond/pi-prod/status']);
    await inbox.next((m) => m.json?.state === 'online', 'the birth message');
    await inbox.stop();
    const ask = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [cli, 'ask', '--broker', `mqtt://127.0.0.1:${port}`, '--device', 'pi-prod', '--json', '--temperature', '0', '--timeout', '90', 'What is 17 + 25?'], { env, cwd: work });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => (stderr += b));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    t.is(ask.code, 0, `${ask.stderr}\nagent log:\n${log}`);
    const answer = JSON.parse(ask.stdout);
    t.is(answer.status, 'ok');
    t.is(answer.device, 'pi-prod');
    t.is(answer.answer, '42');
  } finally {
    await stopChild(agent);
  }
  t.false(log.includes('ERR_MODULE_NOT_FOUND'), log);
});
