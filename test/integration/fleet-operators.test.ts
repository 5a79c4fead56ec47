/**
 * Fleet control authenticates its operators (issue 16): on an anonymous broker, `reasond fleet`
 * without a key, or with one the controller does not list, cannot upload, label, roll out or abort
 * (exit 6, `unauthorized`, nothing changed); reads need no key. A listed operator's actions carry
 * their name and key id into the rollout history, the package list and the abort reason.
 */
import test from 'ava';
import { join } from 'node:path';
import { fleet, fleetJson, operator, startSite } from '../helpers/fleet.js';
import { makeKeys } from '../helpers/packages.js';

test('unsigned and unknown-key requests change nothing; a listed operator is recorded on what they do', async (t) => {
  t.timeout(300_000);
  const { broker, packages: p, devices } = await startSite(t, { agents: 1 });
  const url = broker.url;
  const alice = `alice (key ${operator.trusted.keyId})`;
  const mallory = makeKeys('mallory');

  for (const [who, key] of [['no key', null], ['an unlisted key', join(mallory.dir, 'mallory.key')]] as const) {
    const up = await fleet(url, ['upload', p.next], key);
    t.is(up.code, 6, `${who}: ${up.stderr}`);
    const rollout = await fleet(url, ['rollout', 'tiny@1.0.0', '--no-wait'], key);
    t.is(rollout.code, 6, `${who}: ${rollout.stderr}`);
    const label = await fleet(url, ['label', devices[0], 'line=1'], key);
    t.is(label.code, 6, `${who}: ${label.stderr}`);
    const expected = key === null
      ? "reasond: unauthorized: device/labels changes the fleet and must be signed by an operator key in the controller's operator_keys: pass --operator-key to reasond fleet (reasond fleet keygen makes a pair)\n"
      : `reasond: unauthorized: device/labels is signed by key ${mallory.trusted.keyId}, which is not in the controller's operator_keys (${alice})\n`;
    t.is(label.stderr, expected, who);
  }
  // reads need no key, and show that nothing changed
  t.deepEqual((await fleetJson(url, ['rollouts'])).rollouts, []);
  const status = await fleet(url, ['status', '--json'], null);
  t.is(status.code, 0, status.stderr);
  t.deepEqual(JSON.parse(status.stdout).devices.map((d: { labels: object }) => d.labels), [{}]);

  t.deepEqual((await fleetJson(url, ['packages'])).packages.map((x: { version: string }) => x.version), []);

  t.is((await fleet(url, ['upload', p.next])).code, 0);
  const packages = await fleetJson(url, ['packages']);
  t.deepEqual(packages.packages.map((x: Record<string, unknown>) => [x.name, x.version, x.key_id, x.uploaded_by]), [['tiny', '1.3.0', p.keys.trusted.keyId, alice]]);
  const created = await fleet(url, ['rollout', 'tiny@1.3.0', '--no-wait', '--json']);
  t.is(created.code, 0, created.stderr);
  const rollout = JSON.parse(created.stdout);
  t.is(rollout.created_by, alice);
  const aborted = await fleetJson(url, ['rollout', 'abort', rollout.id, '--no-rollback']);
  t.is(aborted.rollout.reason, `aborted by ${alice}`);
  const show = await fleetJson(url, ['rollout', 'show', rollout.id]);
  t.is(show.rollout.created_by, alice);
  t.is(show.log[0].message, `created by ${alice}: tiny@1.3.0 to all, waves 1`);
  const table = await fleet(url, ['rollouts'], null);
  t.regex(table.stdout, new RegExp(`BY[\\s\\S]*${rollout.id}.*alice \\(key ${operator.trusted.keyId}\\)`));
});
