import test from 'ava';
import { checkTargets } from '../../../src/bench/targets.js';
import { firstMismatch, interleave, median, percentile, ratios, summarize } from '../../../src/bench/stats.js';

test('median, nearest-rank percentiles and summaries', (t) => {
  t.is(median([3, 1, 2]), 2);
  t.is(median([4, 1, 3, 2]), 2.5);
  t.true(Number.isNaN(median([])));
  const v = Array.from({ length: 100 }, (_, i) => i + 1);
  t.is(percentile(v, 50), 50);
  t.is(percentile(v, 99), 99);
  t.is(percentile(v, 100), 100);
  t.is(percentile([7], 99), 7);
  t.deepEqual(summarize([2, 9, 4]), { median: 4, min: 2, max: 9, n: 3 });
});

test('ratios pair repetition i with the floor repetition i', (t) => {
  t.deepEqual(ratios([10, 20, 30], [10, 10, 20]), { median: 1.5, min: 1, max: 2, n: 3 });
  // A floor figure of 0 (no decode step) is left out rather than dividing by it.
  t.is(ratios([10, 20], [0, 10]).n, 1);
});

test('interleave rotates the order so each runs in every position', (t) => {
  t.deepEqual(interleave(['a', 'b', 'c'], 4), [['a', 'b', 'c'], ['b', 'c', 'a'], ['c', 'a', 'b'], ['a', 'b', 'c']]);
});

test('firstMismatch finds the first differing token, or a length difference', (t) => {
  t.is(firstMismatch([1, 2, 3], [1, 2, 3]), -1);
  t.is(firstMismatch([1, 2, 3], [1, 5, 3]), 1);
  t.is(firstMismatch([1, 2], [1, 2, 3]), 2);
});

test('targets: a ratio below the bar and a token mismatch are misses', (t) => {
  const s = (m: number) => ({ median: m, min: m, max: m, n: 1 });
  const rows = checkTargets({
    m: {
      engine: {
        contexts: [
          { prompt_tokens: 16, impls: { engine: { decode_tokens_per_s: s(9), ratio_to_floor: { decode: s(0.9) } }, transformers_js: { decode_tokens_per_s: s(3) } } },
          { prompt_tokens: 1024, impls: { engine: { mismatch: { at: 4 } } } },
        ],
      },
    },
  });
  t.deepEqual(rows.map((r) => [r.target, r.met]), [
    ['decode >= 0.97 x floor at 16 tokens', false],
    ['decode >= 1.5 x transformers.js at 16 tokens', true],
    ["engine tokens = minimal loop's on the same graph at 1024", false],
  ]);
});

test("targets: issue 13's bars on the 0.5B stand-in, the bandwidth ceiling and noisy runs", (t) => {
  const s = (m: number) => ({ median: m, min: m, max: m, n: 1 });
  const rows = checkTargets({
    'standin-qwen2.5-0.5b': {
      ceiling: { read_gb_s: 30, tokens_per_s_at: { 16: 90 } },
      engine: {
        contexts: [
          { prompt_tokens: 16, impls: { engine: { decode_tokens_per_s: s(60), ratio_to_floor: { decode: s(2.1), prefill: s(1) } } } },
          { prompt_tokens: 256, noisy: true, impls: { engine: { decode_tokens_per_s: s(40), ratio_to_floor: { decode: s(2), prefill: s(1) } }, transformers_js: { decode_tokens_per_s: s(25) } } },
          { prompt_tokens: 1024, impls: { engine: { decode_tokens_per_s: s(30), ratio_to_floor: { decode: s(2.1), prefill: s(1.4) } } } },
        ],
      },
    },
  });
  t.deepEqual(rows.map((r) => [r.target, r.measured, r.met]), [
    ['decode >= 2 x floor at 16 tokens', '2.1 (min 2.1, max 2.1)', true],
    ['decode at 16 tokens >= 60% of the bandwidth ceiling', '67% (60 of 90 tok/s at 30 GB/s)', true],
    ['decode >= 2 x transformers.js at 256 tokens', '1.6 (noisy run)', false],
    ['decode >= 2.2 x floor at 1024 tokens', '2.1 (min 2.1, max 2.1)', false],
    ['prefill >= 1.3 x floor at 1024 tokens', '1.4', true],
  ]);
});

test("targets: issue 18's readings ingestion on every path, a lost message a miss, and a job run's cost for information", (t) => {
  const s = (m: number, min = m, max = m) => ({ median: m, min, max, n: 3 });
  const rows = checkTargets({
    'reasond-tiny': {
      jobs: {
        store: [{ synchronous: 'FULL', messages_per_s: s(49947, 44411, 55496) }, { synchronous: 'NORMAL', messages_per_s: s(4999) }],
        broker: [
          { broker: 'embedded', qos: 0, messages_per_s: s(12457), lost: 0 },
          { broker: 'mosquitto', qos: 1, messages_per_s: s(10049), lost: 3 },
        ],
        job_runs: [{ readings: 60, max_rows: 6, total_ms: s(412.4), dry_run_ms: s(10.64), model_total_ms: s(398), completion_tokens: 61, finish_reason: 'stop' }],
      },
    },
  });
  t.deepEqual(rows.map((r) => [r.target, r.measured, r.met]), [
    ['readings ingestion >= 5000 messages/s (store alone, synchronous FULL)', '49947 messages/s (min 44411, max 55496)', true],
    ['readings ingestion >= 5000 messages/s (store alone, synchronous NORMAL)', '4999 messages/s (min 4999, max 4999)', false],
    ['readings ingestion >= 5000 messages/s (embedded, QoS 0)', '12457 messages/s (min 12457, max 12457)', true],
    ['readings ingestion >= 5000 messages/s (mosquitto, QoS 1)', '10049 messages/s (min 10049, max 10049); 3 lost', false],
    ['job run over 60 readings, max_rows 6 (cost, reported)', '412 ms median: dry run 10.6 ms, model 398 ms for 61 tokens (stop)', null],
  ]);
});
