/**
 * The controller API's own checks of a request's fields (issue 16): a mistyped allow_downgrade or
 * force is refused with the field and the value, before the rollout engine or the package store
 * are asked anything.
 */
import test from 'ava';
import { controllerHandlers, strategyOf, type ApiDeps } from '../../../src/fleet/api.js';

test('allow_downgrade: only true or false, kept in the strategy only when true', (t) => {
  t.is(strategyOf({ allow_downgrade: true }).allow_downgrade, true);
  t.false('allow_downgrade' in strategyOf({ allow_downgrade: false }));
  const e = t.throws(() => strategyOf({ allow_downgrade: 'yes' }));
  t.is((e as { code?: string }).code, 'invalid_request');
  t.is(e!.message, 'allow_downgrade must be true or false; got "yes"');
});

test('rollout/create: a force that is not a boolean is refused before anything is asked of the engine or the store', async (t) => {
  const asked: string[] = [];
  const deps = {
    operators: { check: async () => 'alice (key 0123456789abcdef)' },
    packages: { smokeChecks: async () => (asked.push('smokeChecks'), 0) },
    engine: { create: async () => (asked.push('create'), {}) },
    log: () => {},
  } as unknown as ApiDeps;
  const e = await t.throwsAsync(controllerHandlers(deps)['rollout/create']({ name: 'tiny', version: '1.3.0', force: 'please' }));
  t.is((e as { code?: string }).code, 'invalid_request');
  t.is(e!.message, 'force must be true or false; got "please"');
  t.deepEqual(asked, []);
});
