import test from 'ava';
import { nextState, ThermalGuard, validateLimits, type ThermalState } from '../../../src/telemetry/thermal/guard.js';
import { pacedRequest, policyFor, scaledBudget, thermalThrottled } from '../../../src/telemetry/thermal/policy.js';
import { isReasondError } from '../../../src/core/errors.js';

const limits = { soft_c: 70, hard_c: 80, hysteresis_c: 5 };
const off = { under_voltage: false, freq_capped: false, throttled: false, soft_temp_limit: false };

test('soft, hard and back with hysteresis: every transition is one event', (t) => {
  const g = new ThermalGuard(limits);
  const walk = [60, 69.9, 70, 74, 79.9, 80, 76, 75.1, 74.9, 66, 65.1, 64.9, 64];
  const seen: [number, ThermalState, string | undefined][] = [];
  walk.forEach((temp_c, i) => {
    const e = g.update({ at: i * 1000, temp_c, zone: 'cpu-thermal' });
    seen.push([temp_c, g.state, e ? `${e.from}>${e.to}:${e.reason}` : undefined]);
  });
  t.deepEqual(seen, [
    [60, 'normal', undefined],
    [69.9, 'normal', undefined],
    [70, 'soft', 'normal>soft:temperature'],
    [74, 'soft', undefined],
    [79.9, 'soft', undefined],
    [80, 'hard', 'soft>hard:temperature'],
    [76, 'hard', undefined], // still above 80 - 5
    [75.1, 'hard', undefined],
    [74.9, 'soft', 'hard>soft:cooled'],
    [66, 'soft', undefined],
    [65.1, 'soft', undefined],
    [64.9, 'normal', 'soft>normal:cooled'],
    [64, 'normal', undefined],
  ]);
});

test('the event carries the reading and the limits', (t) => {
  const g = new ThermalGuard(limits);
  t.deepEqual(g.update({ at: 5, temp_c: 85, zone: 'tj-thermal' }), {
    type: 'thermal',
    from: 'normal',
    to: 'hard',
    reason: 'temperature',
    at: 5,
    temp_c: 85,
    zone: 'tj-thermal',
    limits,
  });
  // straight from hard to normal when it cooled past both limits at once
  t.is(g.update({ at: 6, temp_c: 50 })?.to, 'normal');
});

test("the board's own throttling flags make the guard soft, never hard", (t) => {
  const g = new ThermalGuard(limits);
  const e = g.update({ at: 1, temp_c: 50, board_flags: { ...off, soft_temp_limit: true } });
  t.is(e?.to, 'soft');
  t.is(e?.reason, 'board_throttling');
  t.is(g.update({ at: 2, temp_c: 50, board_flags: { ...off, throttled: true } }), undefined);
  t.is(g.update({ at: 3, temp_c: 50, board_flags: off })?.to, 'normal');
  // under-voltage alone is not heat
  t.is(nextState('normal', { at: 4, temp_c: 50, board_flags: { ...off, under_voltage: true } }, limits), 'normal');
});

test('no temperature sensor: the state holds', (t) => {
  t.is(nextState('normal', { at: 0 }, limits), 'normal');
  t.is(nextState('hard', { at: 0 }, limits), 'hard');
  t.is(nextState('normal', { at: 0, board_flags: { ...off, freq_capped: true } }, limits), 'soft');
});

test('limits are checked with the offending values', (t) => {
  t.deepEqual(validateLimits({ soft_c: 80, hard_c: 80, hysteresis_c: -1 }), [
    'thermal_soft_c (80) must be below thermal_hard_c (80)',
    'thermal_hysteresis_c must be 0 or more, got -1',
  ]);
  t.deepEqual(validateLimits(limits), []);
});

test('policies: soft slows down and halves the budget, hard refuses with retry_after_ms', (t) => {
  t.deepEqual(policyFor('normal'), { state: 'normal', accept: true, pause_ms: 0, step_pause_ms: 0, budget_factor: 1 });
  const soft = policyFor('soft');
  t.deepEqual(soft, { state: 'soft', accept: true, max_concurrency: 1, pause_ms: 2000, step_pause_ms: 20, budget_factor: 0.5 });
  t.is(scaledBudget(301, soft), 150);
  t.is(scaledBudget(1, soft), 1);
  t.is(scaledBudget(undefined, soft), undefined);
  const hard = policyFor('hard', { soft_pause_ms: 2000, soft_step_pause_ms: 20, soft_budget_factor: 0.5, retry_after_ms: 45_000 });
  t.false(hard.accept);
  const err = thermalThrottled(hard, 82.5);
  t.true(isReasondError(err));
  t.is(err.code, 'thermal_throttled');
  t.is(err.retryAfterMs, 45_000);
  t.is(err.message, 'the board is at 82.5 °C, above its hard limit; retry after 45000 ms');
});

test('soft mode shrinks the reasoning budget of the engine request', (t) => {
  const soft = policyFor('soft');
  t.deepEqual(pacedRequest({ prompt: 'x', max_new_tokens: 400, reasoning: { budget_tokens: 300, include: true } }, soft), {
    prompt: 'x',
    max_new_tokens: 400,
    step_pause_ms: 20,
    reasoning: { budget_tokens: 150, include: true },
  });
  t.deepEqual(pacedRequest({ prompt: 'x', max_new_tokens: 400 }, soft).reasoning, { budget_tokens: 200 });
  const req = { prompt: 'x', max_new_tokens: 400 };
  t.is(pacedRequest(req, policyFor('normal')), req);
});
