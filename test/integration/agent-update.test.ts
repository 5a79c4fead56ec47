/**
 * Model updates through the agent (issue 6): deploy over MQTT while tasks
 * run, and kill -9 of a real `reasond start` process at each stage.
 */
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { buildAgent } from '../../src/agent/index.js';
import { loadConfig } from '../../src/agent/config.js';
import { PackageServer } from '../../src/package/server.js';
import { agentFlags, spawnAgent, type AgentProcess } from '../helpers/agents.js';
import { freePort, startBroker } from '../helpers/brokers.js';
import { Inbox } from '../helpers/mqtt-inbox.js';
import { tempDir } from '../helpers/models.js';
import { makeKeys, makePackage } from '../helpers/packages.js';

const keys = makeKeys();

async function packageServer(t: any, bytesPerSecond = 0) {
  const root = tempDir('reasond-serve-');
  await makePackage({ keys, version: '1.0.0', out: join(root, 'tiny', '1.0.0') });
  const requests: { path: string; range?: string }[] = [];
  const server = new PackageServer({ root, bytesPerSecond, onRequest: (path, range) => requests.push({ path, range }) });
  const url = await server.start();
  t.teardown(() => server.stop());
  return { url: `${url}tiny/1.0.0/`, requests };
}

/** An agent in this process on its embedded broker, trusting the test key, and an inbox on its replies, events and responses. */
async function inProcessAgent(t: any, prefix: string) {
  const device = `${prefix}-${randomUUID().slice(0, 6)}`;
  const port = await freePort();
  const config = loadConfig({ cli: agentFlags({ device, embeddedPort: port, extra: { 'trusted-keys': keys.pubPath, threads: 1 } }), env: {} });
  const agent = buildAgent(config, { log: () => {} });
  await agent.start();
  const inbox = await new Inbox(`mqtt://127.0.0.1:${port}`).start([`test/replies/${device}`, `reasond/${device}/events`, `reasond/${device}/response/#`]);
  t.teardown(async () => {
    await inbox.stop();
    await agent.stop();
  });
  return { device, inbox };
}

const task = (inbox: Inbox, device: string, id: string) =>
  inbox.publish(`reasond/${device}/task`, { id, prompt: 'Hello', max_new_tokens: 8, temperature: 0, reply_to: `test/replies/${device}` });

test.serial('a deploy while tasks run: every task answered once, the later ones by the new version', async (t) => {
  const pkg = await packageServer(t);
  const { device, inbox } = await inProcessAgent(t, 'upd');
  const before = ['a', 'b', 'c'].map((x) => `before-${x}`);
  for (const id of before) await task(inbox, device, id);
  await inbox.publish(`reasond/${device}/request/model/deploy`, { id: 'd1', name: 'tiny', version: '1.0.0', url: pkg.url });
  const reply = (await inbox.next((m) => m.topic.endsWith('/response/model/deploy'), 'the deploy reply')).json;
  t.is(reply.status, 'ok');
  t.is(reply.data.state, 'accepted');
  for (const id of ['during-a', 'during-b']) await task(inbox, device, id);
  await inbox.next((m) => m.json?.type === 'model_update' && m.json.state === 'active', 'the active event');
  const after = ['after-a', 'after-b'];
  for (const id of after) await task(inbox, device, id);
  const all = [...before, 'during-a', 'during-b', ...after];
  for (const id of all) await inbox.final(id);
  for (const id of all) t.is(inbox.finals(id).length, 1, `${id} answered once`);
  for (const id of after) t.like(inbox.finals(id)[0].json.model, { name: 'tiny', version: '1.0.0' });
  for (const id of all) t.true(['tiny-random', 'tiny'].includes(inbox.finals(id)[0].json.model.name));
  const states = inbox.messages.filter((m) => m.json?.type === 'model_update').map((m) => m.json.state);
  t.deepEqual([...new Set(states)], ['downloading', 'verifying', 'probing', 'switching', 'active']);
  const list = inbox.publish(`reasond/${device}/request/model/list`, { id: 'l1' });
  await list;
  const listed = (await inbox.next((m) => m.topic.endsWith('/response/model/list'), 'the list reply')).json;
  t.is(listed.data.active, 'tiny@1.0.0');
  await inbox.publish(`reasond/${device}/request/model/rollback`, { id: 'r1' });
  const rb = (await inbox.next((m) => m.topic.endsWith('/response/model/rollback'), 'the rollback reply')).json;
  t.deepEqual(rb.data, { from: 'tiny@1.0.0', to: null });
  await task(inbox, device, 'after-rollback');
  t.is((await inbox.final('after-rollback')).json.model.name, 'tiny-random');
});

test.serial('kill -9 at each stage: the agent always comes back serving a complete model, and the deploy resumes and finishes', async (t) => {
  // ~430 kB of external data at 100 kB/s: the download lasts long enough to be killed in the middle
  const pkg = await packageServer(t, 100_000);
  const device = `kill-${randomUUID().slice(0, 6)}`;
  const port = await freePort();
  const dataDir = tempDir('reasond-agent-');
  const setup = { device, embeddedPort: port, dataDir, extra: { 'trusted-keys': keys.pubPath, 'crash-loop-boots': 10 } };
  let agent: AgentProcess | undefined;
  let inbox: Inbox | undefined;
  t.teardown(async () => {
    await inbox?.stop().catch(() => {});
    agent?.child.kill('SIGKILL');
  });
  const boot = async () => {
    const since = Date.now();
    agent = spawnAgent(setup);
    inbox = new Inbox(`mqtt://127.0.0.1:${port}`);
    // the agent's embedded broker comes up with it; the test client retries until it answers
    await inbox.start([`test/replies/${device}`, `reasond/${device}/events`, `reasond/${device}/response/#`, `reasond/${device}/status`]);
    await inbox.next((m) => m.topic.endsWith('/status') && m.json?.state === 'online' && m.json.started_at >= since - 1000, 'the birth message');
    return since;
  };
  const kill = async () => {
    agent!.child.kill('SIGKILL');
    await agent!.exited;
    await inbox!.stop().catch(() => {});
  };
  const serves = async (label: string) => {
    const id = `${label}-${randomUUID().slice(0, 6)}`;
    await task(inbox!, device, id);
    const r = (await inbox!.final(id)).json;
    t.is(r.status, 'ok', label);
    t.true((r.model.name === 'tiny-random' && r.model.version === undefined) || (r.model.name === 'tiny' && r.model.version === '1.0.0'), `${label}: ${JSON.stringify(r.model)}`);
  };
  const stage = (since: number, match: (e: any) => boolean, what: string) =>
    inbox!.next((m) => m.json?.type === 'model_update' && m.json.ts >= since && match(m.json), what, 120_000);

  let since = await boot();
  await inbox!.publish(`reasond/${device}/request/model/deploy`, { id: 'd1', name: 'tiny', version: '1.0.0', url: pkg.url });
  await stage(since, (e) => e.state === 'downloading' && e.percent >= 20 && e.percent < 90, 'a download in progress');
  await kill();
  for (const next of ['verifying', 'probing', 'switching', 'active']) {
    since = await boot();
    await serves(`before-${next}`);
    await stage(since, (e) => e.state === next, next);
    await kill();
  }
  t.true(pkg.requests.some((r) => /^bytes=[1-9]\d*-$/.test(r.range ?? '')), 'the interrupted download resumed with a Range request');
  since = await boot();
  await serves('final');
  const list = async (id: string) => {
    await inbox!.publish(`reasond/${device}/request/model/list`, { id });
    return (await inbox!.next((m) => m.topic.endsWith('/response/model/list') && m.json.id === id, 'the list reply')).json;
  };
  // Killed after the active event but before the finished deploy was cleared on disk, the
  // restarted agent resumes it, finds it installed and active, and clears it: wait for that.
  let listed = await list('l-final-0');
  for (let i = 1; listed.data.desired !== null && i <= 60; i++) {
    await new Promise((r) => setTimeout(r, 500));
    listed = await list(`l-final-${i}`);
  }
  t.is(listed.data.active, 'tiny@1.0.0');
  t.is(listed.data.desired, null);
  t.deepEqual(listed.data.bad, []);
  await kill();
});

test.serial('a crash loop after a switch: the agent rolls back by itself at start-up, marks the version bad and refuses it again', async (t) => {
  const pkg = await packageServer(t);
  const device = `loop-${randomUUID().slice(0, 6)}`;
  // A broker that outlives the agent, as on a site: the test stays subscribed across the
  // restarts, so the rolled_back event sent while the agent starts cannot slip past it.
  const broker = await startBroker('embedded');
  const setup = { device, broker: broker.url, dataDir: tempDir('reasond-agent-'), extra: { 'trusted-keys': keys.pubPath, 'crash-loop-boots': 2 } };
  let agent: AgentProcess | undefined;
  const inbox = await new Inbox(broker.url).start([`test/replies/${device}`, `reasond/${device}/events`, `reasond/${device}/response/#`, `reasond/${device}/status`]);
  t.teardown(async () => {
    agent?.child.kill('SIGKILL');
    await inbox.stop().catch(() => {});
    await broker.stop();
  });
  const boot = async () => {
    const since = Date.now();
    agent = spawnAgent(setup);
    // strictly this start's birth: earlier starts' messages are still in the inbox
    return (await inbox.next((m) => m.topic.endsWith('/status') && m.json?.state === 'online' && m.json.started_at >= since, 'the birth message')).json;
  };
  const kill = async () => {
    agent!.child.kill('SIGKILL');
    await agent!.exited;
  };
  await boot();
  await inbox.publish(`reasond/${device}/request/model/deploy`, { id: 'd1', name: 'tiny', version: '1.0.0', url: pkg.url });
  await inbox.next((m) => m.json?.type === 'model_update' && m.json.state === 'active', 'the active event');
  await kill();
  // two start-ups that never last stable_after_ms (crash_loop_boots 2)...
  for (let i = 0; i < 2; i++) {
    t.like((await boot()).model, { name: 'tiny', version: '1.0.0' });
    await kill();
  }
  // ...and the third comes up on the configured model
  const status = await boot();
  t.like(status.model, { name: 'tiny-random', version: null });
  const rb = (await inbox.next((m) => m.json?.type === 'model_update' && m.json.state === 'rolled_back', 'the rolled_back event')).json;
  t.regex(rb.reason, /crash loop/);
  t.is(rb.to, null);
  await inbox.publish(`reasond/${device}/request/model/deploy`, { id: 'd2', name: 'tiny', version: '1.0.0', url: pkg.url });
  const again = (await inbox.next((m) => m.topic.endsWith('/response/model/deploy') && m.json.id === 'd2', 'the second deploy reply')).json;
  t.is(again.status, 'error');
  t.is(again.error.code, 'package_rejected');
  t.regex(again.error.message, /^marked_bad/);
  await kill();
});

test.serial('admin requests never wait for a slow download: ping and tasks are answered while an activate and a rollback wait behind a deploy, and each repeated request runs once', async (t) => {
  // ~430 kB at 100 kB/s: the deploy takes seconds, and the rollback queues behind it
  const pkg = await packageServer(t, 100_000);
  const { device, inbox } = await inProcessAgent(t, 'slow');
  await inbox.publish(`reasond/${device}/request/model/deploy`, { id: 'd1', name: 'tiny', version: '1.0.0', url: pkg.url });
  await inbox.next((m) => m.json?.type === 'model_update' && m.json.state === 'downloading', 'the download to start');
  await inbox.publish(`reasond/${device}/request/model/activate`, { id: 'a1', name: 'tiny', version: '1.0.0' });
  await inbox.publish(`reasond/${device}/request/model/rollback`, { id: 'rb1' });
  await inbox.publish(`reasond/${device}/request/ping`, { id: 'p1' });
  await task(inbox, device, 'while-downloading');
  await inbox.publish(`reasond/${device}/request/model/activate`, { id: 'a1', name: 'tiny', version: '1.0.0' }); // a client's retries
  await inbox.publish(`reasond/${device}/request/model/rollback`, { id: 'rb1' });
  const pong = await inbox.next((m) => m.topic.endsWith('/response/ping'), 'the ping reply');
  t.is(pong.json.status, 'ok');
  t.is((await inbox.final('while-downloading')).json.status, 'ok');
  // both came before the deploy ended: nothing waited for the download
  const at = (pred: (m: any) => boolean) => inbox.messages.findIndex(pred);
  t.is(at((m) => m.json?.type === 'model_update' && m.json.state === 'active'), -1);
  // the deploy ends, then the rollback runs, once
  await inbox.next((m) => m.topic.endsWith('/response/model/rollback'), 'the rollback reply');
  await task(inbox, device, 'after-rollback');
  t.is((await inbox.final('after-rollback')).json.model.name, 'tiny-random');
  const rollbacks = inbox.messages.filter((m) => m.topic.endsWith('/response/model/rollback'));
  t.is(rollbacks.length, 1);
  const activations = inbox.messages.filter((m) => m.topic.endsWith('/response/model/activate'));
  t.deepEqual(activations.map((m) => [m.json.id, m.json.status, m.json.data]), [['a1', 'ok', { active: 'tiny@1.0.0' }]]);
  t.deepEqual(rollbacks[0].json.data, { from: 'tiny@1.0.0', to: null });
  t.true(at((m) => m.json?.type === 'model_update' && m.json.state === 'active') < at((m) => m.topic.endsWith('/response/model/rollback')));
});
