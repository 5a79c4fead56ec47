/**
 * Issue 7: six simulated agents (separate processes, own data dirs, device
 * ids and board fixtures) against one broker; `reasond fleet upload` and
 * `reasond fleet rollout tiny@1.3.0 --canary 1 --waves 50,100`: every board
 * ends on the new version, and the log shows each wave started only after
 * the previous wave's devices were all active and its gate passed.
 */
import test from 'ava';
import { fleet, fleetJson, startSite, untilModels } from '../helpers/fleet.js';

test('six agents: one canary, waves 50,100, all on the new version, waves in order behind their gates', async (t) => {
  t.timeout(600_000);
  const { broker, packages: p, devices } = await startSite(t, { agents: 6 });

  const up = await fleet(broker.url, ['upload', p.next]);
  t.is(up.code, 0, up.stderr);
  t.regex(up.stdout, /^uploaded tiny@1\.3\.0 \(\d+ bytes, signed by key [0-9a-f]{16}\)/);

  const run = await fleet(broker.url, ['rollout', 'tiny@1.3.0', '--canary', '1', '--waves', '50,100', '--max-failures', '10%']);
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /completed, wave 3\/3: 6 active\n$/); // the progress lines end on the outcome

  const status = await untilModels(broker.url, devices, 'tiny@1.3.0');
  t.deepEqual(status.map((d) => [d.device, d.online, d.model]), devices.map((d) => [d, true, 'tiny@1.3.0']));
  t.true(status.every((d) => d.update?.state === 'active'));

  const { rollouts } = await fleetJson(broker.url, ['rollouts']);
  const show = await fleetJson(broker.url, ['rollout', 'show', rollouts[0].id]);
  t.is(show.rollout.state, 'completed');
  // six devices, canary 1, then 50% (3 in all) and 100%
  t.deepEqual(show.devices.map((d: any) => [d.device, d.wave, d.state, d.from_version]), [
    ['pi-01', 0, 'active', 'tiny@1.0.0'],
    ['pi-02', 1, 'active', 'tiny@1.0.0'], ['pi-03', 1, 'active', 'tiny@1.0.0'],
    ['pi-04', 2, 'active', 'tiny@1.0.0'], ['pi-05', 2, 'active', 'tiny@1.0.0'], ['pi-06', 2, 'active', 'tiny@1.0.0'],
  ]);
  const log: string[] = show.log.map((l: any) => l.message);
  const at = (m: string) => {
    const i = log.indexOf(m);
    t.true(i >= 0, `the log has "${m}":\n${log.join('\n')}`);
    return i;
  };
  const waves = [['pi-01'], ['pi-02', 'pi-03'], ['pi-04', 'pi-05', 'pi-06']];
  for (const [w, members] of waves.entries()) {
    const started = at(`wave ${w}${w === 0 ? ' started (canary)' : ' started'}`);
    const passed = at(`wave ${w} passed its gate`);
    for (const d of members) {
      t.true(at(`${d}: deploy sent`) > started, `${d} was sent its deploy after wave ${w} started`);
      t.true(at(`${d}: active on tiny@1.3.0`) < passed, `${d} was active before wave ${w}'s gate passed`);
    }
    if (w + 1 < waves.length) t.true(passed < at(`wave ${w + 1} started`), `wave ${w + 1} waited for wave ${w}'s gate`);
  }
  t.is(log[log.length - 1], 'completed');

  const table = await fleet(broker.url, ['status']);
  t.regex(table.stdout, /^DEVICE +ONLINE +MODEL +TOK\/S +TEMP +MEMORY +QUEUE +UPDATE\n/);
  t.regex(table.stdout, /pi-06 +yes +tiny@1\.3\.0 /);
});
