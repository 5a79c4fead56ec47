/**
 * Issue 7: one simulated agent is configured to fail its smoke check
 * (scripts/fleet-sim-agent.ts: its probe reports smoke_failed). The rollout
 * aborts at that agent's wave, and with rollback_on_abort (the default) the
 * agents it had already updated return to the previous version.
 */
import test from 'ava';
import { fleet, fleetJson, startSite, untilModels } from '../helpers/fleet.js';

test('a smoke-check failure aborts the rollout at its wave and rolls the updated agents back', async (t) => {
  t.timeout(600_000);
  const { broker, packages: p, devices } = await startSite(t, { agents: 4, failSmoke: ['pi-04'] });
  t.is((await fleet(broker.url, ['upload', p.next])).code, 0);

  // waves: [pi-01] canary, [pi-02] (50% = 2 devices in all), [pi-03, pi-04]
  const run = await fleet(broker.url, ['rollout', 'tiny@1.3.0', '--to', 'pool=default', '--canary', '1', '--waves', '50,100', '--max-failures', '10%']);
  t.is(run.code, 1, 'an aborted rollout exits 1');
  t.regex(run.stdout, /: aborted, wave 3\/3: /);

  const { rollouts } = await fleetJson(broker.url, ['rollouts']);
  const show = await fleetJson(broker.url, ['rollout', 'show', rollouts[0].id]);
  t.is(show.rollout.state, 'aborted');
  t.is(show.rollout.reason, 'wave 2: 1 of 2 devices failed (50% > 10%)');
  const byDevice = Object.fromEntries(show.devices.map((d: any) => [d.device, d]));
  t.deepEqual(show.devices.map((d: any) => [d.device, d.wave, d.state]), [
    ['pi-01', 0, 'rolled_back'], ['pi-02', 1, 'rolled_back'], ['pi-03', 2, 'rolled_back'], ['pi-04', 2, 'failed'],
  ]);
  t.regex(byDevice['pi-04'].reason, /^rejected: smoke_failed/);
  const log: string[] = show.log.map((l: any) => l.message);
  t.true(log.includes('aborting: wave 2: 1 of 2 devices failed (50% > 10%); rolling updated devices back'));
  t.is(log[log.length - 1], 'aborted; rollback finished');

  // every agent serves the previous version again, as its retained status says
  await untilModels(broker.url, devices, 'tiny@1.0.0');
  const status = await fleetJson(broker.url, ['status']);
  t.deepEqual(status.devices.map((d: any) => [d.device, d.model]), devices.map((d) => [d, 'tiny@1.0.0']));
  t.is(status.devices.find((d: any) => d.device === 'pi-04').update.state, 'rejected');
  t.is(status.devices.find((d: any) => d.device === 'pi-01').update.state, 'rolled_back');
});
