/**
 * The Engine as the daemon uses it: model in a worker thread, deltas over
 * postMessage, cancellation through an AbortSignal, errors with stable codes.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/index.js';
import type { Delta } from '../../src/engine/types.js';
import { hasCode } from '../../src/core/errors.js';
import { copyModel, editJson, readJson, tinyRandom } from '../helpers/models.js';

let engine: Engine;
test.before(async () => {
  engine = new Engine({ model: tinyRandom, dtype: 'fp32', threads: 1 });
  await engine.start();
});
test.after.always(async () => {
  await engine?.stop();
});

test.serial('the worker gives the PyTorch reference tokens and streams deltas that add up', async (t) => {
  const ref = readJson(join(tinyRandom, 'reference.json')).cases[3];
  const deltas: Delta[] = [];
  const r = await engine.generate({ messages: ref.messages, max_new_tokens: 24 }, { onDelta: (d) => deltas.push(d) });
  t.deepEqual(r.tokens, ref.output_ids);
  t.is(deltas.map((d) => d.text).join(''), r.answer);
  t.is(engine.info.dtype, 'fp32');
  t.is(engine.info.name, 'tiny-random');
  t.is(r.model.file, join(tinyRandom, 'onnx', 'model.onnx'));
  t.is(r.usage.prompt_tokens, ref.input_ids.length);
  t.is(await engine.countPromptTokens({ messages: ref.messages }), ref.input_ids.length);
});

test.serial('a prompt count is answered between forward passes, not after the running generation', async (t) => {
  const abort = new AbortController();
  let finished = false;
  const running = engine
    .generate({ prompt: 'Hello', max_new_tokens: 400 }, { signal: abort.signal }, { useCache: false })
    .then((r) => { finished = true; return r; });
  const ref = readJson(join(tinyRandom, 'reference.json')).cases[3];
  t.is(await engine.countPromptTokens({ messages: ref.messages }), ref.input_ids.length);
  t.false(finished);
  abort.abort();
  t.is((await running).finish_reason, 'cancelled');
});

test.serial('an AbortSignal that fires mid-generation ends it as cancelled, within a step or two', async (t) => {
  const abort = new AbortController();
  let seen = 0;
  const r = await engine.generate(
    { prompt: 'Hello', max_new_tokens: 400 },
    { signal: abort.signal, onDelta: () => { if (++seen === 1) abort.abort(); } },
    { useCache: false }, // slower steps, so the abort lands long before max_new_tokens
  );
  t.is(r.finish_reason, 'cancelled');
  t.true(r.tokens.length < 400, String(r.tokens.length));
});

test.serial('an already aborted signal runs no step at all', async (t) => {
  const abort = new AbortController();
  abort.abort();
  const r = await engine.generate({ prompt: 'Hello', max_new_tokens: 50 }, { signal: abort.signal });
  t.is(r.finish_reason, 'cancelled');
  t.deepEqual(r.tokens, []);
});

test.serial('a deadline already past ends as deadline with no tokens', async (t) => {
  const r = await engine.generate({ prompt: 'Hello', deadline_at: Date.now() - 1 });
  t.is(r.finish_reason, 'deadline');
  t.is(r.usage.completion_tokens, 0);
});

test.serial('forward passes run off the main thread: they go on while the main thread is blocked', async (t) => {
  const ref = readJson(join(tinyRandom, 'reference.json')).cases[3]; // 24 tokens: 24 passes or more
  const counter = engine.passCounter;
  const before = Atomics.load(counter, 0);
  const run = engine.generate({ messages: ref.messages, max_new_tokens: 24 }); // posted to the worker at once
  // From here this thread blocks: no event loop, no timers, no messages. Were the passes on this thread,
  // the counter could not move and the wait would end 'timed-out' (60 s: a guard, not a measure).
  let timedOut = false;
  while (!timedOut && Atomics.load(counter, 0) < before + 3) timedOut = Atomics.wait(counter, 0, Atomics.load(counter, 0), 60_000) === 'timed-out';
  t.false(timedOut);
  t.true(Atomics.load(counter, 0) >= before + 3);
  t.deepEqual((await run).tokens, ref.output_ids);
  t.true(Atomics.load(counter, 0) >= before + ref.output_ids.length);
  // how long the event loop waits is measured, not asserted: `reasond bench --suite eventloop` (docs/BENCHMARKS.md)
});

test.serial('bad requests are refused with stable codes and the engine keeps serving', async (t) => {
  const long = await t.throwsAsync(engine.generate({ prompt: 'x'.repeat(600) }));
  t.true(hasCode(long, 'context_overflow'));
  t.regex(long!.message, /the prompt is 6\d\d tokens; the model's context window is 512 tokens/);
  await t.throwsAsync(engine.countPromptTokens({ prompt: 'x'.repeat(600) }), { message: /context window is 512/ });
  // checkPrompt refuses what generate() would, before anything runs
  const over = await t.throwsAsync(engine.checkPrompt({ prompt: 'x'.repeat(600) }));
  t.true(hasCode(over, 'context_overflow'));
  const none = await t.throwsAsync(engine.checkPrompt({ prompt: '' }));
  t.is(none!.message, 'prompt must be a non-empty string; got ""');
  await t.notThrowsAsync(engine.checkPrompt({ prompt: 'x'.repeat(400) }));

  for (const max of [0, 513, 1.5, -1]) {
    const e = await t.throwsAsync(engine.generate({ prompt: 'Hello', max_new_tokens: max }));
    t.true(hasCode(e, 'invalid_request'));
    t.is(e!.message, `max_new_tokens must be an integer from 1 to 512; got ${max}`);
  }
  const temp = await t.throwsAsync(engine.generate({ prompt: 'Hello', temperature: -1 }));
  t.true(hasCode(temp, 'invalid_request'));
  t.regex(temp!.message, /^temperature must be/);
  const empty = await t.throwsAsync(engine.generate({ prompt: '' }));
  t.is(empty!.message, 'prompt must be a non-empty string; got ""');

  const ok = await engine.generate({ prompt: 'Hello', max_new_tokens: 3 });
  t.deepEqual(ok.tokens, [211, 216, 82]);
});

test('a model folder that does not exist fails start() with model_not_found', async (t) => {
  const e = await t.throwsAsync(new Engine({ model: '/nonexistent/model' }).start());
  t.true(hasCode(e, 'model_not_found'));
});

test('a corrupt ONNX file fails start() with model_invalid, and stop() still works', async (t) => {
  const dir = copyModel(tinyRandom, (d) => writeFileSync(join(d, 'onnx', 'model.onnx'), 'garbage'));
  const bad = new Engine({ model: dir, dtype: 'fp32' });
  const e = await t.throwsAsync(bad.start());
  t.true(hasCode(e, 'model_invalid'));
  await bad.stop();
  t.pass();
});

test('a byte-level tokenizer missing byte symbols refuses text it would silently drop', async (t) => {
  // remove the byte symbol for 0xC3 (first byte of "ü", "Ü", "ñ" ...): this library would drop those characters
  const dir = copyModel(tinyRandom, (d) => editJson(join(d, 'tokenizer.json'), (j) => delete j.model.vocab['Ã']));
  const e2 = new Engine({ model: dir, dtype: 'fp32', threads: 1 });
  await e2.start();
  try {
    const e = await t.throwsAsync(e2.generate({ prompt: 'Grüße' }));
    t.true(hasCode(e, 'invalid_request'));
    t.is(e!.message, `the model's tokenizer cannot represent "üß"; it would be dropped silently`);
    // a short prompt still goes to the worker's tokenizer when the vocabulary may refuse text
    const early = await t.throwsAsync(e2.checkPrompt({ prompt: 'Grüße' }));
    t.is(early!.message, `the model's tokenizer cannot represent "üß"; it would be dropped silently`);
    const ok = await e2.generate({ prompt: 'Hello', max_new_tokens: 2 });
    t.is(ok.tokens.length, 2);
  } finally {
    await e2.stop();
  }
});
