/**
 * `reasond start` and `reasond ask` as a user runs them: real processes, the
 * agent's own embedded broker (as `npm start`) or Mosquitto.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { schema } from '../../src/agent/config.js';
import { Engine } from '../../src/engine/index.js';
import { spawnAgent } from '../helpers/agents.js';
import { brokerKinds, freePort, startBroker, stopChild, type TestBroker } from '../helpers/brokers.js';
import { repoRoot, tinyRandom } from '../helpers/models.js';
import { Inbox } from '../helpers/mqtt-inbox.js';

const cli = join(repoRoot, 'src/cli/index.ts');
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );

const engine = new Engine({ model: tinyRandom, threads: 1 });
test.before(async () => {
  await engine.start();
});
test.after.always(async () => {
  await engine.stop();
});

test('reasond start --help lists every option of the schema with its default', async (t) => {
  const r = await run(['start', '--help']);
  t.is(r.code, 0, r.stderr);
  for (const k of schema) t.true(r.stdout.includes(`--${k.key.replace(/_/g, '-')}`), k.key);
  t.true(r.stdout.includes('REASOND_EMBEDDED_PORT'));
  t.regex(r.stdout, /--embedded-port[\s\S]*default: 1883/);
});

test('reasond start reports every config problem at once and does not start', async (t) => {
  const r = await run(['start', '--embedded-port', 'abc', '--queue-max=-1', '--mqtt-version', '3']);
  t.not(r.code, 0);
  t.true(r.stderr.includes('invalid_config'), r.stderr);
  t.true(r.stderr.includes('--embedded-port: must be an integer; got "abc"'), r.stderr);
  t.true(r.stderr.includes('--queue-max: must be from 0 to 10000; got -1'), r.stderr);
  t.true(r.stderr.includes('--mqtt-version: must be one of 4, 5; got 3'), r.stderr);
});

for (const kind of brokerKinds()) {
  test.serial(`[${kind}] reasond ask gets the engine's answer from reasond start, by device and by pool, as JSON, text and a stream`, async (t) => {
    let broker: TestBroker | undefined;
    let url: string;
    const device = `cli-${kind}-${randomUUID().slice(0, 6)}`;
    let agent;
    if (kind === 'embedded') {
      const port = await freePort();
      agent = spawnAgent({ device, embeddedPort: port, pool: device });
      url = `mqtt://127.0.0.1:${port}`;
    } else {
      broker = await startBroker(kind);
      url = broker.url;
      agent = spawnAgent({ device, broker: url, pool: device });
    }
    try {
      // Ready = its retained birth message is on the broker (the client keeps retrying until the broker listens).
      const inbox = await new Inbox(url).start([`reasond/${device}/status`]);
      await inbox.next((m) => m.json?.state === 'online', `${device}'s birth message`);
      await inbox.stop();

      const prompt = 'A train leaves at 9:40 and arrives at 11:15. How long is the trip?';
      const want = await engine.generate({ messages: [{ role: 'user', content: prompt }], max_new_tokens: 16, temperature: 0 });
      const common = ['ask', '--broker', url, '--max-new-tokens', '16', '--temperature', '0'];

      const json = await run([...common, '--device', device, '--json', prompt]);
      t.is(json.code, 0, json.stderr);
      const r = JSON.parse(json.stdout);
      t.is(r.status, 'ok');
      t.is(r.answer, want.answer);
      t.is(r.device, device);

      const text = await run([...common, '--pool', device, prompt]);
      t.is(text.code, 0, text.stderr);
      t.is(text.stdout, (want.reasoning ? `[reasoning]\n${want.reasoning}\n[answer]\n` : '') + want.answer + '\n');
      t.regex(text.stderr, /prompt, \d+ reasoning, \d+ answer tokens/);

      const stream = await run([...common, '--device', device, '--stream', '--json', prompt]);
      t.is(stream.code, 0, stream.stderr);
      const lines = stream.stdout.trim().split('\n').map((l) => JSON.parse(l));
      t.is(lines.at(-1).type, 'result');
      t.is(lines.filter((l) => l.type === 'delta' && l.channel === 'answer').map((l) => l.text).join(''), want.answer);

      const bad = await run([...common.slice(0, 3), '--device', device, '--max-new-tokens', '0', prompt]);
      t.is(bad.code, 2);
      t.regex(bad.stderr, /reasond: invalid_request: max_new_tokens must be >= 1; got 0/);
    } finally {
      await stopChild(agent.child);
      await broker?.stop();
    }
  });
}
