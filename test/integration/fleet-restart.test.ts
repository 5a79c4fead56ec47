/**
 * Issue 7: the controller is killed (SIGKILL, no clean stop) while a rollout
 * runs, and started again on the same data dir: it reads the rollout back
 * from SQLite, reconciles with what the devices report, and finishes it.
 */
import test from 'ava';
import { startBroker } from '../helpers/brokers.js';
import { fleetJson, makePackages, startController, startFleet, stopController, untilModels } from '../helpers/fleet.js';
import { until } from '../helpers/waiting.js';

test('a controller killed mid-rollout continues the rollout after a restart', async (t) => {
  t.timeout(600_000);
  const broker = await startBroker('embedded');
  const p = await makePackages();
  let controller = await startController(broker.url, p.keys.pubPath);
  const sim = await startFleet({ agents: 3, broker: broker.url, model: p.base, trustedKeys: p.keys.pubPath });
  t.teardown(async () => {
    await sim.stop();
    await stopController(controller);
    await broker.stop();
  });
  const devices = sim.agents.map((a) => a.device);
  await untilModels(broker.url, devices, 'tiny@1.0.0');
  await fleetJson(broker.url, ['upload', p.next]);

  const started = await fleetJson(broker.url, ['rollout', 'tiny@1.3.0', '--canary', '1', '--waves', '100', '--no-wait']);
  t.is(started.state, 'running');
  t.is(started.wave, 0);
  await stopController(controller, 'SIGKILL');

  controller = await startController(broker.url, p.keys.pubPath, controller.dataDir);
  let show: any;
  await until(async () => {
    show = await fleetJson(broker.url, ['rollout', 'show', started.id]);
    return show.rollout.state !== 'running';
  }, 'the restarted controller to finish the rollout', 240_000);
  t.is(show.rollout.state, 'completed');
  t.deepEqual(show.devices.map((d: any) => [d.device, d.wave, d.state]), [['pi-01', 0, 'active'], ['pi-02', 1, 'active'], ['pi-03', 1, 'active']]);
  const log: string[] = show.log.map((l: any) => l.message);
  t.true(log.indexOf('wave 0 passed its gate') < log.indexOf('wave 1 started'));
  t.is(log[log.length - 1], 'completed');
  await untilModels(broker.url, devices, 'tiny@1.3.0');
});
