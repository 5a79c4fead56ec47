/**
 * No board can answer as another (issue 16). A rogue client reads a pool's tasks without $share (as
 * Mosquitto allows any pool member to) and races the agent to the reply topic with answers that claim
 * to come from the agent, from a device the broker does not know, and from a device of another pool.
 * `reasond ask` ignores each, says why, and prints the agent's own signed answer.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Engine } from '../../src/engine/index.js';
import { spawnAgent } from '../helpers/agents.js';
import { brokerKinds, startBroker, stopChild } from '../helpers/brokers.js';
import { onlineStatus } from '../helpers/messages.js';
import { repoRoot, tinyRandom } from '../helpers/models.js';
import { Inbox } from '../helpers/mqtt-inbox.js';

const cli = join(repoRoot, 'src/cli/index.ts');
const ask = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', cli, 'ask', ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );

for (const kind of brokerKinds()) {
  test.serial(`[${kind}] forged pool answers are ignored with their reason; the agent's signed answer is printed`, async (t) => {
    const broker = await startBroker(kind);
    const device = `sig-${kind}-${randomUUID().slice(0, 6)}`;
    const pool = `pool-${randomUUID().slice(0, 6)}`;
    const agent = spawnAgent({ device, broker: broker.url, pool });
    const rogue = await new Inbox(broker.url).start([`reasond/pool/${pool}/task`, `reasond/${device}/status`]);
    try {
      const born = await rogue.next((m) => m.topic === `reasond/${device}/status` && m.json?.state === 'online', 'the birth message');
      t.regex(born.json.answer_key, /^[A-Za-z0-9+/]+=*$/, 'the status carries the answer key');
      // a device of another pool, known to the broker
      const elsewhere = `other-${randomUUID().slice(0, 6)}`;
      await rogue.publish(`reasond/${elsewhere}/status`, onlineStatus({ device: elsewhere, pool: 'garden' }), { retain: true });
      // the rogue answers every pool task first, three ways
      rogue.connection.onMessage(async (m) => {
        if (m.topic !== `reasond/pool/${pool}/task`) return;
        const task = JSON.parse(m.payload.toString('utf8'));
        const forged = { id: task.id, type: 'result', status: 'ok', answer: 'forged', reasoning: '', finish_reason: 'stop', created_at: 1 };
        // outside the handler: the client reads no packet (so no PUBACK) until the handler returns
        void (async () => {
          for (const claims of [device, `ghost-${randomUUID().slice(0, 4)}`, elsewhere]) {
            await rogue.publish(task.reply_to, { ...forged, device: claims, signature: { key_id: '0123456789abcdef', sig: 'AAAA' } });
          }
          agent.child.kill('SIGCONT'); // the forgeries are out first: the race is the rogue's
        })();
      });
      const prompt = 'What is 2 + 2?';
      const engine = new Engine({ model: tinyRandom, threads: 1 });
      await engine.start();
      const want = await engine.generate({ messages: [{ role: 'user', content: prompt }], max_new_tokens: 8, temperature: 0 });
      await engine.stop();
      agent.child.kill('SIGSTOP');
      const r = await ask(['--broker', broker.url, '--pool', pool, '--json', '--max-new-tokens', '8', '--temperature', '0', prompt]);
      t.is(r.code, 0, r.stderr);
      const reply = JSON.parse(r.stdout);
      t.is(reply.device, device);
      t.is(reply.answer, want.answer);
      const ignored = r.stderr.trim().split('\n');
      t.is(ignored.length, 3, r.stderr);
      t.regex(ignored[0], new RegExp(`^reasond: ignored a reply to ask-[0-9a-f-]+ that claims to come from "${device}": its signature does not match ${device}'s answer key$`));
      t.regex(ignored[1], /^reasond: ignored a reply to ask-[0-9a-f-]+ that claims to come from "ghost-[0-9a-f]{4}": the broker holds no status for ghost-[0-9a-f]{4}$/);
      t.regex(ignored[2], new RegExp(`^reasond: ignored a reply to ask-[0-9a-f-]+ that claims to come from "${elsewhere}": ${elsewhere} serves pool "garden", not "${pool}"$`));
    } finally {
      agent.child.kill('SIGCONT');
      await rogue.publish(`reasond/${device}/status`, '', { retain: true }).catch(() => {});
      await stopChild(agent.child);
      await rogue.stop();
      await broker.stop();
    }
  });
}
