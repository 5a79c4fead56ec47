/**
 * Operators' signatures on fleet-changing requests (issue 16): what the controller's gate accepts
 * and the exact reason for everything it refuses, on a real controller.db.
 */
import test from 'ava';
import { join } from 'node:path';
import { canonicalJson } from '../../../src/protocol/canonical-json.js';
import { OperatorGate, readOperatorKeys, signRequest } from '../../../src/fleet/operator-auth.js';
import { controllerMigrations } from '../../../src/fleet/schema.js';
import { Database } from '../../../src/store/index.js';
import { tempDir } from '../../helpers/models.js';
import { makeKeys } from '../../helpers/packages.js';

const alice = makeKeys('alice');
const mallory = makeKeys('mallory');
const NOW = 1_800_000_000_000;
const aliceId = alice.trusted.keyId;
const body = { id: 'fleet-1', name: 'tiny', version: '1.3.0', target: 'all', canary: 1, waves: '50,100' };

async function gate(o: { required?: boolean; path?: string; now?: () => number } = {}) {
  const db = new Database(o.path ?? join(tempDir('reasond-operators-'), 'controller.db'), controllerMigrations);
  await db.start();
  const g = new OperatorGate({ keys: readOperatorKeys(alice.pubPath), required: o.required ?? true, skewMs: 300_000, db, now: o.now ?? (() => NOW) });
  return { g, db };
}

test('a request signed by a listed operator passes and is recorded by name and key id', async (t) => {
  const { g, db } = await gate();
  t.is(await g.check('rollout/create', signRequest('rollout/create', body, alice.key, NOW - 2000)), `alice (key ${aliceId})`);
  await db.stop();
});

test('the signature covers the fields, not their order', async (t) => {
  const { g, db } = await gate();
  const signed = signRequest('rollout/create', body, alice.key, NOW);
  const reordered = Object.fromEntries(Object.entries(signed).reverse());
  t.is(await g.check('rollout/create', reordered), `alice (key ${aliceId})`);
  t.is(canonicalJson({ b: [2, { d: 1, c: null }], a: 'x', skip: undefined }), '{"a":"x","b":[2,{"c":null,"d":1}]}');
  await db.stop();
});

test('refusals, each with its reason: unsigned, unknown key, changed, signed for another action, stale, malformed', async (t) => {
  const { g, db } = await gate();
  const refused = async (action: string, b: Record<string, unknown>) => (await t.throwsAsync(g.check(action, b), { code: 'unauthorized' } as never))!.message;

  t.is(await refused('rollout/create', body),
    "rollout/create changes the fleet and must be signed by an operator key in the controller's operator_keys: pass --operator-key to reasond fleet (reasond fleet keygen makes a pair)");
  t.is(await refused('rollout/create', signRequest('rollout/create', body, mallory.key, NOW)),
    `rollout/create is signed by key ${mallory.trusted.keyId}, which is not in the controller's operator_keys (alice (key ${aliceId}))`);
  const changed = { ...signRequest('rollout/create', body, alice.key, NOW), version: '9.9.9' };
  t.is(await refused('rollout/create', changed),
    `rollout/create: the signature of key ${aliceId} (alice) does not match the request; it was changed after signing, or signed for another action`);
  t.is(await refused('rollout/abort', signRequest('rollout/create', body, alice.key, NOW)),
    `rollout/abort: the signature of key ${aliceId} (alice) does not match the request; it was changed after signing, or signed for another action`);
  t.is(await refused('rollout/create', signRequest('rollout/create', body, alice.key, NOW - 301_000)),
    "rollout/create is stamped 2027-01-15T07:54:59.000Z, 301 s behind the controller's clock (allowed: 300 s): check both clocks");
  t.is(await refused('rollout/create', signRequest('rollout/create', body, alice.key, NOW + 400_000)),
    "rollout/create is stamped 2027-01-15T08:06:40.000Z, 400 s ahead of the controller's clock (allowed: 300 s): check both clocks");
  t.is(await refused('rollout/create', { ...body, auth: { key_id: aliceId, at: NOW, nonce: 'not hex', sig: 'x' } }),
    `auth must be {key_id, at, nonce (hex), sig}; got {"key_id":"${aliceId}","at":${NOW},"nonce":"not hex","sig":"x"}`);
  await db.stop();
});

test('a signed request runs once: its copy is refused, also by a restarted controller', async (t) => {
  const path = join(tempDir('reasond-operators-'), 'controller.db');
  const first = await gate({ path });
  const signed = signRequest('rollout/abort', { id: 'fleet-2', rollout: 'r-1' }, alice.key, NOW);
  t.is(await first.g.check('rollout/abort', signed), `alice (key ${aliceId})`);
  const nonce = (signed.auth as { nonce: string }).nonce;
  const again = await t.throwsAsync(first.g.check('rollout/abort', signed));
  t.is(again!.message, `rollout/abort: nonce ${nonce} was used before; a signed request runs once (replayed?)`);
  await first.db.stop();

  const restarted = await gate({ path, now: () => NOW + 60_000 });
  const later = await t.throwsAsync(restarted.g.check('rollout/abort', signed));
  t.is(later!.message, `rollout/abort: nonce ${nonce} was used before; a signed request runs once (replayed?)`);
  await restarted.db.stop();
});

test('operator_auth off: unsigned requests pass as unauthenticated; a signature is still checked', async (t) => {
  const { g, db } = await gate({ required: false });
  t.is(await g.check('device/labels', { id: 'x', device: 'pi-1', labels: {} }), 'unauthenticated');
  t.is(await g.check('device/labels', signRequest('device/labels', { id: 'y', device: 'pi-1', labels: {} }, alice.key, NOW)), `alice (key ${aliceId})`);
  await t.throwsAsync(g.check('device/labels', signRequest('device/labels', { id: 'z', device: 'pi-1', labels: {} }, mallory.key, NOW)), { code: 'unauthorized' } as never);
  await db.stop();
});

test('an operator_keys file that cannot be read is invalid_config naming it', (t) => {
  const e = t.throws(() => readOperatorKeys(`${alice.pubPath}, /nonexistent/bob.pub`));
  t.is((e as { code?: string }).code, 'invalid_config');
  t.true(e!.message.startsWith('operator_keys: cannot read the public key /nonexistent/bob.pub: '), e!.message);
});
