/** `reasond doctor` as an operator runs it (issue 8): rows with fixes on stdout, exit 1 on a failure. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, tempDir } from '../helpers/models.js';

const doctor = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), 'doctor', `--data-dir=${tempDir('reasond-doctor-')}`,
    `--sys-root=${join(repoRoot, 'test/fixtures/sys/rpi5')}`, ...args], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

test('a missing model: the row, its fix, the verdict and exit code 1', (t) => {
  const r = doctor('--model=/nonexistent/model');
  t.is(r.status, 1, r.stderr);
  t.regex(r.stdout, /^fail  model        \/nonexistent\/model: model folder \/nonexistent\/model does not exist\n {19}fix: Point model/m);
  t.regex(r.stdout, /^ok    node  /m);
  t.regex(r.stdout, /This board cannot serve until the failures above are fixed\.\n$/);
});

test('--json gives every row; a refused broker fails it', (t) => {
  const r = doctor('--model=/nonexistent/model', '--broker=mqtt://127.0.0.1:1', '--json');
  t.is(r.status, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  t.false(out.ok);
  const broker = out.checks.find((c: { name: string }) => c.name === 'broker');
  t.is(broker.status, 'fail');
  t.is(broker.detail, 'mqtt://127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1');
  t.deepEqual(out.checks.map((c: { name: string }) => c.name), ['node', 'cpu', 'clock', 'model', 'package', 'onnxruntime', 'memory', 'broker', 'sensors', 'disk', 'jobs']);
});

test("onnxruntime's native log lines stay out of the report: the provider probe's reasons are in its row", (t) => {
  const r = doctor(); // the shipped model: the probe tries every listed provider, cuda and tensorrt fail to load here
  const all = r.stdout + r.stderr;
  t.false(all.includes('[E:onnxruntime'), all);
  t.false(all.includes('Failed to load library'), all);
  // Dawn (the webgpu provider) prints this from native code, past any log level: the probe runs in a child
  t.false(all.includes("Couldn't load Vulkan"), all);
  t.is(r.stderr, '');
  t.regex(r.stdout, /^ok    onnxruntime  onnxruntime \S+: cpu loads, .*cuda does not load/m);
});
