// Where a session's memory goes (issue 9): RSS of a bare Node process holding one onnxruntime
// session on a model file, after loading it and at the peak of a greedy decode, with the
// session's memory options switched one at a time. Run each configuration in its own process:
//   node bench/experiments/session-memory.mjs <model.onnx> <arena 0|1> <pattern 0|1> <prompt> <steps> [prepack 0|1] [shrink 0|1]
// shrink=1 asks onnxruntime to hand the arena's free chunks back after every run
// (run option memory.enable_memory_arena_shrinkage = cpu:0).
import ort from 'onnxruntime-node';

const [file, arena, pattern, promptLen, steps, prepack = '1', shrink = '0'] = process.argv.slice(2);
const runOptions = shrink === '1' ? { extra: { memory: { enable_memory_arena_shrinkage: 'cpu:0' } } } : {};
const mb = (b) => Math.round(b / 2 ** 20);
const base = mb(process.memoryUsage().rss);
const session = await ort.InferenceSession.create(file, {
  intraOpNumThreads: 2, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
  enableCpuMemArena: arena === '1', enableMemPattern: pattern === '1',
  extra: { session: { disable_prepacking: prepack === '1' ? '0' : '1' } },
});
const loaded = mb(process.memoryUsage().rss);
const names = session.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n));
const meta = session.inputMetadata[session.inputNames.indexOf('past_key_values.0.key')];
const [kv, hd] = [meta.shape[1], meta.shape[3]];
const i64 = (v, d) => new ort.Tensor('int64', BigInt64Array.from(v, BigInt), d);
let past = {};
for (let i = 0; i < names.length; i++) for (const k of ['key', 'value']) past[`past_key_values.${i}.${k}`] = new ort.Tensor('float32', new Float32Array(0), [1, kv, 0, hd]);
let pending = Array.from({ length: Number(promptLen) }, (_, i) => 100 + (i % 1000));
let total = 0;
let peak = loaded;
const t0 = Date.now();
for (let s = 0; s < Number(steps); s++) {
  const n = pending.length;
  const out = await session.run({ ...past, input_ids: i64(pending, [1, n]), attention_mask: i64(new Array(total + n).fill(1), [1, total + n]), position_ids: i64(pending.map((_, i) => total + i), [1, n]) }, runOptions);
  total += n;
  past = {};
  for (let i = 0; i < names.length; i++) for (const k of ['key', 'value']) past[`past_key_values.${i}.${k}`] = out[`present.${i}.${k}`];
  pending = [1];
  peak = Math.max(peak, mb(process.memoryUsage().rss));
}
console.log(JSON.stringify({ arena: arena === '1', shrink: shrink === '1', mem_pattern: pattern === '1', prepacking: prepack === '1', prompt: Number(promptLen), steps: Number(steps), rss_node_mb: base, rss_loaded_mb: loaded, rss_peak_mb: peak, rss_end_mb: mb(process.memoryUsage().rss), seconds: (Date.now() - t0) / 1000 }));
await session.release();
