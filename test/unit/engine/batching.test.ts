/**
 * Continuous batching (issue 14), in-process: generations that share forward passes, joining and
 * leaving mid-stream, give exactly the tokens each gives alone, on the shipped model and the fixtures;
 * a cancelled or expired row leaves within one step and the others do not change.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { activeRows, generate } from '../../../src/engine/generate.js';
import { loadModel, type LoadedModel } from '../../../src/engine/load-model.js';
import type { GenerateRequest, GenerationResult } from '../../../src/engine/types.js';
import { shippedModel, tempDir, tinyRandom, tinyRandomHf } from '../../helpers/models.js';

const heldout = readFileSync(join(shippedModel, 'heldout.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { family: string; question: string });
/** One question of each family: prompts of different lengths (site data is the longest). */
const questions = ['arithmetic', 'time', 'logic', 'site', 'ood'].map((f) => heldout.find((q) => q.family === f)!.question);

interface Planned {
  req: GenerateRequest;
  /** Starts once generation `of` has streamed `deltas` deltas (or ended); without it, at once. */
  after?: { of: number; deltas: number };
}

/** Runs the plan on `model`: each generation starts when its trigger fires, while the others run. */
async function together(model: LoadedModel, plan: Planned[], hooks: { cancelled?: (i: number, deltas: number) => boolean; now?: (i: number) => () => number } = {}): Promise<GenerationResult[]> {
  const deltas = plan.map(() => 0);
  const ended = plan.map(() => false);
  const runs: (Promise<GenerationResult> | undefined)[] = [];
  const check = () => {
    plan.forEach((p, j) => {
      if (runs[j] || !p.after || (deltas[p.after.of] < p.after.deltas && !ended[p.after.of])) return;
      start(j);
    });
  };
  const start = (i: number) => {
    runs[i] = generate(model, plan[i].req, {
      onDelta: () => {
        deltas[i]++;
        check();
      },
      cancelled: hooks.cancelled ? () => hooks.cancelled!(i, deltas[i]) : undefined,
      now: hooks.now?.(i),
    });
    void runs[i]!.then(() => {
      ended[i] = true;
      check();
    });
  };
  plan.forEach((p, i) => !p.after && start(i));
  const results: GenerationResult[] = [];
  for (let i = 0; i < plan.length; i++) {
    while (!runs[i]) await new Promise((r) => setImmediate(r));
    results.push((await runs[i])!);
  }
  return results;
}

async function alone(model: LoadedModel, plan: Planned[]): Promise<GenerationResult[]> {
  const out: GenerationResult[] = [];
  for (const p of plan) out.push(await generate(model, p.req, { onDelta: () => {} }));
  return out;
}

const cases = [
  { name: 'shipped model q4', dir: shippedModel, dtype: 'q4' as const },
  { name: 'shipped model int8', dir: shippedModel, dtype: 'q8' as const },
  { name: 'tiny-random fp32', dir: tinyRandom, dtype: 'fp32' as const },
  { name: 'tiny-random-hf q4 (repeat_kv)', dir: tinyRandomHf, dtype: 'q4' as const },
];

const load = (dir: string, dtype: 'q4' | 'q8' | 'fp32', maxBatch: number) =>
  loadModel(dir, { dtype, threads: 1, prefill_chunk: 16, max_batch: maxBatch, graph_cache_dir: tempDir('reasond-graphs-') });

for (const c of cases) {
  test(`greedy tokens of each generation in a batch equal its tokens alone, with generations of different prompt lengths joining and leaving mid-stream: ${c.name}`, async (t) => {
    const model = await load(c.dir, c.dtype, 3);
    try {
      t.is(model.info.max_batch, 3);
      const q = (i: number) => (c.dir === shippedModel ? questions[i] : ['Hello', 'What is the capital of a country far away from here, and why?', 'Hi there', 'ab', 'Tell me a long story about a robot.'][i]);
      const plan: Planned[] = [
        { req: { prompt: q(3), max_new_tokens: 60 } },
        { req: { prompt: q(0), max_new_tokens: 9 } },
        // joins mid-stream, prompt fed in chunks of 16 between the others' steps
        { req: { prompt: q(2), max_new_tokens: 40 }, after: { of: 0, deltas: 5 } },
        // joins when the short one leaves
        { req: { prompt: q(1), max_new_tokens: 30 }, after: { of: 1, deltas: 1_000 } },
        // waits for a free row (3 are taken), then joins
        { req: { prompt: q(4), max_new_tokens: 25 }, after: { of: 2, deltas: 2 } },
        // sampling and a repetition penalty in the same passes as greedy rows: per-row logits, seeds and options
        { req: { prompt: q(0), max_new_tokens: 20, temperature: 0.9, top_k: 20, seed: 11 }, after: { of: 0, deltas: 8 } },
        { req: { prompt: q(1), max_new_tokens: 20, repetition_penalty: 1.3, stop: ['\n\n'] }, after: { of: 3, deltas: 3 } },
      ];
      const want = await alone(model, plan);
      const got = await together(model, plan);
      for (let i = 0; i < plan.length; i++) {
        t.deepEqual(got[i].tokens, want[i].tokens, `generation ${i}`);
        t.is(got[i].answer, want[i].answer, `generation ${i}`);
        t.is(got[i].finish_reason, want[i].finish_reason, `generation ${i}`);
      }
      // the plan did run batched: at most 3 rows, and the short one ended while the long one ran
      t.true(want[0].tokens.length > want[1].tokens.length);
      t.is(activeRows(model), 0);
    } finally {
      await model.session.release();
    }
  });
}

test('the shipped model answers in a batch exactly as alone, with the reasoning budget and reasoning left out per row', async (t) => {
  const model = await load(shippedModel, 'q4', 4);
  try {
    const plan: Planned[] = questions.slice(0, 4).map((prompt, i) => ({
      req: { prompt, max_new_tokens: 200, ...(i === 1 ? { reasoning: { budget_tokens: 6 } } : {}), ...(i === 2 ? { reasoning: { include: false } } : {}) },
    }));
    const want = await alone(model, plan);
    const got = await together(model, plan);
    t.deepEqual(got.map((r) => r.tokens), want.map((r) => r.tokens));
    t.deepEqual(got.map((r) => [r.answer, r.reasoning, r.finish_reason]), want.map((r) => [r.answer, r.reasoning, r.finish_reason]));
    t.is(got[1].finish_reason, 'budget');
    t.is(got[2].reasoning, '');
  } finally {
    await model.session.release();
  }
});

test('a cancelled row and a row past its deadline leave the batch within one step; the others are unchanged', async (t) => {
  const model = await load(shippedModel, 'q4', 4);
  try {
    const plan: Planned[] = [0, 3, 1, 2].map((i) => ({ req: { prompt: questions[i], max_new_tokens: 60 } }));
    const want = await alone(model, plan);
    plan[2].req.deadline_at = 1_000_000;
    let clock = 0;
    const got = await together(model, plan, {
      // row 1 is cancelled once it has streamed 4 deltas
      cancelled: (i, deltas) => i === 1 && deltas >= 4,
      // row 2's clock jumps past its deadline at its 5th reading after the start
      now: (i) => (i === 2 ? () => (++clock >= 5 ? 2_000_000 : 0) : Date.now),
    });
    t.is(got[1].finish_reason, 'cancelled');
    t.is(got[2].finish_reason, 'deadline');
    // within one step: the pass that streamed the 4th delta was its last
    t.deepEqual(got[1].tokens, want[1].tokens.slice(0, got[1].tokens.length));
    t.true(got[1].tokens.length <= 5, `${got[1].tokens.length} tokens`);
    t.deepEqual(got[2].tokens, want[2].tokens.slice(0, got[2].tokens.length));
    t.true(got[2].tokens.length < want[2].tokens.length);
    t.deepEqual(got[0].tokens, want[0].tokens);
    t.deepEqual(got[3].tokens, want[3].tokens);
  } finally {
    await model.session.release();
  }
});

test('max_batch 1 runs generations one after another; a plain graph runs one at a time and says why', async (t) => {
  const one = await load(tinyRandom, 'fp32', 1);
  const plain = await loadModel(tinyRandom, { dtype: 'fp32', threads: 1, graph_rewrites: 'off', max_batch: 4 });
  try {
    t.is(one.info.max_batch, 1);
    t.is(plain.info.max_batch, 1);
    t.is(plain.info.batch_note, 'a plain graph runs one generation at a time');
    const plan: Planned[] = ['Hello', 'Hi there', 'ab'].map((prompt) => ({ req: { prompt, max_new_tokens: 12 } }));
    const want = await alone(one, plan);
    let most = 0;
    const got = await together(one, plan, { cancelled: () => ((most = Math.max(most, activeRows(one))), false) });
    t.deepEqual(got.map((r) => r.tokens), want.map((r) => r.tokens));
    t.is(most, 1);
    t.deepEqual((await together(plain, plan)).map((r) => r.tokens), want.map((r) => r.tokens));
  } finally {
    await one.session.release();
    await plain.session.release();
  }
});

test('an emptied cache starts from a fresh capacity: a short task after a long one feeds the past a fresh run would, and answers the same', async (t) => {
  const fresh = await load(shippedModel, 'q4', 2);
  const used = await load(shippedModel, 'q4', 2);
  try {
    const short = { prompt: questions[0], max_new_tokens: 40 };
    const want = await generate(fresh, short);
    // a long site-data prompt and trace first: the cache grows well past a short task's 64-position granule
    const long = await generate(used, { prompt: questions[3], max_new_tokens: 200 });
    t.true(long.usage.prompt_tokens + long.usage.completion_tokens > 128);
    const got = await generate(used, short);
    t.deepEqual(got.tokens, want.tokens);
    const past = (m: LoadedModel) => {
      const feeds = (m.cache as unknown as { feedRows(first: number, tokens: number[][]): Record<string, { dims: readonly number[] }> }).feedRows(0, [[1]]);
      return feeds[m.io.cache[0].past].dims;
    };
    // nothing is cached after the runs: the next pass sees a past of one 64-position granule, as on a fresh model
    t.deepEqual(past(used), past(fresh));
    t.is(past(used)[2], 64);
  } finally {
    await fresh.session.release();
    await used.session.release();
  }
});
