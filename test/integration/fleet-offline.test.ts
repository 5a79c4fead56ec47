/**
 * Issue 7: an agent that goes away (SIGKILL: the broker publishes its last
 * will) shows offline in `reasond fleet status`; a rollout meanwhile waits
 * for it at its gate. Started again on the same data dir, it shows online
 * and catches up: the controller sends it the deploy it missed.
 */
import test from 'ava';
import { fleet, fleetJson, startSite, untilModels } from '../helpers/fleet.js';
import { until } from '../helpers/waiting.js';

test('an agent offline shows offline in fleet status; back online it catches up with the rollout', async (t) => {
  t.timeout(600_000);
  const { broker, packages: p, sim } = await startSite(t, { agents: 2 });
  await fleetJson(broker.url, ['upload', p.next]);

  await sim.stopAgent('pi-02', 'SIGKILL');
  await until(async () => (await fleetJson(broker.url, ['status'])).devices.find((d: any) => d.device === 'pi-02').online === false, 'pi-02 offline');
  const table = await fleet(broker.url, ['status']);
  t.regex(table.stdout, /\npi-01 +yes +tiny@1\.0\.0 /);
  t.regex(table.stdout, /\npi-02 +no +tiny@1\.0\.0 /);

  const r = await fleetJson(broker.url, ['rollout', 'tiny@1.3.0', '--waves', '100', '--no-wait']);
  let show: any;
  await until(async () => {
    show = await fleetJson(broker.url, ['rollout', 'show', r.id]);
    return show.devices.find((d: any) => d.device === 'pi-01').state === 'active';
  }, 'pi-01 active');
  // the gate waits for the offline board: no deploy went to it, the rollout still runs
  t.is(show.rollout.state, 'running');
  t.deepEqual(show.devices.map((d: any) => [d.device, d.state, d.sent_at === null]), [['pi-01', 'active', false], ['pi-02', 'deploying', true]]);

  await sim.launch(sim.agent('pi-02'));
  await until(async () => (await fleetJson(broker.url, ['rollout', 'show', r.id])).rollout.state === 'completed', 'the rollout to complete', 240_000);
  const status = await untilModels(broker.url, ['pi-01', 'pi-02'], 'tiny@1.3.0');
  t.deepEqual(status.map((d) => [d.device, d.online]), [['pi-01', true], ['pi-02', true]]);

  // the history and labels commands against the same controller
  const h = await fleetJson(broker.url, ['history', 'pi-01', '--since', '1h']);
  t.is(h.device, 'pi-01');
  t.true(h.points.length >= 1 && h.points.every((p: any) => typeof p.temp_c === 'number'), JSON.stringify(h.points));
  t.regex((await fleet(broker.url, ['history', 'pi-01', '--since', '1h'])).stdout, /^TIME +TOK\/S +LATENCY MS +TEMP °C +MEMORY MIB +QUEUE\n/);
  t.is((await fleet(broker.url, ['label', 'pi-02', 'site=north'])).stdout, 'pi-02: site=north\n');
  t.deepEqual((await fleetJson(broker.url, ['status'])).devices.map((d: any) => d.labels), [{}, { site: 'north' }]);
  const unknown = await fleet(broker.url, ['label', 'pi-09', 'site=north']);
  t.is(unknown.code, 2);
  t.is(unknown.stderr, 'reasond: invalid_request: unknown device "pi-09"\n');
});
