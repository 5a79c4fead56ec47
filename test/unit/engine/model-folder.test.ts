/** Reading model folders: layouts, dtype choice, and the errors a user sees. */
import test from 'ava';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCode } from '../../../src/core/errors.js';
import { generate } from '../../../src/engine/generate.js';
import { loadModel } from '../../../src/engine/load-model.js';
import { parseDtype, readModelFolder } from '../../../src/engine/model-folder.js';
import { copyModel, tempDir, tinyRandom, tinyRandomGenai } from '../../helpers/models.js';

test('the default dtype order picks the int8 file when there is no q4 file, and says so', (t) => {
  const spec = readModelFolder(tinyRandom);
  t.is(spec.dtype, 'q8');
  t.is(spec.onnxPath, join(tinyRandom, 'onnx', 'model_quantized.onnx'));
  t.deepEqual(spec.eosTokenIds, [258, 256]);
  t.is(spec.contextLength, 512);
  t.is(spec.layout, 'hf');
});

test('an explicit dtype picks its file; quantized and int8 mean q8', (t) => {
  t.is(readModelFolder(tinyRandom, 'fp32').onnxPath, join(tinyRandom, 'onnx', 'model.onnx'));
  t.is(parseDtype('quantized'), 'q8');
  t.is(parseDtype('int8'), 'q8');
  const e = t.throws(() => parseDtype('q3'))!;
  t.true(hasCode(e, 'invalid_request'));
  t.regex(e.message, /dtype "q3" is not one of q4, q4f16, q8, fp16, fp32/);
});

test('a dtype whose file is absent names the file it looked for and the files there are', (t) => {
  const e = t.throws(() => readModelFolder(tinyRandom, 'q4'))!;
  t.true(hasCode(e, 'model_invalid'));
  t.regex(e.message, /looked for model_q4\.onnx; it has model\.onnx, model_quantized\.onnx/);
});

test('the genai layout reads genai_config.json: file, name templates, eos ids, context', (t) => {
  const spec = readModelFolder(tinyRandomGenai);
  t.is(spec.layout, 'genai');
  t.is(spec.onnxPath, join(tinyRandomGenai, 'model.onnx'));
  t.is(spec.ioNames.pastKey, 'past.%d.key');
  t.is(spec.ioNames.presentValue, 'cache.%d.value');
  t.deepEqual(spec.eosTokenIds, [258, 256]);
  t.is(spec.contextLength, 512);
});

test('the genai graph (int32 ids, no position_ids, fp16 cache) runs through the same engine', async (t) => {
  const model = await loadModel(tinyRandomGenai, { threads: 1 });
  try {
    t.is(model.io.idType, 'int32');
    t.is(model.io.maskType, 'int32');
    t.is(model.io.positionIds, undefined);
    t.is(model.io.kvType, 'float16');
    t.is(model.io.cache.length, 4);
    t.deepEqual(model.io.cache.slice(2), [{ past: 'past.1.key', present: 'cache.1.key' }, { past: 'past.1.value', present: 'cache.1.value' }]);
    // the fp16 cache round-trips step to step: the tokens of a full recomputation
    const req = { prompt: 'Hello there', max_new_tokens: 12, temperature: 0 };
    const cached = await generate(model, req);
    t.is(cached.tokens.length, 12);
    t.deepEqual(cached.tokens, (await generate(model, req, { useCache: false })).tokens);
  } finally {
    await model.session.release();
  }
});

test('a missing model folder is model_not_found and names the path', (t) => {
  const e = t.throws(() => readModelFolder('/nonexistent/model'))!;
  t.true(hasCode(e, 'model_not_found'));
  t.is(e.message, 'model folder /nonexistent/model does not exist');
});

test('a folder that is not a model says which files it expected', (t) => {
  const dir = tempDir();
  const e = t.throws(() => readModelFolder(dir))!;
  t.true(hasCode(e, 'model_invalid'));
  t.regex(e.message, /neither config\.json \(onnx-community layout\) nor genai_config\.json/);
});

test('a folder with no ONNX file is model_invalid and says so', (t) => {
  const dir = copyModel(tinyRandom, (d) => rmSync(join(d, 'onnx'), { recursive: true }));
  const e = t.throws(() => readModelFolder(dir))!;
  t.true(hasCode(e, 'model_invalid'));
  t.regex(e.message, /no ONNX file for dtype any in .*\/onnx: looked for model_q4\.onnx, model_quantized\.onnx.*; it has no \.onnx file/);
});

test('a missing tokenizer.json is named', (t) => {
  const dir = copyModel(tinyRandom, (d) => rmSync(join(d, 'tokenizer.json')));
  const e = t.throws(() => readModelFolder(dir))!;
  t.true(hasCode(e, 'model_invalid'));
  t.regex(e.message, /model folder is missing .*tokenizer\.json/);
});

test('a corrupt ONNX file is model_invalid with onnxruntime\'s reason', async (t) => {
  const dir = copyModel(tinyRandom, (d) => writeFileSync(join(d, 'onnx', 'model_quantized.onnx'), 'this is not a protobuf'));
  const e = await t.throwsAsync(loadModel(dir, { threads: 1 }));
  t.true(hasCode(e, 'model_invalid'));
  t.regex(e!.message, /onnxruntime could not load .*model_quantized\.onnx/);
});

test('an ONNX file that is not a decoder with a KV cache names what is missing', async (t) => {
  // the genai graph under onnx-community names: its past/present names do not match
  const dir = copyModel(tinyRandom, (d) => {
    rmSync(join(d, 'onnx'), { recursive: true });
    mkdirSync(join(d, 'onnx'));
    writeFileSync(join(d, 'onnx', 'model.onnx'), '');
  });
  rmSync(join(dir, 'onnx', 'model.onnx'));
  const { copyFileSync } = await import('node:fs');
  copyFileSync(join(tinyRandomGenai, 'model.onnx'), join(dir, 'onnx', 'model.onnx'));
  const e = await t.throwsAsync(loadModel(dir, { threads: 1 }));
  t.true(hasCode(e, 'model_invalid'));
  t.regex(e!.message, /is not a decoder with a KV cache this engine can drive: missing KV-cache inputs named like past_key_values\.%d\.key/);
});

test('an execution provider that cannot load is logged and CPU is used', async (t) => {
  const lines: string[] = [];
  const model = await loadModel(tinyRandom, { threads: 1, execution_providers: ['cuda'] }, (l) => lines.push(l));
  try {
    t.is(model.info.execution_provider, 'cpu');
    t.regex(lines[0], /^execution provider cuda failed to load \(.+\); falling back$/);
    t.regex(lines[1], /^graph: rewritten graph \(delta_kv, kv_in_place, last_logits, argmax; self-test passed/);
    t.regex(lines[2], /^model tiny-random: hf layout, file .*model_quantized\.onnx \(dtype q8\), 2 layers, 2 kv heads x 16, ids int64, position_ids, cache float32, context 512, KV cache 1\.0 MiB reserved for 4 x 512 positions, cpu x1 threads$/);
    t.is(lines.length, 3);
  } finally {
    await model.session.release();
  }
});
