/**
 * The update path without MQTT (issue 6): a real package server, store and
 * probe process; the engine swap is recorded instead of loading models.
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasReason } from '../../src/package/errors.js';
import type { UpdateEvent } from '../../src/update/events.js';
import { probePackage, type Prober } from '../../src/update/probe.js';
import { PackageServer } from '../../src/package/server.js';
import { VersionStore } from '../../src/update/store.js';
import { Updater, type UpdaterOptions } from '../../src/update/updater.js';
import { makeKeys, makePackage, type Keys } from '../helpers/packages.js';
import { tempDir, tinyRandom } from '../helpers/models.js';
import { until } from '../helpers/waiting.js';

const keys = makeKeys();
const stranger = makeKeys('stranger');
const passProbe: Prober = async () => ({ ok: true, answers: [], rss_mb: 1 });

async function rig(t: any, o: Partial<UpdaterOptions> = {}) {
  const root = tempDir('reasond-serve-');
  const requests: string[] = [];
  const server = new PackageServer({ root, onRequest: (p) => requests.push(p) });
  const url = await server.start();
  t.teardown(() => server.stop());
  const store = new VersionStore(join(tempDir(), 'models'));
  const events: UpdateEvent[] = [];
  const loaded: string[] = [];
  const make = (more: Partial<UpdaterOptions> = {}) => new Updater({
    store, trusted: [keys.trusted], agentVersion: '0.1.0', baseModel: { dir: tinyRandom, name: 'tiny', version: '0.9.0' },
    keepVersions: 2, diskReserveBytes: 0, probeTimeoutMs: 120000, threads: 1, crashLoopBoots: 2, stableAfterMs: 600000,
    rollbackWindowMs: 600000, rollbackMinTasks: 3, rollbackErrorPercent: 50,
    fetch, freeSpace: async () => 1e12, probe: passProbe, clock: { now: () => 1000 },
    emit: (e) => events.push(e), load: async (dir) => () => void loaded.push(dir), log: () => {},
    ...o,
    ...more,
  });
  const updater = make();
  await updater.bootModel();
  const publish = (version: string, extra: { keys?: Keys; edit?: (d: string) => void; smoke?: any } = {}) =>
    makePackage({ keys: extra.keys ?? keys, version, out: join(root, 'tiny', version), edit: extra.edit, smoke: extra.smoke });
  const deploy = async (version: string, more: object = {}) => {
    const r = await updater.deploy({ name: 'tiny', version, url: `${url}tiny/${version}/`, ...more });
    await r.done;
  };
  const states = () => events.map((e) => e.state + (e.state === 'rejected' || e.state === 'rolled_back' ? `:${e.reason?.split(':')[0]}` : ''));
  return { root, url, store, events, loaded, updater, make, publish, deploy, requests, states };
}

/** A rig where 1.0.0 and then 1.1.0 were deployed: 1.1.0 active, 1.0.0 before it. */
async function twoVersions(t: any) {
  const r = await rig(t);
  await r.publish('1.0.0');
  await r.publish('1.1.0');
  await r.deploy('1.0.0');
  await r.deploy('1.1.0');
  return r;
}

const active = async (store: VersionStore) => {
  const a = await store.active();
  return a && `${a.name}@${a.version}`;
};

test('a deploy downloads, verifies, probes in a child process, switches and reports each state', async (t) => {
  const r = await rig(t, { probe: probePackage });
  await r.publish('1.0.0');
  await r.deploy('1.0.0');
  const s = r.states().filter((x, i, all) => x !== 'downloading' || all[i - 1] !== 'downloading');
  t.deepEqual(s, ['downloading', 'verifying', 'probing', 'switching', 'active']);
  const pct = r.events.filter((e) => e.state === 'downloading').map((e) => e.percent);
  t.is(pct[0], 0);
  t.is(pct.at(-1), 100);
  t.is(await active(r.store), 'tiny@1.0.0');
  t.deepEqual(r.loaded, [r.store.versionDir({ name: 'tiny', version: '1.0.0' })]);
  t.false(existsSync(r.store.stagingDir({ name: 'tiny', version: '1.0.0' })));
  t.is(r.store.snapshot.desired, undefined);
});

test('refusals: each with its reason, nothing switched, nothing fetched past the manifest when it is the manifest at fault', async (t) => {
  const r = await rig(t);
  await r.publish('1.0.0');
  await r.deploy('1.0.0');
  r.events.length = 0;
  const refuse = async (version: string, reason: string, more: object = {}) => {
    const e = await t.throwsAsync(r.deploy(version, more));
    t.true(hasReason(e, reason as never), `${version}: ${reason} expected, got ${e?.message}`);
    t.is(await active(r.store), 'tiny@1.0.0');
    t.is(r.events.at(-1)?.state, 'rejected');
    t.is(r.events.at(-1)?.reason, reason);
  };
  await r.publish('2.0.0', { keys: stranger });
  r.requests.length = 0;
  await refuse('2.0.0', 'untrusted_key');
  t.deepEqual(r.requests, ['/tiny/2.0.0/reasond-model.json']);
  await r.publish('0.5.0');
  await refuse('0.5.0', 'downgrade');
  await r.publish('2.1.0');
  writeFileSync(join(r.root, 'tiny/2.1.0/config.json'), readFileSync(join(r.root, 'tiny/2.1.0/config.json'), 'utf8').replace('qwen2', 'qwenX'));
  await refuse('2.1.0', 'hash_mismatch');
  t.false(existsSync(r.store.stagingDir({ name: 'tiny', version: '2.1.0' })), 'a bad download is not kept for resuming');
  t.deepEqual(r.loaded.length, 1);
});

test('disk too small: refused before downloading a single file', async (t) => {
  const r = await rig(t, { freeSpace: async () => 1000 });
  await r.publish('1.0.0');
  r.requests.length = 0;
  const e = await t.throwsAsync(r.deploy('1.0.0'));
  t.true(hasReason(e, 'disk_full'), e?.message);
  t.deepEqual(r.requests, ['/tiny/1.0.0/reasond-model.json']);
  t.is(await active(r.store), undefined);
});

test('a package that fails its smoke check in the probe is rejected and nothing changes', async (t) => {
  const r = await rig(t, { probe: probePackage });
  await r.publish('1.0.0', { smoke: { prompts: [{ prompt: 'Hello', expect: 'nope', max_new_tokens: 8 }] } });
  t.true(hasReason(await t.throwsAsync(r.deploy('1.0.0')), 'smoke_failed'));
  t.is(await active(r.store), undefined);
  t.deepEqual(r.loaded, []);
  t.deepEqual(await r.store.installed(), []);
});

test('the error rate of a new version in its first window rolls it back and marks it bad', async (t) => {
  const r = await twoVersions(t);
  r.updater.taskEnded();
  r.updater.taskEnded('invalid_request'); // a client fault says nothing about the model
  r.updater.taskEnded('internal');
  r.updater.taskEnded('internal');
  await r.updater.runner.idle();
  t.is(await active(r.store), 'tiny@1.0.0');
  t.deepEqual(r.store.snapshot.bad, ['tiny@1.1.0']);
  const rb = r.events.at(-1)!;
  t.is(rb.state, 'rolled_back');
  t.is(rb.to, 'tiny@1.0.0');
  t.regex(rb.reason!, /2 of the first 3 tasks on tiny@1.1.0 failed/);
  t.is(r.loaded.at(-1), r.store.versionDir({ name: 'tiny', version: '1.0.0' }));
  t.true(hasReason(await t.throwsAsync(r.deploy('1.1.0')), 'marked_bad'));
});

test('a crash loop at start-up rolls back to the previous version, and that version is not tried again', async (t) => {
  const r = await twoVersions(t);
  const v11 = r.store.versionDir({ name: 'tiny', version: '1.1.0' });
  // each start counts a boot; none lasts stableAfterMs (crashLoopBoots 2)
  t.is((await r.make().bootModel()).dir, v11);
  t.is((await r.make().bootModel()).dir, v11);
  t.is((await r.make().bootModel()).dir, r.store.versionDir({ name: 'tiny', version: '1.0.0' }));
  t.is(await active(r.store), 'tiny@1.0.0');
  t.deepEqual(r.store.snapshot.bad, ['tiny@1.1.0']);
  t.is(r.events.at(-1)?.state, 'rolled_back');
  t.regex(r.events.at(-1)!.reason!, /crash loop/);
  t.true(hasReason(await t.throwsAsync(r.deploy('1.1.0')), 'marked_bad'));
});

test('start-ups across power cuts (a new boot id each time) are not a crash loop; three on one boot are', async (t) => {
  const r = await twoVersions(t);
  const v11 = r.store.versionDir({ name: 'tiny', version: '1.1.0' });
  // five start-ups, each after the machine lost power (crashLoopBoots 2): the version stays
  for (const boot of ['b1', 'b2', 'b3', 'b4', 'b5']) t.is((await r.make({ bootId: boot }).bootModel()).dir, v11);
  t.is(await active(r.store), 'tiny@1.1.0');
  t.deepEqual(r.store.snapshot.bad, []);
  // then the agent itself dies twice more on one boot: the third start-up on it rolls back
  t.is((await r.make({ bootId: 'b5' }).bootModel()).dir, v11);
  t.is((await r.make({ bootId: 'b5' }).bootModel()).dir, r.store.versionDir({ name: 'tiny', version: '1.0.0' }));
  t.deepEqual(r.store.snapshot.bad, ['tiny@1.1.0']);
  t.regex(r.events.at(-1)!.reason!, /crash loop: the agent started 2 times on tiny@1.1.0/);
});

test('a version that served stable_after_ms is committed: crash loops after that do not roll it back (issue 16)', async (t) => {
  const r = await twoVersions(t);
  const v11 = r.store.versionDir({ name: 'tiny', version: '1.1.0' });
  const stable = r.make({ stableAfterMs: 30 });
  t.is((await stable.bootModel()).dir, v11);
  await stable.start();
  await until(() => r.store.isCommitted({ name: 'tiny', version: '1.1.0' }), 'the commit');
  await stable.stop();
  t.deepEqual((await stable.list()).committed, ['tiny@1.1.0']);
  // five start-ups on one boot, none lasting (crashLoopBoots 2): a committed version stays
  for (let i = 0; i < 5; i++) t.is((await r.make({ bootId: 'b1' }).bootModel()).dir, v11);
  t.is(await active(r.store), 'tiny@1.1.0');
  t.deepEqual(r.store.snapshot.bad, []);
  t.false(r.events.some((e) => e.state === 'rolled_back'));
  // the commitment is on disk: a restarted store still knows it
  const again = new VersionStore(r.store.root);
  await again.start();
  t.true(again.isCommitted({ name: 'tiny', version: '1.1.0' }));
  t.false(again.isCommitted({ name: 'tiny', version: '1.0.0' }));
});

test('a version the engine cannot load at start-up falls back to the configured model', async (t) => {
  const r = await rig(t);
  await r.publish('1.0.0');
  await r.deploy('1.0.0');
  const boot = await r.make().bootModel();
  const next = await boot.failed!(new Error('onnxruntime: bad graph'));
  t.is(next?.dir, tinyRandom);
  t.is(await active(r.store), undefined);
  t.deepEqual(r.store.snapshot.bad, ['tiny@1.0.0']);
});

test('an unfinished deploy is resumed by the next start (desired state on disk)', async (t) => {
  const r = await rig(t);
  await r.publish('1.0.0');
  await r.store.setDesired({ name: 'tiny', version: '1.0.0', url: `${r.url}tiny/1.0.0/` });
  const next = r.make();
  await next.bootModel();
  await next.start();
  await next.resumed;
  t.is(await active(r.store), 'tiny@1.0.0');
  t.is(r.store.snapshot.desired, undefined);
});

test('at start-up an installed version with a truncated file is not loaded: rolled back to the configured model', async (t) => {
  const r = await rig(t);
  await r.publish('1.0.0');
  await r.deploy('1.0.0');
  writeFileSync(join(r.store.versionDir({ name: 'tiny', version: '1.0.0' }), 'onnx/model_quantized.onnx'), 'half');
  t.is((await r.make().bootModel()).dir, tinyRandom);
  t.deepEqual(r.store.snapshot.bad, ['tiny@1.0.0']);
  t.regex(r.events.at(-1)!.reason!, /no longer check out: size_mismatch/);
});
