/**
 * The generation loop on the tiny random fixture, in-process (no worker):
 * exact tokens against PyTorch and against a cache-free recomputation,
 * sampling, stop rules, budget, streaming.
 */
import test from 'ava';
import { join } from 'node:path';
import { generate } from '../../../src/engine/generate.js';
import { loadModel, type LoadedModel } from '../../../src/engine/load-model.js';
import type { Delta, GenerateRequest } from '../../../src/engine/types.js';
import { copyModel, editJson, readJson, thinkingCopy, tinyRandom } from '../../helpers/models.js';

interface RefCase { messages: { role: 'user' | 'system'; content: string }[]; input_ids: number[]; output_ids: number[] }
const reference = readJson<{ cases: RefCase[] }>(join(tinyRandom, 'reference.json')).cases;
const EOS = [258, 256];

let fp32: LoadedModel;
test.before(async () => {
  fp32 = await loadModel(tinyRandom, { dtype: 'fp32', threads: 1 });
});
test.after.always(async () => {
  await fp32?.session.release();
});

async function streamed(model: LoadedModel, req: GenerateRequest) {
  const deltas: Delta[] = [];
  const result = await generate(model, req, { onDelta: (d) => deltas.push(d) });
  const join = (c: Delta['channel']) => deltas.filter((d) => d.channel === c).map((d) => d.text).join('');
  return { result, deltas, reasoning: join('reasoning'), answer: join('answer') };
}

test('fp32 greedy tokens equal the PyTorch reference for every fixture prompt', async (t) => {
  t.is(reference.length, 12);
  for (const c of reference) {
    const r = await generate(fp32, { messages: c.messages, max_new_tokens: 24, temperature: 0 });
    t.deepEqual(r.usage.prompt_tokens, c.input_ids.length);
    // our loop ends at the first eos id; the reference ran on past it
    const firstEos = c.output_ids.findIndex((id) => EOS.includes(id));
    const expected = firstEos >= 0 ? c.output_ids.slice(0, firstEos + 1) : c.output_ids;
    t.deepEqual(r.tokens, expected, c.messages.at(-1)!.content);
  }
});

test('greedy with the KV cache equals recomputing the whole sequence at every step (12 prompts, both dtypes)', async (t) => {
  // At 'extended'/'all' onnxruntime fuses int8 DequantizeLinear+MatMul into a
  // kernel that quantizes activations per call, so a 1-row step and a full
  // recomputation round differently by design; 'basic' keeps the int8 graph exact.
  const q8 = await loadModel(tinyRandom, { dtype: 'q8', threads: 1, graph_optimization: 'basic' });
  try {
    for (const model of [fp32, q8]) {
      for (const c of reference) {
        const req = { messages: c.messages, max_new_tokens: 20, temperature: 0 };
        const cached = await generate(model, req);
        const uncached = await generate(model, req, { useCache: false });
        t.deepEqual(cached.tokens, uncached.tokens, `${model.info.dtype}: ${c.messages.at(-1)!.content}`);
        t.true(cached.tokens.length > 0);
      }
    }
  } finally {
    await q8.session.release();
  }
});

test('an eos id from generation_config ends generation with finish_reason stop', async (t) => {
  // "What is 2 + 2?" reaches <|im_end|> (258) greedily at its 22nd token
  const r = await generate(fp32, { prompt: 'What is 2 + 2?', max_new_tokens: 100 });
  t.is(r.finish_reason, 'stop');
  t.is(r.tokens.length, 22);
  t.is(r.tokens.at(-1), 258);
  t.is(r.usage.completion_tokens, 22);
});

test('every id of the eos list stops, including ones only generation_config.json names', async (t) => {
  // "Hello" greedily produces 211, 216, 82, ...: make 82 an eos id in a copy
  const dir = copyModel(tinyRandom, (d) => editJson(join(d, 'generation_config.json'), (g) => (g.eos_token_id = [258, 256, 82])));
  const model = await loadModel(dir, { dtype: 'fp32', threads: 1 });
  try {
    const r = await generate(model, { prompt: 'Hello', max_new_tokens: 24 });
    t.deepEqual(r.tokens, [211, 216, 82]);
    t.is(r.finish_reason, 'stop');
  } finally {
    await model.session.release();
  }
});

test('max_new_tokens ends generation with finish_reason length', async (t) => {
  const r = await generate(fp32, { prompt: 'Hello', max_new_tokens: 5 });
  t.is(r.finish_reason, 'length');
  t.deepEqual(r.tokens, [211, 216, 82, 4, 167]);
});

test('a stop string ends the output before it, with finish_reason stop', async (t) => {
  const full = await generate(fp32, { prompt: 'A train leaves at 9:40 and arrives at 11:15. How long is the trip?', max_new_tokens: 24 });
  const text = full.answer;
  t.true(text.length > 6, text);
  const stop = text.slice(3, 5);
  const cut = text.slice(0, text.indexOf(stop)).trim();
  const { result, answer } = await streamed(fp32, { prompt: 'A train leaves at 9:40 and arrives at 11:15. How long is the trip?', max_new_tokens: 24, stop: [stop] });
  t.is(result.finish_reason, 'stop');
  t.is(result.answer, cut);
  t.is(answer, cut);
  t.true(result.tokens.length < full.tokens.length);
});

test('streamed deltas add up to the final text, numbered in order, for every fixture prompt (multi-byte included)', async (t) => {
  for (const c of reference) {
    const { result, deltas, answer, reasoning } = await streamed(fp32, { messages: c.messages, max_new_tokens: 24 });
    t.is(answer, result.answer);
    t.is(reasoning, result.reasoning);
    t.deepEqual(deltas.map((d) => d.seq), deltas.map((_, i) => i));
    // the final text is exactly the tokenizer's decoding of the answer tokens, trimmed
    const answerIds = result.tokens.filter((id) => !EOS.includes(id));
    if (result.usage.reasoning_tokens === 0) t.is(result.answer, fp32.tokenizer.decode(answerIds).trim());
  }
});

test('seeded sampling repeats itself; different seeds differ', async (t) => {
  const req = { prompt: 'Write one word.', max_new_tokens: 24, temperature: 1.0, top_k: 50, top_p: 0.95 };
  const a = await generate(fp32, { ...req, seed: 7 });
  const b = await generate(fp32, { ...req, seed: 7 });
  const c = await generate(fp32, { ...req, seed: 8 });
  t.deepEqual(a.tokens, b.tokens);
  t.notDeepEqual(a.tokens, c.tokens);
  const greedy = await generate(fp32, { prompt: 'Write one word.', max_new_tokens: 24 });
  t.notDeepEqual(a.tokens, greedy.tokens);
});

test('top_k 1 samples the greedy tokens whatever the seed', async (t) => {
  const greedy = await generate(fp32, { prompt: 'x', max_new_tokens: 16 });
  const sampled = await generate(fp32, { prompt: 'x', max_new_tokens: 16, temperature: 1.5, top_k: 1, seed: 99 });
  t.deepEqual(sampled.tokens, greedy.tokens);
});

test('a template that opens <think> starts in the reasoning; the budget closes it after exactly budget_tokens', async (t) => {
  const model = await loadModel(thinkingCopy(), { dtype: 'fp32', threads: 1 });
  try {
    t.true(model.info.template_opens_thinking);
    for (const budget of [0, 1, 5, 9]) {
      const { result, reasoning, answer } = await streamed(model, { prompt: 'Hello', max_new_tokens: 20, reasoning: { budget_tokens: budget } });
      t.is(result.usage.reasoning_tokens, budget, `budget ${budget}`);
      t.is(result.tokens[budget], 260, 'the engine inserted </think> right after the budget');
      t.is(result.usage.answer_tokens + result.usage.reasoning_tokens + 1, result.tokens.length - (EOS.includes(result.tokens.at(-1)!) ? 1 : 0));
      t.is(reasoning, result.reasoning);
      t.is(answer, result.answer);
    }
    // without a budget the same prompt reasons past 9 tokens
    const free = await generate(model, { prompt: 'Hello', max_new_tokens: 20 });
    t.true(free.usage.reasoning_tokens > 9);
  } finally {
    await model.session.release();
  }
});

test('finish_reason is budget when the budget closed the thinking and the answer then ended normally', async (t) => {
  const model = await loadModel(thinkingCopy(), { dtype: 'fp32', threads: 1 });
  try {
    const probe = await generate(model, { prompt: 'Hello', max_new_tokens: 12, reasoning: { budget_tokens: 3 } });
    // end the answer at its 2nd token by making that token an eos id in a copy of the model
    const eosAfter = probe.tokens[5];
    const dir = thinkingCopy();
    editJson(join(dir, 'generation_config.json'), (g) => (g.eos_token_id = [258, 256, eosAfter]));
    const m2 = await loadModel(dir, { dtype: 'fp32', threads: 1 });
    try {
      const r = await generate(m2, { prompt: 'Hello', max_new_tokens: 12, reasoning: { budget_tokens: 3 } });
      t.is(r.finish_reason, 'budget');
      t.is(r.usage.reasoning_tokens, 3);
      t.deepEqual(r.tokens, probe.tokens.slice(0, probe.tokens.indexOf(eosAfter, 4) + 1));
    } finally {
      await m2.session.release();
    }
  } finally {
    await model.session.release();
  }
});

test('reasoning.include false leaves the reasoning out of the result and the stream, but counts it', async (t) => {
  const model = await loadModel(thinkingCopy(), { dtype: 'fp32', threads: 1 });
  try {
    const { result, deltas } = await streamed(model, { prompt: 'Hello', max_new_tokens: 12, reasoning: { budget_tokens: 4, include: false } });
    t.is(result.reasoning, '');
    t.is(result.usage.reasoning_tokens, 4);
    t.false(deltas.some((d) => d.channel === 'reasoning'));
  } finally {
    await model.session.release();
  }
});

// serial: a generation waiting for a row is polled too, and the file's other tests share the model
test.serial('a deadline ends generation between steps with finish_reason deadline', async (t) => {
  let clock = 1_000;
  const now = () => (clock += 10); // every reading advances 10 ms
  const r = await generate(fp32, { prompt: 'Hello', max_new_tokens: 200, deadline_at: 1_200 }, { now });
  t.is(r.finish_reason, 'deadline');
  t.true(r.tokens.length > 0 && r.tokens.length < 20, String(r.tokens.length));
  const expired = await generate(fp32, { prompt: 'Hello', max_new_tokens: 200, deadline_at: Date.now() - 1 });
  t.is(expired.finish_reason, 'deadline');
  t.is(expired.tokens.length, 0);
});

// serial: a generation waiting for a row is polled too, and the file's other tests share the model
test.serial('cancellation is polled between steps and ends with finish_reason cancelled', async (t) => {
  let steps = 0;
  const r = await generate(fp32, { prompt: 'Hello', max_new_tokens: 200 }, { cancelled: () => ++steps > 4 });
  t.is(r.finish_reason, 'cancelled');
  t.is(r.tokens.length, 4);
});

// serial: a generation waiting for a row is polled too, and the file's other tests share the model
test.serial('step_pause_ms waits after every decode step and changes no token', async (t) => {
  const pauses: number[] = [];
  const paced = await generate(fp32, { prompt: 'Hello', max_new_tokens: 6, step_pause_ms: 25 }, { sleep: async (ms) => { pauses.push(ms); } });
  const plain = await generate(fp32, { prompt: 'Hello', max_new_tokens: 6 });
  t.deepEqual(paced.tokens, plain.tokens);
  t.deepEqual(pauses, [25, 25, 25, 25, 25], 'after each of the first five steps; the sixth ends the generation');
  await t.throwsAsync(generate(fp32, { prompt: 'Hello', step_pause_ms: -5 }), { message: 'step_pause_ms must be an integer from 0 to 10000; got -5' });
});

test('a prompt fed in chunks (prefill_chunk 4, 1 and whole) gives the PyTorch reference tokens for every fixture prompt', async (t) => {
  for (const chunk of [4, 1, 0]) {
    const model = await loadModel(tinyRandom, { dtype: 'fp32', threads: 1, prefill_chunk: chunk });
    try {
      t.is(model.prefillChunk, chunk);
      for (const c of reference) {
        const r = await generate(model, { messages: c.messages, max_new_tokens: 24, temperature: 0 });
        const firstEos = c.output_ids.findIndex((id) => EOS.includes(id));
        const expected = firstEos >= 0 ? c.output_ids.slice(0, firstEos + 1) : c.output_ids;
        t.deepEqual(r.tokens, expected, `prefill_chunk ${chunk}: ${c.messages.at(-1)!.content}`);
        t.is(r.usage.prompt_tokens, c.input_ids.length);
      }
    } finally {
      await model.session.release();
    }
  }
  t.is(fp32.prefillChunk, 128, 'the default');
});

test('cancellation is polled between prefill chunks: a long prefill stops with no token generated', async (t) => {
  const model = await loadModel(tinyRandom, { dtype: 'fp32', threads: 1, prefill_chunk: 4 });
  try {
    let polls = 0;
    const r = await generate(model, { prompt: 'A long prompt fed four tokens at a time', max_new_tokens: 20 }, { cancelled: () => ++polls > 2 });
    t.is(r.finish_reason, 'cancelled');
    t.deepEqual(r.tokens, []);
    t.is(polls, 3, 'two passes of four prompt tokens ran, the third poll stopped it');
    t.true(r.usage.prompt_tokens > 8);
  } finally {
    await model.session.release();
  }
});

test('a prefill_chunk that is not a whole number of tokens fails the load with invalid_request', async (t) => {
  for (const bad of [-1, 2.5]) {
    await t.throwsAsync(loadModel(tinyRandom, { dtype: 'fp32', prefill_chunk: bad }), { message: `prefill_chunk must be a whole number of tokens, 0 or more; got ${bad}` });
  }
});
