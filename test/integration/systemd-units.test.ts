/**
 * The shipped units pass `systemd-analyze verify` and rate 2.5 or better in
 * `systemd-analyze security` (issue 8). verify insists that ExecStart's binary
 * exists, so the units are checked as copies pointing at this test's node.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers/models.js';

const units = ['reasond.service', 'reasond-controller.service'];
const MAX_EXPOSURE = 2.5;

function copyUnit(name: string): string {
  const path = join(tempDir('reasond-unit-'), name);
  writeFileSync(path, readFileSync(join(repoRoot, 'systemd', name), 'utf8').replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `));
  return path;
}

for (const name of units) {
  test(`${name}: systemd-analyze verify passes`, (t) => {
    const r = spawnSync('systemd-analyze', ['verify', copyUnit(name)], { encoding: 'utf8' });
    t.is(r.error, undefined, 'systemd-analyze is missing: .ci/run installs the systemd package');
    t.is(r.status, 0, r.stderr);
    t.is(r.stderr.trim(), '', 'no warnings either');
  });

  test(`${name}: systemd-analyze security rates it ${MAX_EXPOSURE} or better`, (t) => {
    const out = execFileSync('systemd-analyze', ['security', '--offline=true', '--no-pager', copyUnit(name)], { encoding: 'utf8' });
    const m = out.match(/Overall exposure level for \S+: ([\d.]+)/);
    t.truthy(m, out);
    const level = Number(m![1]);
    t.log(`${name}: exposure ${level}`);
    t.true(level <= MAX_EXPOSURE, out);
  });

  test(`${name}: Type=notify with a watchdog, restart policy and no MemoryDenyWriteExecute (V8's JIT needs it off)`, (t) => {
    const text = readFileSync(join(repoRoot, 'systemd', name), 'utf8');
    for (const line of ['Type=notify', 'NotifyAccess=all', 'Restart=on-failure', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'PrivateTmp=yes', 'ProtectHome=yes']) {
      t.regex(text, new RegExp(`^${line}$`, 'm'));
    }
    t.regex(text, /^WatchdogSec=\d+$/m);
    t.regex(text, /^StartLimitBurst=\d+$/m);
    t.notRegex(text, /^MemoryDenyWriteExecute/m);
  });
}
