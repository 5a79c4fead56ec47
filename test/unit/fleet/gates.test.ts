/** Health gates and abort thresholds (issue 7), with exact figures. */
import test from 'ava';
import type { Sample } from '../../../src/fleet/history.js';
import { hasEvidence, healthProblem, waveVerdict, type Strategy } from '../../../src/fleet/rollout/gates.js';

const s: Strategy = { canary: 1, waves: [50, 100], max_failures_percent: 10, rollback_on_abort: true, max_tps_drop_percent: 20, max_error_increase_percent: 5 };
const sample = (p: Partial<Sample>): Sample => ({ model_version: '1.3.0', tokens_per_s: null, latency_ms: null, temp_c: null, rss_bytes: null, queue_depth: null, tasks: null, errors: null, ...p });

test('a wave waits until every device is active or failed, and passes then', (t) => {
  t.deepEqual(waveVerdict(['active', 'deploying'], s, 1), { kind: 'wait' });
  t.deepEqual(waveVerdict(['active', 'active'], s, 1), { kind: 'pass' });
  t.deepEqual(waveVerdict([], s, 1), { kind: 'pass' });
});

test('more than max_failures_percent of a wave failed: abort, with the numbers', (t) => {
  t.deepEqual(waveVerdict(['active', 'failed'], s, 2), { kind: 'abort', reason: 'wave 2: 1 of 2 devices failed (50% > 10%)' });
  t.deepEqual(waveVerdict(['failed', 'deploying', 'deploying'], s, 0), { kind: 'abort', reason: 'wave 0: 1 of 3 devices failed (33% > 10%)' });
  const lenient = { ...s, max_failures_percent: 50 };
  t.deepEqual(waveVerdict(['active', 'failed'], lenient, 1), { kind: 'pass' });
});

test('health: error rate and tokens/s against the previous version', (t) => {
  const before = { tokens_per_s: 20, error_rate: 0.02 };
  t.is(healthProblem(sample({ tasks: 10, errors: 0, tokens_per_s: 19 }), before, s), undefined);
  t.is(healthProblem(sample({ tasks: 10, errors: 1, tokens_per_s: 19 }), before, s), 'error rate 10.0% > 7.0% allowed');
  t.is(healthProblem(sample({ tasks: 10, errors: 0, tokens_per_s: 15 }), before, s), 'decode 15.0 tokens/s < 16.0 (previous version 20.0 - 20%)');
  // no tasks on the new version yet, or no metrics at all: no evidence against it
  t.is(healthProblem(sample({ tasks: 0, tokens_per_s: 1 }), before, s), undefined);
  t.is(healthProblem(undefined, before, s), undefined);
  // no baseline: only the error-rate limit applies
  t.is(healthProblem(sample({ tasks: 10, errors: 0, tokens_per_s: 1 }), { tokens_per_s: null, error_rate: null }, s), undefined);
});

test('evidence: with min_tasks, a device must have served that many tasks on the new version', (t) => {
  t.true(hasEvidence(undefined, s), 'min_tasks unset: judge at once');
  const strict = { ...s, min_tasks: 2 };
  t.false(hasEvidence(undefined, strict));
  t.false(hasEvidence(sample({ tasks: 1 }), strict));
  t.true(hasEvidence(sample({ tasks: 2 }), strict));
});
