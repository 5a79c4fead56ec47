/**
 * The load-time graph rewrites and the engine's own KV cache (issue 13): on every fixture layout and the
 * shipped model's three files, the rewritten graph with the owned cache gives exactly the plain graph's
 * greedy tokens, and a full recomputation's, with prompts fed in several prefill passes that cross the
 * cache's growth steps. A rewrite that breaks the numbers or does not load falls back to the plain graph.
 */
import test from 'ava';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { generate } from '../../../src/engine/generate.js';
import { loadModel, type LoadedModel } from '../../../src/engine/load-model.js';
import { readModelFolder } from '../../../src/engine/model-folder.js';
import { decodeModel, encodeModel, Graph } from '../../../src/engine/onnx-graph.js';
import { prepareGraph } from '../../../src/engine/prepared-graph.js';
import { activationRounding } from '../../../src/engine/rewrites/index.js';
import { accuracyLevel4 } from '../../../src/engine/rewrites/accuracy-level.js';
import { mergeMatMulNBits } from '../../../src/engine/rewrites/merge-matmul.js';
import { makeTensor, openSession, type Tensor } from '../../../src/engine/onnx-session.js';
import { APPROXIMATE, batchTolerance, EXACT, REQUANTIZED, rewriteTolerance } from '../../../src/engine/self-test.js';
import type { Dtype, GraphRewrites, LoadOptions } from '../../../src/engine/types.js';
import { readJson, shippedModel, tempDir, tinyRandom, tinyRandomCombined, tinyRandomGenai, tinyRandomHf } from '../../helpers/models.js';

const PROMPTS = [
  'Hello',
  // longer than one prefill pass of 16 and than the cache's first 64 positions, so it grows mid-prompt
  'A train leaves at 9:40 and arrives at 11:15. How long is the trip, in hours and minutes? Think it through.',
  'Ann is taller than Ben. Ben is taller than Cal. Who is the tallest?',
];

async function load(dir: string, dtype: Dtype | undefined, mode: GraphRewrites, extra: LoadOptions = {}): Promise<LoadedModel> {
  return loadModel(dir, { dtype, threads: 1, prefill_chunk: 16, graph_rewrites: mode, graph_cache_dir: tempDir('reasond-graphs-'), ...extra });
}

async function tokens(model: LoadedModel, prompt: string, useCache = true, max = 40): Promise<number[]> {
  return (await generate(model, { prompt, max_new_tokens: max, temperature: 0 }, { useCache })).tokens;
}

const cases: { name: string; dir: string; dtype?: Dtype; rewrites: string[] }[] = [
  { name: 'tiny-random fp32 (external data)', dir: tinyRandom, dtype: 'fp32', rewrites: ['delta_kv', 'kv_in_place', 'last_logits', 'argmax'] },
  { name: 'tiny-random int8', dir: tinyRandom, dtype: 'q8', rewrites: ['delta_kv', 'kv_in_place', 'last_logits', 'argmax'] },
  { name: 'tiny-random-hf fp32 (repeat_kv)', dir: tinyRandomHf, dtype: 'fp32', rewrites: ['gqa', 'delta_kv', 'kv_in_place', 'last_logits', 'argmax'] },
  { name: 'tiny-random-hf q4 (repeat_kv)', dir: tinyRandomHf, dtype: 'q4', rewrites: ['gqa', 'delta_kv', 'kv_in_place', 'last_logits', 'argmax'] },
  { name: 'genai layout, fp16 cache', dir: tinyRandomGenai, rewrites: ['delta_kv', 'last_logits', 'argmax'] },
  { name: 'genai layout, combined cache', dir: tinyRandomCombined, rewrites: ['delta_kv', 'last_logits', 'argmax'] },
  { name: 'shipped model fp32', dir: shippedModel, dtype: 'fp32', rewrites: ['delta_kv', 'kv_in_place', 'last_logits', 'argmax'] },
  { name: 'shipped model int8', dir: shippedModel, dtype: 'q8', rewrites: ['delta_kv', 'kv_in_place', 'last_logits', 'argmax'] },
  { name: 'shipped model q4', dir: shippedModel, dtype: 'q4', rewrites: ['delta_kv', 'kv_in_place', 'last_logits', 'argmax'] },
];

for (const c of cases) {
  test(`KV rewrites give the plain graph's greedy tokens and a full recomputation's: ${c.name}`, async (t) => {
    const plain = await load(c.dir, c.dtype, 'off');
    const rewritten = await load(c.dir, c.dtype, 'kv');
    try {
      t.deepEqual(plain.rewrites, []);
      t.deepEqual(rewritten.rewrites, c.rewrites);
      t.true(rewritten.info.kv_cache_bytes > 0);
      for (const prompt of PROMPTS) {
        const want = await tokens(plain, prompt);
        t.is(want.length > 0, true);
        t.deepEqual(await tokens(rewritten, prompt), want, prompt);
        t.deepEqual(await tokens(rewritten, prompt, false), want, `${prompt} (recomputed)`);
      }
    } finally {
      await plain.session.release();
      await rewritten.session.release();
    }
  });
}

test('the repeat_kv graph, rewritten, keeps PyTorch\'s greedy tokens for every fixture prompt', async (t) => {
  const reference = readJson<{ cases: { messages: { role: 'user' | 'system'; content: string }[]; output_ids: number[] }[] }>(join(tinyRandom, 'reference.json')).cases;
  const model = await load(tinyRandomHf, 'fp32', 'kv');
  try {
    t.deepEqual(model.rewrites, ['gqa', 'delta_kv', 'kv_in_place', 'last_logits', 'argmax']);
    for (const c of reference) {
      const r = await generate(model, { messages: c.messages, max_new_tokens: 24, temperature: 0 });
      const eos = c.output_ids.findIndex((id) => id === 258 || id === 256);
      t.deepEqual(r.tokens, eos >= 0 ? c.output_ids.slice(0, eos + 1) : c.output_ids, c.messages.at(-1)!.content);
    }
  } finally {
    await model.session.release();
  }
});

test('the GQA rewrite leaves no Expand in the graph and the delta outputs name the new positions', async (t) => {
  const model = await load(tinyRandomHf, 'fp32', 'kv');
  try {
    const g = new Graph(decodeModel(readFileSync(model.info.graph)));
    t.is(new Graph(decodeModel(readFileSync(join(tinyRandomHf, 'onnx', 'model.onnx')))).nodes.filter((n) => n.opType === 'Expand').length, 4);
    t.is(g.nodes.filter((n) => n.opType === 'Expand').length, 0);
    const present = g.outputs.find((o) => o.name === 'present.0.key')!;
    t.is(present.type!.tensorType!.shape!.dim![2].dimParam, 'sequence_length');
    t.is(g.outputs.find((o) => o.name === 'logits')!.type!.tensorType!.shape!.dim![1].dimParam, '1');
  } finally {
    await model.session.release();
  }
});

test('kv_in_place leaves no Concat of a past input: every present output is the new positions as computed', async (t) => {
  const model = await load(tinyRandomHf, 'fp32', 'kv');
  try {
    const g = new Graph(decodeModel(readFileSync(model.info.graph)));
    const past = new Set(g.inputs.map((i) => i.name!).filter((n) => n.startsWith('past_key_values.')));
    t.is(past.size, 4);
    const original = new Graph(decodeModel(readFileSync(join(tinyRandomHf, 'onnx', 'model.onnx'))));
    t.is(original.nodes.filter((n) => n.opType === 'Concat' && past.has(n.input[0])).length, 4);
    t.is(g.nodes.filter((n) => n.opType === 'Concat' && n.input.some((i) => past.has(i))).length, 0);
    for (const name of [...past].map((p) => p.replace('past_key_values.', 'present.'))) t.is(g.producer(name)!.opType, 'Identity', name);
    // a key's past feeds only its layout chain into the scores; a value's past also gives its length, where the weights split
    for (const p of past) t.is(g.consumersOf(p).filter((n) => n.opType === 'Shape').length + g.consumersOf(p).filter((n) => n.opType === 'Unsqueeze').length, p.endsWith('.key') ? 1 : 2, p);
  } finally {
    await model.session.release();
  }
  // a cache read through a cast (the genai fixture's fp16 cache) is left as it was, saying why
  const spec = readModelFolder(tinyRandomGenai);
  const logs: string[] = [];
  const genai = await prepareGraph(spec, [1, 2, 3, 4], { threads: 1, rewrites: 'kv', cacheDir: tempDir() }, (l) => logs.push(l));
  try {
    t.deepEqual(genai.rewrites, ['delta_kv', 'last_logits', 'argmax']);
    t.regex(genai.note, /not applied: gqa \(.*\), kv_in_place \(cache\.0\.key is not a slice of Concat\(past\.0\.key, new positions\), nor 3 other cache outputs\)\)$/);
  } finally {
    await genai.session.release();
  }
});

test('accuracy_level 4 is added to a 4-bit file that lacks it, within the self-test tolerance', async (t) => {
  const model = await load(tinyRandomHf, 'q4', 'all');
  const plain = await load(tinyRandomHf, 'q4', 'off');
  try {
    t.deepEqual(model.rewrites, ['gqa', 'delta_kv', 'kv_in_place', 'last_logits', 'argmax', 'merge_matmul', 'accuracy_level_4']);
    const g = new Graph(decodeModel(readFileSync(model.info.graph)));
    const nbits = g.nodes.filter((n) => n.opType === 'MatMulNBits');
    t.true(nbits.length > 0);
    t.deepEqual(nbits.map((n) => g.attrInt(n, 'accuracy_level')), nbits.map(() => 4));
    // int8 activations approximate: the served graph passed the looser self-test, and answers
    const note = /largest logit difference (\d+\.\d+)% of range/.exec(model.info.graph_note)!;
    t.true(Number(note[1]) > 0 && Number(note[1]) <= 8, note[0]);
    t.is((await tokens(model, PROMPTS[0])).length, (await tokens(plain, PROMPTS[0])).length);
  } finally {
    await model.session.release();
    await plain.session.release();
  }
});

/** The plain graph's logits for `ids` in one pass from an empty cache. */
async function passLogits(path: string, ids: number[]): Promise<Float32Array> {
  const session = await openSession(path, { threads: 1 });
  try {
    const n = ids.length;
    const feeds: Record<string, Tensor> = {
      input_ids: makeTensor('int64', BigInt64Array.from(ids, BigInt), [1, n]),
      attention_mask: makeTensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
      position_ids: makeTensor('int64', BigInt64Array.from(ids, (_, i) => BigInt(i)), [1, n]),
    };
    for (const i of session.inputs.filter((x) => x.name.startsWith('past_key_values.'))) feeds[i.name] = makeTensor('float32', new Float32Array(0), [1, 2, 0, 16]);
    return (await session.run(feeds, ['logits'])).logits.data as Float32Array;
  } finally {
    await session.release();
  }
}

test('merge_matmul makes one 4-bit product of those that read one input, with the same numbers at accuracy_level 0', async (t) => {
  const path = readModelFolder(tinyRandomHf, 'q4').onnxPath;
  const g = new Graph(decodeModel(readFileSync(path)));
  const widths = (graph: Graph) => graph.nodes.filter((n) => n.opType === 'MatMulNBits').map((n) => graph.attrInt(n, 'N'));
  // per layer: q 64, k 32, v 32, o 64, gate 128, up 128, down 64; then the LM head
  t.deepEqual(widths(g), [64, 32, 32, 64, 128, 128, 64, 64, 32, 32, 64, 128, 128, 64, 261]);
  t.is(mergeMatMulNBits(g), undefined);
  // o and down of each layer and the LM head stay; the merged products come after: q+k+v 128, gate+up 256
  t.deepEqual(widths(g), [64, 64, 64, 64, 261, 128, 256, 128, 256]);
  const order = g.nodes.filter((n) => n.opType === 'MatMulNBits').map((n) => n.input[0]);
  t.is(new Set(order).size, order.length, 'no two products read the same input');
  const splits = g.nodes.filter((n) => n.opType === 'Split');
  t.deepEqual(splits.map((n) => g.constInts(n.input[1])), [[64, 32, 32], [128, 128], [64, 32, 32], [128, 128]]);
  // the parts' outputs keep their names, so what read them reads the Split
  t.deepEqual(splits[0].output, ['/m/layers.0/q_proj/MatMul_output_0', '/m/layers.0/k_proj/MatMul_output_0', '/m/layers.0/v_proj/MatMul_output_0']);
  const dir = tempDir('reasond-merged-');
  writeFileSync(join(dir, 'merged.onnx'), encodeModel(g.model));
  const ids = [1, 17, 42, 99, 7, 3, 250, 12, 64, 5];
  t.deepEqual(await passLogits(join(dir, 'merged.onnx'), ids), await passLogits(path, ids));

  // weights kept outside the graph, and graphs without 4-bit products, are left as they were, saying why
  const external = new Graph(decodeModel(readFileSync(path)));
  external.externalize('weights.data');
  t.regex(mergeMatMulNBits(external)!, /: onnx::MatMul_\d+_Q4 is stored outside the graph/);
  t.is(mergeMatMulNBits(new Graph(decodeModel(readFileSync(readModelFolder(tinyRandomHf, 'fp32').onnxPath)))), 'no two MatMulNBits read the same input');
});

function negateLogits(bytes: Uint8Array): Uint8Array {
  const g = new Graph(decodeModel(bytes));
  const head = g.producer('logits')!;
  head.output[0] = 'logits_before_sabotage';
  g.add('Neg', ['logits_before_sabotage'], {}, 'logits');
  return encodeModel(g.model);
}

test('a rewrite that changes the numbers fails the self-test; the plain graph is served and answers', async (t) => {
  const spec = readModelFolder(tinyRandomHf, 'fp32');
  const logs: string[] = [];
  const choice = await prepareGraph(spec, [1, 2, 3, 4, 5, 6, 7, 8], { threads: 1, rewrites: 'kv', cacheDir: tempDir(), sabotage: negateLogits }, (l) => logs.push(l));
  try {
    t.deepEqual(choice.rewrites, []);
    t.is(choice.path, spec.onnxPath);
    t.regex(choice.note, /^plain graph \(gqa, delta_kv, kv_in_place, last_logits, argmax: pass 0: logits differ by .+ of their range; allowed 0\.50%\)\)$/);
    t.regex(logs.join('\n'), /graph rewrite \(gqa, delta_kv, kv_in_place, last_logits, argmax\) not used: pass 0: logits differ/);
  } finally {
    await choice.session.release();
  }
  const plain = await load(tinyRandomHf, 'fp32', 'off');
  try {
    t.deepEqual(plain.rewrites, []);
    t.true((await tokens(plain, 'Hello')).length > 0);
  } finally {
    await plain.session.release();
  }
});

test('a rewritten graph onnxruntime refuses falls back to the plain graph, with the reason', async (t) => {
  const spec = readModelFolder(tinyRandom, 'q8');
  const choice = await prepareGraph(spec, [1, 2, 3, 4], { threads: 1, rewrites: 'kv', cacheDir: tempDir(), sabotage: (b) => b.subarray(0, b.length >> 1) }, () => {});
  try {
    t.deepEqual(choice.rewrites, []);
    t.regex(choice.note, /^plain graph \(delta_kv, kv_in_place, last_logits, argmax: onnxruntime refused it: /);
  } finally {
    await choice.session.release();
  }
});

test('the verdict is kept by file: a second load opens the rewritten graph without a self-test', async (t) => {
  const cacheDir = tempDir();
  const spec = readModelFolder(tinyRandom, 'q8');
  const first = await prepareGraph(spec, [1, 2, 3, 4], { threads: 1, rewrites: 'kv', cacheDir }, () => {});
  await first.session.release();
  t.regex(first.note, /^rewritten graph \(delta_kv, kv_in_place, last_logits, argmax; self-test passed, largest logit difference 0\.\d+% of range; not applied: gqa \(no repeat_kv/);
  const second = await prepareGraph(spec, [1, 2, 3, 4], { threads: 1, rewrites: 'kv', cacheDir }, () => {});
  try {
    t.is(second.path, first.path);
    t.true(second.path.startsWith(cacheDir));
    t.regex(second.note, /^rewritten graph \(delta_kv, kv_in_place, last_logits, argmax; self-test passed, cached in /);
  } finally {
    await second.session.release();
  }
});

test('activation rounding is read from the graph, not the file name: it picks the self-test and batch tolerances', (t) => {
  const graphOf = (dir: string, dtype: Dtype) => new Graph(decodeModel(readFileSync(readModelFolder(dir, dtype).onnxPath)));
  t.is(activationRounding(graphOf(shippedModel, 'q4')), 'int8_blocks');
  t.is(activationRounding(graphOf(shippedModel, 'q8')), 'requantized');
  t.is(activationRounding(graphOf(shippedModel, 'fp32')), 'none');
  t.is(activationRounding(graphOf(tinyRandom, 'q8')), 'requantized');
  // a 4-bit file at accuracy_level 0 keeps float activations until the rewrite raises it
  const hf = graphOf(tinyRandomHf, 'q4');
  t.is(activationRounding(hf), 'none');
  t.is(accuracyLevel4(hf), undefined);
  t.is(activationRounding(hf), 'int8_blocks');

  t.is(rewriteTolerance(['gqa', 'delta_kv', 'kv_in_place', 'last_logits', 'argmax', 'accuracy_level_4'], 'int8_blocks'), APPROXIMATE);
  t.is(rewriteTolerance(['delta_kv', 'kv_in_place', 'last_logits', 'argmax'], 'int8_blocks'), REQUANTIZED);
  t.is(rewriteTolerance(['delta_kv', 'argmax'], 'requantized'), REQUANTIZED);
  t.is(rewriteTolerance(['delta_kv', 'kv_in_place', 'last_logits', 'argmax'], 'none'), EXACT);
  t.is(batchTolerance('int8_blocks'), APPROXIMATE);
  t.is(batchTolerance('requantized'), REQUANTIZED);
  t.is(batchTolerance('none'), undefined);
});

test('the verdict keeps the served graph\'s activation rounding, so a cached start batches by the same rule as the first', async (t) => {
  const cacheDir = tempDir();
  const spec = readModelFolder(shippedModel, 'q4');
  const first = await prepareGraph(spec, [1, 2, 3, 4], { threads: 1, rewrites: 'all', cacheDir }, () => {});
  await first.session.release();
  t.is(first.rounding, 'int8_blocks');
  const verdict = readJson(join(dirname(first.path), 'verdict-all.json')) as { served: { rounding: string } };
  t.is(verdict.served.rounding, 'int8_blocks');
  const second = await prepareGraph(spec, [1, 2, 3, 4], { threads: 1, rewrites: 'all', cacheDir }, () => {});
  try {
    t.regex(second.note, /cached in /);
    t.is(second.rounding, 'int8_blocks');
  } finally {
    await second.session.release();
  }
});

test('context_tokens and max_batch size the KV cache and the context window; an invalid value is refused before loading', async (t) => {
  const model = await load(tinyRandom, 'q8', 'kv', { context_tokens: 128, max_batch: 3 });
  try {
    t.is(model.info.context_length, 128);
    t.is(model.info.max_batch, 3);
    // 3 rows x 2 layers x (key + value) x 2 kv heads x 128 positions x 16 dims x 4 bytes
    t.is(model.info.kv_cache_bytes, 3 * 2 * 2 * 2 * 128 * 16 * 4);
  } finally {
    await model.session.release();
  }
  const e = await t.throwsAsync(load(tinyRandom, 'q8', 'kv', { context_tokens: -1 }));
  t.is(e!.message, 'context_tokens must be a whole number of tokens, 0 or more; got -1');
  for (const bad of [0, 65, 1.5]) {
    const e2 = await t.throwsAsync(load(tinyRandom, 'q8', 'kv', { max_batch: bad }));
    t.is(e2!.message, `max_batch must be a whole number from 1 to 64; got ${bad}`);
  }
});

test('a max_batch whose KV cache does not fit the memory available is refused at load, saying how much each needs', async (t) => {
  // available_memory stands in for a board with 1 MiB to spare: 4 rows of 512 positions take exactly that, 5 do not
  const e = await t.throwsAsync(load(tinyRandom, 'q8', 'kv', { max_batch: 5, available_memory: 2 ** 20 }));
  t.is((e as { code?: string }).code, 'invalid_config');
  t.is(e!.message, 'max_batch 5 x context_tokens 512 needs a KV cache of 1.3 MiB, and 1.0 MiB of memory is available: lower max_batch or context_tokens');
  const fits = await load(tinyRandom, 'q8', 'kv', { max_batch: 4, available_memory: 2 ** 20 });
  t.is(fits.info.kv_cache_bytes, 2 ** 20);
  await fits.session.release();
});

test('a graph cache that cannot be written serves the plain graph, saying why', async (t) => {
  const file = join(tempDir(), 'not-a-folder');
  writeFileSync(file, 'x');
  const logs: string[] = [];
  const choice = await prepareGraph(readModelFolder(tinyRandom, 'q8'), [1, 2, 3, 4], { threads: 1, rewrites: 'kv', cacheDir: file }, (l) => logs.push(l));
  try {
    t.deepEqual(choice.rewrites, []);
    t.regex(choice.note, /^plain graph \(graph rewrites skipped: ENOTDIR: not a directory, mkdir /);
    t.is(logs.length, 1);
  } finally {
    await choice.session.release();
  }
});

test('the graph cache keeps the graph in use, the two most recently used others, and any used in the last ten minutes', async (t) => {
  const cacheDir = tempDir();
  const hoursAgo = ['a-r1', 'b-r1', 'c-r1', 'd-r1'];
  const aged = (name: string, ms: number) => {
    mkdirSync(join(cacheDir, name));
    const when = new Date(Date.now() - ms);
    utimesSync(join(cacheDir, name), when, when);
  };
  hoursAgo.forEach((name, i) => aged(name, (i + 1) * 3600_000));
  aged('e-r1', 9 * 60_000); // another process may be opening it
  aged('.staging-f-r1-abc123', 2 * 3600_000); // a crashed process's, not yet stale
  aged('.staging-g-r1-def456', 25 * 3600_000); // stale
  const choice = await prepareGraph(readModelFolder(tinyRandom, 'q8'), [1, 2, 3, 4], { threads: 1, rewrites: 'kv', cacheDir }, () => {});
  await choice.session.release();
  const left = readdirSync(cacheDir).sort();
  t.deepEqual(left.filter((n) => n !== basename(dirname(choice.path))), ['.staging-f-r1-abc123', 'a-r1', 'e-r1', 'sha256-index.json']);
});

test('two loads of one file racing on one graph cache both serve the rewritten graph and leave no private folder behind', async (t) => {
  const cacheDir = tempDir();
  const spec = readModelFolder(tinyRandom, 'q8');
  const [a, b] = await Promise.all([0, 1].map(() => prepareGraph(spec, [1, 2, 3, 4], { threads: 1, rewrites: 'kv', cacheDir }, () => {})));
  try {
    t.deepEqual(a.rewrites, ['delta_kv', 'kv_in_place', 'last_logits', 'argmax']);
    t.deepEqual(b.rewrites, ['delta_kv', 'kv_in_place', 'last_logits', 'argmax']);
    t.is(a.path, b.path);
    t.deepEqual(readdirSync(cacheDir).sort(), [basename(dirname(a.path)), 'sha256-index.json'].sort());
    t.deepEqual(readdirSync(dirname(a.path)).sort(), ['rewritten-kv-last.onnx', 'rewritten-kv-last.onnx_data', 'verdict-kv.json']);
  } finally {
    await a.session.release();
    await b.session.release();
  }
});

test('a cached graph that no longer loads is made again, saying why', async (t) => {
  const cacheDir = tempDir();
  const spec = readModelFolder(tinyRandom, 'q8');
  const first = await prepareGraph(spec, [1, 2, 3, 4], { threads: 1, rewrites: 'kv', cacheDir }, () => {});
  await first.session.release();
  writeFileSync(first.path, 'truncated');
  const logs: string[] = [];
  const second = await prepareGraph(spec, [1, 2, 3, 4], { threads: 1, rewrites: 'kv', cacheDir }, (l) => logs.push(l));
  try {
    t.regex(logs[0], /^graph cache not used: onnxruntime could not load .*rewritten-kv-last\.onnx/);
    t.regex(second.note, /^rewritten graph \(delta_kv, kv_in_place, last_logits, argmax; self-test passed, largest logit difference/);
    t.is(second.path, first.path);
  } finally {
    await second.session.release();
  }
});
