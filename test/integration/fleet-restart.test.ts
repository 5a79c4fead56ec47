/**
 * Issue 7: the controller is killed (SIGKILL, no clean stop) while a rollout
 * runs, and started again on the same data dir: it reads the rollout back
 * from SQLite, reconciles with what the devices report, and finishes it.
 * Then an operator aborts the next rollout: the updated boards go back to
 * the version installed before, the offline one is skipped. Runs on
 * Mosquitto (MQTT 5) when it is installed; the other fleet tests use the
 * embedded broker.
 */
import test from 'ava';
import { hasMosquitto } from '../helpers/brokers.js';
import { makePackage } from '../helpers/packages.js';
import { fleet, fleetJson, operator, startController, startSite, stopController, untilModels } from '../helpers/fleet.js';
import { until } from '../helpers/waiting.js';

test('a controller killed mid-rollout continues the rollout after a restart; an operator abort rolls back', async (t) => {
  t.timeout(600_000);
  const site = await startSite(t, { agents: 3, broker: hasMosquitto ? 'mosquitto' : 'embedded' });
  const { broker, packages: p, sim, devices } = site;
  await fleetJson(broker.url, ['upload', p.next]);

  const started = await fleetJson(broker.url, ['rollout', 'tiny@1.3.0', '--canary', '1', '--waves', '100', '--no-wait']);
  t.is(started.state, 'running');
  t.is(started.wave, 0);
  await stopController(site.controller, 'SIGKILL');

  site.controller = await startController(broker.url, p.keys.pubPath, site.controller.dataDir);
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

  // an operator abort: pi-03 is away, so the rollout waits at its gate until aborted
  const v14 = await makePackage({ keys: p.keys, version: '1.4.0' });
  await fleetJson(broker.url, ['upload', v14.dir]);
  await sim.stopAgent('pi-03', 'SIGKILL');
  await until(async () => !(await fleetJson(broker.url, ['status'])).devices.find((d: any) => d.device === 'pi-03').online, 'pi-03 offline');
  const next = await fleetJson(broker.url, ['rollout', 'tiny@1.4.0', '--waves', '100', '--no-wait']);
  await untilModels(broker.url, ['pi-01', 'pi-02'], 'tiny@1.4.0');
  const aborted = await fleetJson(broker.url, ['rollout', 'abort', next.id]);
  t.is(aborted.rollout.reason, `aborted by alice (key ${operator.trusted.keyId})`);
  await until(async () => (show = await fleetJson(broker.url, ['rollout', 'show', next.id])).rollout.state === 'aborted', 'the abort to finish');
  t.deepEqual(show.devices.map((d: any) => [d.device, d.state]), [['pi-01', 'rolled_back'], ['pi-02', 'rolled_back'], ['pi-03', 'skipped']]);
  await untilModels(broker.url, ['pi-01', 'pi-02'], 'tiny@1.3.0');
  const again = await fleet(broker.url, ['rollout', 'abort', next.id]);
  t.is(again.stderr, `reasond: invalid_request: rollout ${next.id} is aborted; only a running rollout can be aborted\n`);
});
