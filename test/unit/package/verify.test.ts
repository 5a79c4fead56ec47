/** Package checks (issue 6): each bad package is refused with its reason. */
import test from 'ava';
import { appendFileSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasReason } from '../../../src/package/errors.js';
import { MANIFEST_FILE, type Manifest } from '../../../src/package/manifest.js';
import { externalDataOfFile } from '../../../src/package/onnx-external.js';
import { signManifest } from '../../../src/package/signing.js';
import { verifyPackage } from '../../../src/package/verify.js';
import { makeKeys, makePackage } from '../../helpers/packages.js';
import { tinyRandom } from '../../helpers/models.js';

const keys = makeKeys();
const other = makeKeys('stranger');
const policy = { trusted: [keys.trusted], agentVersion: '0.1.0' };

const readM = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8'));
const writeM = (dir: string, m: Manifest) => writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(m));

async function rejects(t: any, dir: string, reason: string, p: object = policy) {
  const e = await t.throwsAsync(verifyPackage(dir, p as never));
  t.true(hasReason(e, reason as never), `${reason} expected; got ${e?.message}`);
  return e;
}

test('a packed fixture verifies: every file listed with size and sha256', async (t) => {
  const { dir, manifest } = await makePackage({ keys, version: '1.0.0' });
  t.deepEqual(manifest.files.map((f) => f.path).filter((p) => p.startsWith('onnx/')), ['onnx/model_quantized.onnx', 'onnx/model.onnx', 'onnx/model.onnx_data']);
  t.is(manifest.signature?.alg, 'ed25519');
  t.is(manifest.signature?.key_id, keys.trusted.keyId);
  t.is((await verifyPackage(dir, policy)).version, '1.0.0');
});

test('the fixture ONNX names its external data file, which the reader finds', (t) => {
  t.deepEqual(externalDataOfFile(join(tinyRandom, 'onnx/model.onnx')), ['model.onnx_data']);
  t.deepEqual(externalDataOfFile(join(tinyRandom, 'onnx/model_quantized.onnx')), []);
});

test('tampered file: hash_mismatch (same size) and size_mismatch', async (t) => {
  const { dir } = await makePackage({ keys, version: '1.0.0' });
  const path = join(dir, 'config.json');
  writeFileSync(path, readFileSync(path, 'utf8').replace('"qwen2"', '"qwen3"'));
  await rejects(t, dir, 'hash_mismatch');
  appendFileSync(path, ' ');
  await rejects(t, dir, 'size_mismatch');
});

test('wrong key: untrusted_key; an edited manifest: bad_signature; no signature: unsigned', async (t) => {
  const { dir } = await makePackage({ keys, version: '1.0.0' });
  const e = await rejects(t, dir, 'untrusted_key', { ...policy, trusted: [other.trusted] });
  t.true(e.message.includes(keys.trusted.keyId));
  const m = readM(dir);
  writeM(dir, { ...m, version: '9.0.0' });
  await rejects(t, dir, 'bad_signature');
  writeM(dir, { ...m, signature: undefined });
  await rejects(t, dir, 'unsigned');
  rmSync(join(dir, MANIFEST_FILE));
  await rejects(t, dir, 'unsigned');
});

test('a signed manifest with a path that climbs out or is absolute: unsafe_path', async (t) => {
  const { dir } = await makePackage({ keys, version: '1.0.0' });
  const m = readM(dir);
  for (const path of ['../outside.json', '/etc/passwd', 'onnx/../../x']) {
    writeM(dir, signManifest({ ...m, files: [...m.files, { path, size: 1, sha256: 'a'.repeat(64) }] }, keys.key));
    await rejects(t, dir, 'unsafe_path');
  }
});

test('a symlink in the package: symlink, even when its target has the right bytes', async (t) => {
  const { dir } = await makePackage({ keys, version: '1.0.0' });
  const outside = join(dir, '..', 'config-copy.json');
  writeFileSync(outside, readFileSync(join(dir, 'config.json')));
  rmSync(join(dir, 'config.json'));
  symlinkSync(outside, join(dir, 'config.json'));
  await rejects(t, dir, 'symlink');
});

test('an unlisted file is refused', async (t) => {
  const { dir } = await makePackage({ keys, version: '1.0.0' });
  writeFileSync(join(dir, 'onnx', 'extra.onnx'), 'x');
  await rejects(t, dir, 'unlisted_file');
});

test('ONNX external data whose location leaves the package: external_data_escape, though signed', async (t) => {
  // same length as "model.onnx_data", so the protobuf lengths stay valid
  const escape = '../../etc/passw';
  const { dir } = await makePackage({
    keys, version: '1.0.0',
    edit: (d) => {
      const p = join(d, 'onnx/model.onnx');
      writeFileSync(p, Buffer.from(readFileSync(p).toString('latin1').replaceAll('model.onnx_data', escape), 'latin1'));
    },
  });
  t.deepEqual(externalDataOfFile(join(dir, 'onnx/model.onnx')), [escape]);
  const e = await rejects(t, dir, 'external_data_escape');
  t.true(e.message.includes(escape));
});

test('downgrade, newer agent and a version marked bad are refused by policy', async (t) => {
  const { dir } = await makePackage({ keys, version: '1.0.0', minAgentVersion: '0.1.0' });
  const same = await rejects(t, dir, 'downgrade', { ...policy, serving: { name: 'tiny', version: '1.2.0' } });
  t.is(same.message, 'downgrade: tiny@1.0.0 is older than the active tiny@1.2.0; set allow_downgrade to install it');
  // another package name is no way around it (issue 16): the board would still step back
  const renamed = await rejects(t, dir, 'downgrade', { ...policy, serving: { name: 'tiny-old', version: '1.2.0' } });
  t.is(renamed.message, 'downgrade: tiny@1.0.0 is older than the active tiny-old@1.2.0; set allow_downgrade to install it');
  t.is((await verifyPackage(dir, { ...policy, serving: { name: 'tiny', version: '1.2.0' }, allowDowngrade: true })).version, '1.0.0');
  t.is((await verifyPackage(dir, { ...policy, serving: { name: 'tiny', version: '1.0.0' } })).version, '1.0.0');
  await rejects(t, dir, 'agent_too_old', { ...policy, agentVersion: '0.0.9' });
  await rejects(t, dir, 'marked_bad', { ...policy, bad: new Set(['tiny@1.0.0']) });
});
