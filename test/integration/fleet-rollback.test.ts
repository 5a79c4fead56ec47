/**
 * Fleet-wide steps back (issue 16): `reasond fleet rollback <target>` sends devices to their
 * previous version (signed, refused while a rollout runs), and a rollout of an older package is
 * refused by the agents as a downgrade unless it says `--allow-downgrade`; a package with no smoke
 * checks is not rolled out without gate tasks unless forced.
 */
import test from 'ava';
import { fleet, fleetJson, operator, startSite, untilModels } from '../helpers/fleet.js';
import { makePackage } from '../helpers/packages.js';

test('fleet rollback returns devices to their previous version; an older package needs --allow-downgrade, an untested one --force', async (t) => {
  t.timeout(600_000);
  const { broker, packages: p, devices } = await startSite(t, { agents: 2 });
  const url = broker.url;
  const alice = `alice (key ${operator.trusted.keyId})`;
  t.is((await fleet(url, ['upload', p.next])).code, 0);
  const up = await fleet(url, ['rollout', 'tiny@1.3.0']);
  t.is(up.code, 0, up.stderr);
  await untilModels(url, devices, 'tiny@1.3.0');

  const unsigned = await fleet(url, ['rollback', 'all'], null);
  t.is(unsigned.code, 6);
  t.regex(unsigned.stderr, /^reasond: unauthorized: fleet\/rollback changes the fleet/);
  const unknown = await fleet(url, ['rollback', 'devices=nosuch']);
  t.is(unknown.stderr, 'reasond: invalid_request: unknown devices: nosuch\n');

  const back = await fleet(url, ['rollback', 'all']);
  t.is(back.code, 0, back.stderr);
  t.is(back.stdout, `rollback sent to ${devices.join(', ')}; fleet status shows each device's outcome\n`);
  const status = await untilModels(url, devices, 'tiny@1.0.0');
  t.deepEqual(status.map((d) => [d.update?.state, d.update?.reason]), devices.map(() => ['rolled_back', `fleet rollback by ${alice}`]));

  // tiny@0.9.0 is older than the tiny@1.0.0 they serve: each agent refuses it, and the rollout aborts
  const old = await makePackage({ keys: p.keys, version: '0.9.0' });
  t.is((await fleet(url, ['upload', old.dir])).code, 0);
  const refused = await fleet(url, ['rollout', 'tiny@0.9.0']);
  t.is(refused.code, 1, refused.stdout);
  const { rollouts } = await fleetJson(url, ['rollouts']);
  const show = await fleetJson(url, ['rollout', 'show', rollouts[0].id]);
  // one wave (no canary): both devices tried it and refused it
  t.deepEqual(show.devices.map((d: { state: string }) => d.state), ['failed', 'failed']);
  for (const d of show.devices) t.regex(d.reason, /^rejected: downgrade: tiny@0\.9\.0 is older than the active tiny@1\.0\.0; set allow_downgrade to install it/);

  const allowed = await fleet(url, ['rollout', 'tiny@0.9.0', '--allow-downgrade']);
  t.is(allowed.code, 0, allowed.stdout + allowed.stderr);
  await untilModels(url, devices, 'tiny@0.9.0');
  const last = (await fleetJson(url, ['rollouts'])).rollouts[0];
  t.is(last.strategy.allow_downgrade, true);
  t.is(last.created_by, alice);

  // a package with no smoke checks, rolled out with no gate tasks: nothing would test it first
  const untested = await makePackage({ keys: p.keys, version: '1.5.0', smoke: { prompts: [] } });
  t.is((await fleet(url, ['upload', untested.dir])).code, 0);
  const blind = await fleet(url, ['rollout', 'tiny@1.5.0']);
  t.is(blind.code, 2);
  t.is(blind.stderr, 'reasond: invalid_request: tiny@1.5.0 has no smoke checks and the rollout no gate tasks, so nothing would test it before the devices run it: add smoke checks (reasond model pack --smoke), set min_tasks (--gate-tasks), or force it (--force)\n');
  t.is((await fleetJson(url, ['rollouts'])).rollouts.length, 3, 'no rollout was created');
  const forced = await fleet(url, ['rollout', 'tiny@1.5.0', '--force']);
  t.is(forced.code, 0, forced.stdout + forced.stderr);
  await untilModels(url, devices, 'tiny@1.5.0');
});
