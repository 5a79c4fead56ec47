/**
 * `reasond doctor` against fixture situations (issue 8): each failure is
 * reported with its fix and makes the exit code non-zero; warnings do not.
 */
import test from 'ava';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../../src/agent/config.js';
import { migrations } from '../../../src/agent/migrations.js';
import { Database } from '../../../src/store/index.js';
import { probeBroker } from '../../../src/service/doctor/context.js';
import { runDoctor, type DoctorContext, type DoctorRow } from '../../../src/service/doctor/index.js';
import { makeKeys, makePackage } from '../../helpers/packages.js';
import { copySysFixture } from '../../helpers/sysfs.js';
import { repoRoot, shippedModel, tempDir, tinyRandom } from '../../helpers/models.js';

const GiB = 2 ** 30;

/** The Raspberry Pi 5 tree with a cpuinfo and the given MemAvailable. */
function sysRoot(availableKb = 7301888, features = 'fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp'): string {
  const root = copySysFixture('rpi5');
  writeFileSync(join(root, 'proc/cpuinfo'), `processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: ${features}\nCPU implementer\t: 0x41\n`);
  writeFileSync(join(root, 'proc/meminfo'), `MemTotal:        8245744 kB\nMemFree:          100000 kB\nMemAvailable:   ${availableKb} kB\n`);
  return root;
}

function context(over: Partial<DoctorContext> & { flags?: Record<string, unknown> } = {}): DoctorContext {
  const dataDir = join(tempDir('reasond-doctor-'), 'data');
  mkdirSync(dataDir);
  const { flags, ...rest } = over;
  const config = loadConfig({ cli: { model: tinyRandom, 'data-dir': dataDir, broker: '', ...flags }, env: {} });
  return {
    config,
    nodeVersion: '20.19.0',
    arch: 'arm64',
    sysRoot: sysRoot(),
    now: () => Date.UTC(2026, 5, 1),
    onnx: { version: async () => '1.30.0', providers: async () => [{ name: 'cpu', loads: true }, { name: 'cuda', loads: false, error: 'libcudart.so.12 missing' }] },
    probeBroker: async () => {},
    freeBytes: async () => 20 * GiB,
    ...rest,
  };
}

async function doctor(ctx: DoctorContext) {
  const printed: DoctorRow[] = [];
  const result = await runDoctor(ctx, (r) => printed.push(r));
  const row = (name: string) => result.rows.find((r) => r.name === name)!;
  return { ...result, printed, row };
}

test('a healthy Raspberry Pi 5 with a signed package: every check ok, exit 0', async (t) => {
  const keys = makeKeys();
  const { dir } = await makePackage({ keys, version: '1.2.0' });
  const d = await doctor(context({ flags: { model: dir, 'trusted-keys': keys.pubPath } }));
  t.deepEqual(d.rows.map((r) => `${r.name}:${r.status}`), [
    'node:ok', 'cpu:ok', 'clock:ok', 'model:ok', 'package:ok', 'onnxruntime:ok', 'memory:ok', 'broker:ok', 'sensors:ok', 'disk:ok', 'jobs:ok',
  ]);
  t.regex(d.row('package').detail, new RegExp(`^tiny@1\\.2\\.0: signed by key ${keys.trusted.keyId}; all \\d+ files match their sizes and sha256$`));
  t.is(d.exitCode, 0);
  t.deepEqual(d.printed, d.rows, 'each row is printed as it is known');
  t.is(d.row('onnxruntime').detail, 'onnxruntime 1.30.0: cpu loads, cuda does not load');
  t.regex(d.row('model').detail, /\(hf, q8\) in /);
  t.is(d.row('cpu').detail, 'arm64 with ARMv8.2 dot product (asimddp)');
  t.is(d.row('sensors').detail, '1 thermal zone(s), 2 hwmon temperature(s)');
  t.is(d.row('broker').fix, undefined);
});

test('model missing: fails with where to point it, and the checks that need the model say so', async (t) => {
  const d = await doctor(context({ flags: { model: '/nonexistent/model' } }));
  t.is(d.exitCode, 1);
  t.is(d.row('model').status, 'fail');
  t.regex(d.row('model').detail, /^\/nonexistent\/model: model folder \/nonexistent\/model does not exist/);
  t.regex(d.row('model').fix!, /Point model .* \/opt\/reasond\/models\/reasond-tiny/);
  t.is(d.row('onnxruntime').status, 'warn');
  t.is(d.row('memory').fix, 'Fix the model check first');
});

test('broker down: a real connection attempt fails with the reason and the fix', async (t) => {
  // Port 1 on loopback: nothing listens there, the kernel refuses at once.
  const d = await doctor(context({ flags: { broker: 'mqtt://127.0.0.1:1' }, probeBroker: (c) => probeBroker(c, 3000) }));
  t.is(d.exitCode, 1);
  t.is(d.row('broker').status, 'fail');
  t.regex(d.row('broker').detail, /^mqtt:\/\/127\.0\.0\.1:1: connect ECONNREFUSED 127\.0\.0\.1:1$/);
  t.regex(d.row('broker').fix!, /^Start the broker \(systemctl status mosquitto\)/);
});

test('a TLS refusal points at the CA, the device pair and the clock', async (t) => {
  const d = await doctor(context({ flags: { broker: 'mqtts://broker.lan:8883' }, probeBroker: async () => Promise.reject(new Error('self-signed certificate in certificate chain')) }));
  t.is(d.row('broker').status, 'fail');
  t.is(d.row('broker').detail, 'mqtts://broker.lan:8883 over TLS: self-signed certificate in certificate chain');
  t.regex(d.row('broker').fix!, /ca is the CA .* clock/);
});

test('too little memory for the model: fails with what the model needs', async (t) => {
  // 200 MiB available; the tiny-random fixture needs its weights x1.5 plus 256 MiB, plus its KV cache:
  // 2 layers x (key + value) x 2 kv heads x 16 dims x 4 bytes x 512 positions x 4 rows = 1 MiB.
  const d = await doctor(context({ sysRoot: sysRoot(200 * 1024) }));
  t.is(d.exitCode, 1);
  t.is(d.row('memory').status, 'fail');
  t.is(d.row('memory').detail, '200 MiB available; the model needs about 257 MiB (weights 157 KiB x1.5 + 256 MiB + KV cache 1 MiB for max_batch 4 x 512 positions)');
  t.regex(d.row('memory').fix!, /swap/);
});

test('old Node: fails with the install fix', async (t) => {
  const d = await doctor(context({ nodeVersion: '18.19.0' }));
  t.is(d.exitCode, 1);
  t.deepEqual(d.row('node'), { name: 'node', status: 'fail', detail: 'Node 18.19.0 is older than 20', fix: d.row('node').fix });
  t.regex(d.row('node').fix!, /Node\.js 20 or newer/);
});

test('an unset clock fails (TLS would refuse every certificate)', async (t) => {
  const d = await doctor(context({ now: () => Date.UTC(1970, 0, 1, 0, 2) }));
  t.is(d.row('clock').status, 'fail');
  t.is(d.row('clock').detail, 'the clock says 1970-01-01T00:02:00.000Z');
  t.regex(d.row('clock').fix!, /timedatectl set-ntp true/);
});

test('warnings alone keep exit 0: a Raspberry Pi 4 CPU without dot product, no sensors, a fuller disk', async (t) => {
  const bare = tempDir('reasond-bare-sys-');
  mkdirSync(join(bare, 'proc'));
  writeFileSync(join(bare, 'proc/cpuinfo'), 'Features\t: fp asimd evtstrm crc32 cpuid\n');
  writeFileSync(join(bare, 'proc/meminfo'), 'MemAvailable:   3000000 kB\n');
  const d = await doctor(context({ sysRoot: bare, freeBytes: async () => GiB }));
  t.is(d.exitCode, 0);
  t.is(d.row('cpu').status, 'warn');
  t.regex(d.row('cpu').detail, /Raspberry Pi 4/);
  t.regex(d.row('cpu').fix!, /Illegal instruction/);
  t.is(d.row('sensors').status, 'warn');
  t.is(d.row('disk').status, 'warn');
});

test('a full disk under the data dir fails', async (t) => {
  const d = await doctor(context({ freeBytes: async () => 100 * 2 ** 20 }));
  t.is(d.row('disk').status, 'fail');
  t.is(d.exitCode, 1);
});

test('model package: a changed file fails with the hash, no trusted_keys warns, a plain folder warns; the configured model signed by another key is fine', async (t) => {
  const keys = makeKeys();
  const { dir } = await makePackage({ keys, version: '1.0.0' });
  const plain = await doctor(context());
  t.is(plain.row('package').status, 'warn');
  t.regex(plain.row('package').detail, /has no reasond-model\.json: a plain model folder, unsigned/);
  t.is(plain.exitCode, 0);

  const unchecked = await doctor(context({ flags: { model: dir } }));
  t.is(unchecked.row('package').status, 'warn');
  t.regex(unchecked.row('package').detail, /^tiny@1\.0\.0: all \d+ files match their sizes and sha256; the signature is not checked: no trusted_keys$/);
  t.notRegex(unchecked.row('package').fix!, /dev\.pub in trusted_keys/);

  // the configured model is loaded as configured: a board that trusts only its operator's key is healthy
  const foreign = await doctor(context({ flags: { model: dir, 'trusted-keys': makeKeys('other').pubPath } }));
  t.is(foreign.row('package').status, 'ok');
  t.regex(foreign.row('package').detail, /^tiny@1\.0\.0 \(the configured model, loaded without a signature check\): all \d+ files match their sizes and sha256; signed by key [0-9a-f]{16}, which trusted_keys does not list$/);
  t.is(foreign.exitCode, 0);

  writeFileSync(join(dir, 'tokenizer_config.json'), '{"tampered":1}'.padEnd(readFileSync(join(dir, 'tokenizer_config.json')).length));
  const tampered = await doctor(context({ flags: { model: dir, 'trusted-keys': keys.pubPath } }));
  t.is(tampered.row('package').status, 'fail');
  t.regex(tampered.row('package').detail, /hash_mismatch: tokenizer_config\.json has sha256 [0-9a-f]{64}; the manifest says [0-9a-f]{64}/);
  t.regex(tampered.row('package').fix!, /The served model is corrupt/);
});

test('doctor checks the model being served: the active package, held to its signature; the configured one is the fallback', async (t) => {
  const keys = makeKeys();
  const other = makeKeys('other');
  const modelsDir = join(tempDir(), 'models');
  const install = async (k: typeof keys, version: string) => {
    const { dir } = await makePackage({ keys: k, version });
    cpSync(dir, join(modelsDir, 'tiny', version), { recursive: true });
    rmSync(join(modelsDir, 'active'), { force: true });
    symlinkSync(`tiny/${version}`, join(modelsDir, 'active'));
  };
  await install(keys, '1.3.0');
  const good = await doctor(context({ flags: { 'models-dir': modelsDir, 'trusted-keys': keys.pubPath } }));
  t.is(good.row('model').detail, `tiny 1.3.0 (hf, q8) in ${join(modelsDir, 'tiny', '1.3.0')} (the active package tiny@1.3.0; the configured ${tinyRandom} is the fallback)`);
  t.regex(good.row('package').detail, /^tiny@1\.3\.0: signed by key [0-9a-f]{16}; all \d+ files match their sizes and sha256$/);
  await install(other, '1.4.0');
  const untrusted = await doctor(context({ flags: { 'models-dir': modelsDir, 'trusted-keys': keys.pubPath } }));
  t.is(untrusted.row('package').status, 'fail');
  t.regex(untrusted.row('package').detail, / \(the active package\): untrusted_key: tiny@1\.4\.0 is signed by key [0-9a-f]{16}, which is not trusted/);
});

test('the shipped model signed with the DEV key: doctor warns and never advises trusting it', async (t) => {
  const none = await doctor(context({ flags: { model: shippedModel } }));
  t.is(none.row('package').status, 'warn');
  t.regex(none.row('package').detail, /; the signature is not checked: no trusted_keys \(it is the DEV key's\)$/);
  t.regex(none.row('package').fix!, /never trust models\/dev-keys\/dev\.pub/);
  const trusting = await doctor(context({ flags: { model: shippedModel, 'trusted-keys': join(repoRoot, 'models/dev-keys/dev.pub') } }));
  t.is(trusting.row('package').status, 'warn');
  t.regex(trusting.row('package').detail, /; signed by the DEV key, and trusted_keys lists it$/);
  t.regex(trusting.row('package').fix!, /never trust models\/dev-keys\/dev\.pub on a board you care about/);
});

test('jobs: listed when the config has them; a job whose SQL writes fails here as it does at start (issue 18)', async (t) => {
  t.is((await doctor(context())).row('jobs').detail, 'no scheduled jobs');
  const job = (name: string, sql: string) => ({ name, schedule: '*/5 * * * *', input: { sql }, prompt: 'Rows: {{ count }}' });
  const ctx = context({ flags: { jobs: JSON.stringify([job('tasks', 'SELECT COUNT(*) AS value FROM tasks')]) } });
  // before the first start there is no database to compile the SQL against
  t.like((await doctor(ctx)).row('jobs'), { status: 'warn', detail: `tasks (*/5 * * * * UTC); the SQL of tasks is checked at the first start (no database at ${join(ctx.config.data_dir, 'reasond.db')} yet)` });
  const db = new Database(join(ctx.config.data_dir, 'reasond.db'), migrations);
  await db.start();
  await db.stop();
  t.like((await doctor(ctx)).row('jobs'), { status: 'ok', detail: 'tasks (*/5 * * * * UTC); their SQL compiles and only reads' });
  const bad = { ...ctx, config: { ...ctx.config, jobs: [...ctx.config.jobs, ...loadConfig({ cli: { jobs: JSON.stringify([job('w', "WITH x AS (SELECT 1) INSERT INTO readings (topic, at) SELECT 'a', 1 FROM x")]) }, env: {} }).jobs] } };
  const d = await doctor(bad);
  t.like(d.row('jobs'), { status: 'fail', detail: 'jobs[1].input.sql: writes to the database (a job\'s query must only read); got "WITH x AS (SELECT 1) INSERT INTO readings (topic, at) SELECT \'a\', 1 FROM x"' });
  t.is(d.exitCode, 1);
});
