/**
 * scripts/install.sh into a throwaway root (issue 8): exactly the expected
 * files, users and config; a second run changes nothing; --uninstall keeps
 * config, data and the user; --purge leaves the root as it was.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { seedRoot } from '../helpers/install-root.js';
import { repoRoot, tempDir } from '../helpers/models.js';

const script = join(repoRoot, 'scripts/install.sh');

/** A built package as install.sh sees it, small enough to list. */
function fakePackage(): string {
  const src = tempDir('reasond-src-');
  for (const d of ['dist/cli', 'models/reasond-tiny', 'models/dev-keys', 'systemd']) mkdirSync(join(src, d), { recursive: true });
  writeFileSync(join(src, 'package.json'), '{"name":"reasond","version":"0.1.0"}\n');
  writeFileSync(join(src, 'dist/cli/index.js'), 'console.log("reasond")\n');
  writeFileSync(join(src, 'models/reasond-tiny/config.json'), '{}\n');
  // the DEV key pair ships in the repository; only its public half may reach a board (issue 16)
  writeFileSync(join(src, 'models/dev-keys/dev.key'), 'PRIVATE\n');
  writeFileSync(join(src, 'models/dev-keys/dev.pub'), 'PUBLIC\n');
  for (const u of ['reasond.service', 'reasond-controller.service']) copyFileSync(join(repoRoot, 'systemd', u), join(src, 'systemd', u));
  return src;
}

interface Entry { kind: 'file' | 'dir' | 'link'; mode: number; uid: number; mtimeMs: number; content: string }

/** Every path under root with its kind, mode, owner, mtime and content hash (or link target). */
function snapshot(root: string, dir = ''): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const name of readdirSync(join(root, dir))) {
    const rel = dir ? `${dir}/${name}` : name;
    const st = lstatSync(join(root, rel));
    const kind = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
    const content = kind === 'link' ? readlinkSync(join(root, rel)) : kind === 'file' ? createHash('sha256').update(readFileSync(join(root, rel))).digest('hex') : '';
    out.set(rel, { kind, mode: st.mode & 0o7777, uid: st.uid, mtimeMs: st.mtimeMs, content });
    if (kind === 'dir') for (const [k, v] of snapshot(root, rel)) out.set(k, v);
  }
  return out;
}

/** Leaves out shadow-utils' own backups (etc/passwd- ...), written by useradd and userdel. */
const paths = (s: Map<string, Entry>) => [...s.keys()].filter((p) => !/^etc\/(passwd|group|shadow|gshadow)-$/.test(p)).sort();

function install(root: string, ...args: string[]) {
  return spawnSync('bash', [script, '--root', root, ...args], { encoding: 'utf8', env: { ...process.env, REASOND_ARCH: 'aarch64' } });
}

const installArgs = (src: string) => ['--from', src, '--no-deps', '--node', process.execPath, '--device-id', 'pi-7', '--broker', 'mqtts://broker.lan:8883', '--memory-max', '1G'];

test('installs exactly the expected files, user and config; a second run changes nothing; uninstall and purge', (t) => {
  const root = seedRoot();
  const src = fakePackage();
  const seed = snapshot(root);

  const first = install(root, ...installArgs(src));
  t.is(first.status, 0, first.stderr);
  const after = snapshot(root);
  const added = paths(after).filter((p) => !seed.has(p));
  t.deepEqual(added, [
    'etc/reasond',
    'etc/reasond/config.json',
    'etc/systemd/system/multi-user.target.wants',
    'etc/systemd/system/multi-user.target.wants/reasond.service',
    'etc/systemd/system/reasond-controller.service',
    'etc/systemd/system/reasond-controller.service.d',
    'etc/systemd/system/reasond-controller.service.d/10-install.conf',
    'etc/systemd/system/reasond.service',
    'etc/systemd/system/reasond.service.d',
    'etc/systemd/system/reasond.service.d/10-install.conf',
    'opt/reasond',
    'opt/reasond/dist',
    'opt/reasond/dist/cli',
    'opt/reasond/dist/cli/index.js',
    'opt/reasond/models',
    'opt/reasond/models/dev-keys',
    'opt/reasond/models/dev-keys/dev.pub',
    'opt/reasond/models/reasond-tiny',
    'opt/reasond/models/reasond-tiny/config.json',
    'opt/reasond/package.json',
    'opt/reasond/systemd',
    'opt/reasond/systemd/reasond-controller.service',
    'opt/reasond/systemd/reasond.service',
    'usr/local/bin/reasond',
    'var/lib/reasond',
  ]);

  const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
  const user = passwd.split('\n').find((l) => l.startsWith('reasond:'))!.split(':');
  t.deepEqual([user[5], user[6]], ['/var/lib/reasond', '/usr/sbin/nologin']);
  const uid = Number(user[2]);
  t.true(uid > 0 && uid < 1000, 'a system user');
  t.regex(readFileSync(join(root, 'etc/group'), 'utf8'), /^video:x:44:reasond$/m, 'in the video group for vcgencmd');
  t.is(after.get('var/lib/reasond')!.uid, uid, 'the data dir belongs to the service user');
  t.is(after.get('var/lib/reasond')!.mode, 0o750);
  t.is(after.get('etc/reasond/config.json')!.mode, 0o640);

  t.deepEqual(JSON.parse(readFileSync(join(root, 'etc/reasond/config.json'), 'utf8')), {
    device_id: 'pi-7', broker: 'mqtts://broker.lan:8883', data_dir: '/var/lib/reasond', model: '/opt/reasond/models/reasond-tiny',
  });
  t.is(readFileSync(join(root, 'etc/systemd/system/reasond.service'), 'utf8'), readFileSync(join(repoRoot, 'systemd/reasond.service'), 'utf8'));
  t.is(
    readFileSync(join(root, 'etc/systemd/system/reasond.service.d/10-install.conf'), 'utf8'),
    `# Written by scripts/install.sh; run it again to change these.\n[Service]\nMemoryMax=1G\nExecStart=\nExecStart=${process.execPath} /opt/reasond/dist/cli/index.js start --config /etc/reasond/config.json\n`,
  );
  t.is(after.get('etc/systemd/system/multi-user.target.wants/reasond.service')!.content, '/etc/systemd/system/reasond.service');
  t.is(after.get('usr/local/bin/reasond')!.mode, 0o755);
  t.regex(first.stdout, /installed for aarch64/);

  const again = install(root, ...installArgs(src));
  t.is(again.status, 0, again.stderr);
  t.regex(again.stdout, /; 0 file\(s\) changed/);
  t.deepEqual(snapshot(root), after, 'the second run touched nothing (same files, modes, owners, mtimes, contents)');

  const removed = install(root, '--uninstall');
  t.is(removed.status, 0, removed.stderr);
  t.deepEqual(paths(snapshot(root)).filter((p) => !seed.has(p)), ['etc/reasond', 'etc/reasond/config.json', 'var/lib/reasond'], 'config and data stay');
  t.regex(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^reasond:/m, 'the data\'s owner stays');

  const purged = install(root, '--uninstall', '--purge');
  t.is(purged.status, 0, purged.stderr);
  t.deepEqual(paths(snapshot(root)), paths(seed));
  for (const f of ['passwd', 'group', 'shadow', 'gshadow']) t.is(snapshot(root).get(`etc/${f}`)!.content, seed.get(`etc/${f}`)!.content, `etc/${f} as before`);
});

test('an operator\'s config is never overwritten', (t) => {
  const root = seedRoot();
  const src = fakePackage();
  t.is(install(root, ...installArgs(src)).status, 0);
  writeFileSync(join(root, 'etc/reasond/config.json'), '{"device_id":"edited"}\n');
  t.is(install(root, ...installArgs(src), '--broker', 'mqtt://other').status, 0);
  t.is(readFileSync(join(root, 'etc/reasond/config.json'), 'utf8'), '{"device_id":"edited"}\n');
});

test('refuses a 32-bit OS and an old Node, with what to do', (t) => {
  const src = fakePackage();
  const arm32 = spawnSync('bash', [script, '--root', seedRoot(), ...installArgs(src)], { encoding: 'utf8', env: { ...process.env, REASOND_ARCH: 'armv7l' } });
  t.is(arm32.status, 1);
  t.regex(arm32.stderr, /armv7l is a 32-bit OS.*64-bit OS image/);

  const oldNode = join(tempDir('reasond-node-'), 'node');
  writeFileSync(oldNode, '#!/bin/sh\ncase "$1" in -p) echo 18 ;; --version) echo v18.19.0 ;; esac\n');
  chmodSync(oldNode, 0o755);
  const root = seedRoot();
  const old = install(root, ...installArgs(src), '--node', oldNode);
  t.is(old.status, 1);
  t.regex(old.stderr, /Node\.js v18\.19\.0 is too old: reasond needs 20 or newer/);
  t.false(readdirSync(join(root, 'opt')).includes('reasond'), 'nothing installed');
});

test('a private key an older install left on the board is removed by the next run', (t) => {
  const root = seedRoot();
  const src = fakePackage();
  t.is(install(root, ...installArgs(src)).status, 0);
  const planted = join(root, 'opt/reasond/models/dev-keys/dev.key');
  writeFileSync(planted, 'PRIVATE\n');
  const again = install(root, ...installArgs(src));
  t.is(again.status, 0, again.stderr);
  t.false(existsSync(planted));
  t.true(existsSync(join(root, 'opt/reasond/models/dev-keys/dev.pub')));
});
