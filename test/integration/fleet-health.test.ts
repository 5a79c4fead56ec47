/**
 * Issue 7, the health gate with evidence: with --gate-tasks 2 a wave's gate
 * waits until each of its devices has served two tasks on the new version
 * (from its metrics), then judges their figures and moves on. Tasks are
 * real ones, sent with `reasond ask`.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fleetJson, startSite, untilModels } from '../helpers/fleet.js';
import { repoRoot } from '../helpers/models.js';
import { until } from '../helpers/waiting.js';

const ask = (broker: string, device: string) =>
  new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), 'ask', 'Hello', `--device=${device}`, `--broker=${broker}`, '--max-new-tokens=8', '--json'], { cwd: repoRoot, stdio: 'ignore' });
    child.once('exit', resolve);
  });

test('a wave gate waits for tasks on the new version, then judges and passes', async (t) => {
  t.timeout(600_000);
  const { broker, packages: p } = await startSite(t, { agents: 2 });
  await fleetJson(broker.url, ['upload', p.next]);

  const r = await fleetJson(broker.url, ['rollout', 'tiny@1.3.0', '--canary', '1', '--waves', '100', '--gate-tasks', '2', '--no-wait']);
  let show: any;
  await until(async () => {
    show = await fleetJson(broker.url, ['rollout', 'show', r.id]);
    return show.log.some((l: any) => l.message === 'wave 0: waiting for 2 tasks on the new version from pi-01');
  }, 'the gate to wait for evidence');
  // it cannot move on without the tasks: still the canary wave, pi-02 untouched
  t.is(show.rollout.state, 'running');
  t.is(show.rollout.wave, 0);
  t.deepEqual(show.devices.map((d: any) => [d.device, d.state]), [['pi-01', 'active'], ['pi-02', 'waiting']]);

  t.is(await ask(broker.url, 'pi-01'), 0);
  t.is(await ask(broker.url, 'pi-01'), 0);
  // the canary's gate passes; the next wave's gate waits the same way for pi-02
  await until(async () => (await fleetJson(broker.url, ['rollout', 'show', r.id])).log.some((l: any) => l.message === 'wave 1: waiting for 2 tasks on the new version from pi-02'), 'wave 1 to wait');
  t.is(await ask(broker.url, 'pi-02'), 0);
  t.is(await ask(broker.url, 'pi-02'), 0);
  await until(async () => (show = await fleetJson(broker.url, ['rollout', 'show', r.id])).rollout.state === 'completed', 'the rollout to complete', 240_000);
  const log: string[] = show.log.map((l: any) => l.message);
  t.true(log.indexOf('wave 0: waiting for 2 tasks on the new version from pi-01') < log.indexOf('wave 0 passed its gate'));
  t.true(log.indexOf('wave 0 passed its gate') < log.indexOf('wave 1: waiting for 2 tasks on the new version from pi-02'));
  const status = await untilModels(broker.url, ['pi-01', 'pi-02'], 'tiny@1.3.0');
  t.is(typeof status.find((d) => d.device === 'pi-01').tokens_per_s, 'number', 'the canary reported tokens/s for its tasks');
});
