/**
 * Commands against a broker that is not there, or a port that is taken (issue 17): they fail with the real cause and
 * exit code 4 instead of hanging (fleet) or reporting deadline_exceeded after the whole timeout (ask).
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, startBroker } from '../helpers/brokers.js';
import { repoRoot, tempDir } from '../helpers/models.js';

const cli = join(repoRoot, 'src/cli/index.ts');

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.on('data', (b) => (stderr += b));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr: stderr.split('\n').filter((l) => l && !l.startsWith('npm warn')).join('\n') })));
}

test('a refused connection: fleet status and ask fail at once with the cause, exit 4', async (t) => {
  // Port 1 on loopback: nothing listens there and no test can take it, so the kernel refuses at once
  // (as doctor.test.ts does). A freed ephemeral port was not safe: another test's broker once bound it
  // before this connect, and the command then waited for a CONNACK instead of being refused.
  const port = 1;
  const url = `mqtt://127.0.0.1:${port}`;
  // a timeout far longer than the test: a command that waited for it would time the test out
  for (const args of [['fleet', 'status', `--broker=${url}`, '--timeout=600'], ['ask', 'What is 2+2?', `--broker=${url}`, '--timeout=600']]) {
    const r = await run(args);
    t.is(r.code, 4, args.join(' '));
    t.is(r.stderr, `reasond: broker_unreachable: cannot reach the broker at ${url}: connect ECONNREFUSED 127.0.0.1:${port}`);
  }
});

test('an unknown host names the DNS failure', async (t) => {
  const r = await run(['fleet', 'rollouts', '--broker=mqtt://no-such-host.invalid:1883', '--timeout=600']);
  t.is(r.code, 4);
  // ENOTFOUND from a resolver that answers, EAI_AGAIN from one that cannot be reached: either way, named
  t.regex(r.stderr, /^reasond: broker_unreachable: cannot reach the broker at mqtt:\/\/no-such-host\.invalid:1883: getaddrinfo (ENOTFOUND|EAI_AGAIN) no-such-host\.invalid$/);
});

test('reasond start with its embedded broker port taken: port_in_use, the setting to change, exit 5', async (t) => {
  const { createServer } = await import('node:net');
  const port = await freePort();
  const squatter = createServer().listen(port, '127.0.0.1');
  t.teardown(() => squatter.close());
  const r = await run(['start', `--embedded-port=${port}`, `--data-dir=${tempDir('reasond-busy-')}`, '--threads=1']);
  t.is(r.code, 5);
  t.is(r.stderr.split('\n').at(-1), `reasond: port_in_use: the embedded broker cannot listen on 127.0.0.1:${port}: the port is in use (is a broker already running there? then use it with --broker mqtt://127.0.0.1:${port}); choose another with --embedded-port (embedded_port)`);
});

test('reasond ask --device for a device the broker has never heard of says so at once, exit 2', async (t) => {
  const broker = await startBroker('embedded');
  t.teardown(() => broker.stop());
  const r = await run(['ask', 'What is 2+2?', '--device=nosuchdevice', `--broker=${broker.url}`, '--timeout=600']);
  t.is(r.code, 2);
  t.is(r.stderr, `reasond: invalid_request: no device "nosuchdevice" is known to the broker at ${broker.url}: it holds no retained reasond/nosuchdevice/status (reasond fleet status lists the devices)`);
});

test('an operator key that cannot be read, or is not Ed25519, is refused before connecting; keygen never overwrites (issue 16)', async (t) => {
  const dir = tempDir('reasond-opkey-');
  const missing = await run(['fleet', 'rollouts', `--operator-key=${join(dir, 'nope.key')}`, '--broker=mqtt://127.0.0.1:1', '--timeout=600']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, new RegExp(`^reasond: invalid_config: --operator-key: cannot read the private key ${dir}/nope\\.key: ENOENT`));
  const made = await run(['fleet', 'keygen', `--out=${join(dir, 'alice')}`]);
  t.is(made.code, 0, made.stderr);
  const again = await run(['fleet', 'keygen', `--out=${join(dir, 'alice')}`]);
  t.is(again.code, 2);
  t.is(again.stderr, `reasond: invalid_request: ${dir}/alice.key exists; keygen does not overwrite keys`);
  // an RSA key where an operator key belongs
  writeFileSync(join(dir, 'rsa.key'), generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const rsa = await run(['fleet', 'rollouts', `--operator-key=${join(dir, 'rsa.key')}`, '--broker=mqtt://127.0.0.1:1']);
  t.is(rsa.code, 1);
  t.is(rsa.stderr, `reasond: invalid_config: --operator-key: ${dir}/rsa.key is a rsa key; operator keys are ed25519 (reasond fleet keygen)`);
});
