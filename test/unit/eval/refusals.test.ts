import test from 'ava';
import { isRefusal, refusalScore } from '../../../src/eval/refusals.js';

test('a refusal is the word unsupported, after the usual answer normalisation', (t) => {
  t.true(isRefusal(' Unsupported.'));
  t.false(isRefusal('unsupported operation'));
  t.false(isRefusal('42'));
});

test('out-of-domain refusals and wrongly refused in-domain tasks are counted apart', (t) => {
  const s = refusalScore([
    { expected: 'unsupported', got: 'unsupported' },
    { expected: 'unsupported', got: '12' },
    { expected: 'unsupported', got: 'UNSUPPORTED' },
    { expected: '42', got: '42' },
    { expected: '1 h 5 min', got: 'unsupported' },
    { expected: 'Ann', got: 'Bob' },
  ]);
  t.deepEqual(s, {
    out_of_domain_tasks: 3, out_of_domain_refused: 2, out_of_domain_refusal_rate: 66.67,
    in_domain_tasks: 3, in_domain_refused: 1, in_domain_refusal_rate: 33.33,
  });
});

test('a file without out-of-domain tasks has no refusal rate', (t) => {
  t.deepEqual(refusalScore([{ expected: '3', got: '3' }]), {
    out_of_domain_tasks: 0, out_of_domain_refused: 0, out_of_domain_refusal_rate: null,
    in_domain_tasks: 1, in_domain_refused: 0, in_domain_refusal_rate: 0,
  });
});
