/** The versions store (issue 6): active link, history, bad list, pruning, boot counts. */
import test from 'ava';
import { cpSync, existsSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { swapSymlink } from '../../../src/core/atomic-fs.js';
import { VersionStore } from '../../../src/update/store.js';
import { makeKeys, makePackage } from '../../helpers/packages.js';
import { tempDir } from '../../helpers/models.js';

const keys = makeKeys();

async function storeWith(versions: string[]) {
  const store = new VersionStore(join(tempDir(), 'models'));
  await store.start();
  const { dir } = await makePackage({ keys, version: '1.0.0' });
  for (const version of versions) {
    cpSync(dir, store.stagingDir({ name: 'tiny', version }), { recursive: true });
    await store.install({ name: 'tiny', version });
  }
  return store;
}

test('activate swaps a relative symlink; previous skips bad and uninstalled versions', async (t) => {
  const store = await storeWith(['1.0.0', '1.1.0', '1.2.0']);
  t.is(await store.active(), undefined);
  await store.activate({ name: 'tiny', version: '1.0.0' });
  await store.activate({ name: 'tiny', version: '1.1.0' });
  await store.activate({ name: 'tiny', version: '1.2.0' });
  t.true(lstatSync(join(store.root, 'active')).isSymbolicLink());
  t.is(readlinkSync(join(store.root, 'active')), 'tiny/1.2.0');
  t.deepEqual(await store.previous(), { name: 'tiny', version: '1.1.0' });
  await store.markBad({ name: 'tiny', version: '1.1.0' });
  t.deepEqual(await store.previous(), { name: 'tiny', version: '1.0.0' });
  // the state survives a restart
  const again = new VersionStore(store.root);
  await again.start();
  t.deepEqual(again.snapshot.bad, ['tiny@1.1.0']);
  t.deepEqual(again.snapshot.history, ['tiny@1.0.0', 'tiny@1.2.0']);
});

test('installing needs a complete staging folder and activating an uninstalled version is refused', async (t) => {
  const store = await storeWith([]);
  const e = await t.throwsAsync(store.activate({ name: 'tiny', version: '3.0.0' }));
  t.true(e!.message.startsWith('not_installed'));
});

test('prune keeps the active version and the most recent others', async (t) => {
  const store = await storeWith(['1.0.0', '1.1.0', '1.2.0', '1.3.0']);
  for (const version of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) await store.activate({ name: 'tiny', version });
  const removed = await store.prune(1);
  t.deepEqual(removed.sort(), ['tiny@1.0.0', 'tiny@1.1.0']);
  t.deepEqual((await store.installed()).map((v) => v.version), ['1.2.0', '1.3.0']);
  t.false(existsSync(store.versionDir({ name: 'tiny', version: '1.0.0' })));
});

test('boot counts per version, reset to zero', async (t) => {
  const store = await storeWith(['1.0.0']);
  const v = { name: 'tiny', version: '1.0.0' };
  t.is(await store.countBoot(v), 1);
  t.is(await store.countBoot(v), 2);
  await store.resetBoots(v);
  t.is(await store.countBoot(v), 1);
});

test('a kill between the link swap and the history save: the next start puts the serving version back in the history (issue 16)', async (t) => {
  const store = await storeWith(['1.0.0', '1.1.0', '1.2.0']);
  await store.activate({ name: 'tiny', version: '1.0.0' });
  // activate(1.1.0) as a kill leaves it: the link swapped, state.json not yet written
  await swapSymlink(join(store.root, 'active'), 'tiny/1.1.0');
  const restarted = new VersionStore(store.root);
  await restarted.start();
  t.deepEqual(restarted.snapshot.history, ['tiny@1.0.0', 'tiny@1.1.0']);
  await restarted.activate({ name: 'tiny', version: '1.2.0' });
  // it is the rollback target, and a prune keeping one earlier version keeps it
  t.deepEqual(await restarted.previous(), { name: 'tiny', version: '1.1.0' });
  t.deepEqual(await restarted.prune(1), ['tiny@1.0.0']);
  t.true(existsSync(restarted.versionDir({ name: 'tiny', version: '1.1.0' })));
  t.deepEqual(restarted.snapshot.history, ['tiny@1.1.0', 'tiny@1.2.0']);
});
