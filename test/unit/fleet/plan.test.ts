/** Rollout plans (issue 7): targets, wave splits, percentages — exact outputs. */
import test from 'ava';
import { hasCode } from '../../../src/core/errors.js';
import { parsePercent, parseTarget, parseWaves, planWaves, selectDevices, type TargetDevice } from '../../../src/fleet/rollout/plan.js';

const six = ['pi-01', 'pi-02', 'pi-03', 'pi-04', 'pi-05', 'pi-06'];

test('canary first, then cumulative percentages of the whole target, rounded up', (t) => {
  t.deepEqual(planWaves(six, 1, [50, 100]), [['pi-01'], ['pi-02', 'pi-03'], ['pi-04', 'pi-05', 'pi-06']]);
  t.deepEqual(planWaves(six, 0, [25, 50, 100]), [['pi-01', 'pi-02'], ['pi-03'], ['pi-04', 'pi-05', 'pi-06']]);
  t.deepEqual(planWaves(six, 0, [100]), [six]);
});

test('every wave after the canary takes at least one new device; waves with nothing left are dropped', (t) => {
  t.deepEqual(planWaves(['a', 'b', 'c'], 2, [10, 20, 100]), [['a', 'b'], ['c']]);
  t.deepEqual(planWaves(['a', 'b', 'c', 'd'], 0, [10, 20, 100]), [['a'], ['b'], ['c', 'd']]);
  t.deepEqual(planWaves(['a'], 3, [100]), [['a']]);
});

test('targets: all, a pool, a list, a label selector', (t) => {
  const known: TargetDevice[] = [
    { device: 'b', pool: 'line-2', labels: { site: 'north' } },
    { device: 'a', pool: 'line-1', labels: { site: 'north', rack: '1' } },
    { device: 'c', pool: 'line-2', labels: {} },
  ];
  t.deepEqual(selectDevices(parseTarget('all'), known), ['a', 'b', 'c']);
  t.deepEqual(selectDevices(parseTarget('pool=line-2'), known), ['b', 'c']);
  t.deepEqual(selectDevices(parseTarget('devices=c,a'), known), ['a', 'c']);
  t.deepEqual(selectDevices(parseTarget('label:site=north,rack=1'), known), ['a']);
  t.true(hasCode(t.throws(() => selectDevices(parseTarget('devices=a,zz'), known)), 'invalid_request'));
  const e = t.throws(() => parseTarget('line-2'));
  t.is(e?.message, 'target must be all, pool=NAME, devices=a,b or label:key=value; got "line-2"');
});

test('waves and percentages are checked and name the bad value', (t) => {
  t.deepEqual(parseWaves('25,50,100'), [25, 50, 100]);
  t.deepEqual(parseWaves('50%,100%'), [50, 100]);
  for (const bad of ['50', '50,40,100', '0,100', 'x,100', '']) {
    t.true(hasCode(t.throws(() => parseWaves(bad)), 'invalid_request'), bad);
  }
  t.is(parsePercent('10%', 'max_failures'), 10);
  t.is(t.throws(() => parsePercent('150%', 'max_failures'))?.message, 'max_failures must be a percentage from 0 to 100; got "150%"');
});
