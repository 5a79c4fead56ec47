/**
 * The controller's package store (issue 7): an upload enters the store only
 * when it is signed by a trusted key and every file checks out; the store is
 * served with Range (src/update's PackageServer), so an agent can resume.
 */
import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PackageStore } from '../../src/fleet/package-store.js';
import { controllerMigrations } from '../../src/fleet/schema.js';
import { Database } from '../../src/store/index.js';
import { PackageServer } from '../../src/package/server.js';
import { makeKeys, makePackage } from '../helpers/packages.js';
import { tempDir } from '../helpers/models.js';

async function upload(store: PackageStore, dir: string, name: string, version: string, edit?: (path: string, b: Buffer) => Buffer) {
  const walk = (rel: string): string[] => readdirSync(join(dir, rel), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(rel, e.name)) : [join(rel, e.name)]));
  for (const path of walk('')) {
    const bytes = readFileSync(join(dir, path));
    await store.write({ name, version, path, offset: 0, data: edit ? edit(path, bytes) : bytes });
  }
  return store.commit(name, version);
}

test('uploads: trusted and intact in, anything else out with the reason; served with Range', async (t) => {
  const root = tempDir('reasond-ctl-');
  const db = new Database(join(root, 'controller.db'), controllerMigrations);
  await db.start();
  const trusted = makeKeys('operator');
  const stranger = makeKeys('stranger');
  const store = new PackageStore(db, join(root, 'packages'), join(root, 'uploads'), [trusted.trusted], () => 1000);
  await store.start();
  const server = new PackageServer({ root: store.root });
  const url = await server.start();
  t.teardown(async () => {
    await server.stop();
    await db.stop();
  });

  const good = await makePackage({ keys: trusted, version: '1.3.0' });
  const row = await upload(store, good.dir, 'tiny', '1.3.0');
  t.like(row, { name: 'tiny', version: '1.3.0', key_id: trusted.trusted.keyId, uploaded_at: 1000 });
  t.true(await store.has('tiny', '1.3.0'));

  const foreign = await makePackage({ keys: stranger, version: '1.4.0' });
  const e1 = await t.throwsAsync(upload(store, foreign.dir, 'tiny', '1.4.0'));
  t.regex(e1?.message ?? '', /^untrusted_key: tiny@1\.4\.0 is signed by key [0-9a-f]{16}, which is not trusted/);
  const tampered = await makePackage({ keys: trusted, version: '1.5.0' });
  const e2 = await t.throwsAsync(upload(store, tampered.dir, 'tiny', '1.5.0', (path, b) => (path === 'config.json' ? Buffer.concat([b, Buffer.from(' ')]) : b)));
  t.regex(e2?.message ?? '', /^size_mismatch: config\.json is \d+ bytes; the manifest says \d+$/);
  t.deepEqual((await store.list()).map((p) => p.version), ['1.3.0']);
  t.false(await store.has('tiny', '1.5.0'));
  const e3 = await t.throwsAsync(upload(store, good.dir, 'tiny', '1.3.0'));
  t.is(e3?.message, 'tiny@1.3.0 is already in the package store; versions are immutable');

  const manifest = readFileSync(join(good.dir, 'reasond-model.json'));
  const res = await fetch(`${url}tiny/1.3.0/reasond-model.json`, { headers: { range: 'bytes=10-19' } });
  t.is(res.status, 206);
  t.deepEqual(Buffer.from(await res.arrayBuffer()), manifest.subarray(10, 20));
});
