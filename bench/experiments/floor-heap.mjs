// Does a big live heap slow the decode loop (issue 9)? The floor's loop in a worker thread, with and
// without the model's tokenizer (~150 MB of JavaScript objects for Qwen's vocabulary) loaded in the
// same heap, reporting decode tokens/s and the time spent in garbage collection.
//   node bench/experiments/floor-heap.mjs <model dir> <prompt tokens> <new tokens> [reps]
import { Worker } from 'node:worker_threads';

const [dir, promptLen, newTokens, reps = '2'] = process.argv.slice(2);
const body = `
import { parentPort, workerData } from 'node:worker_threads';
import { PerformanceObserver } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
const { Floor } = await import(workerData.root + '/dist/bench/floor.js');
let keep;
if (workerData.tokenizer) {
  const { loadTokenizer } = await import(workerData.root + '/dist/engine/tokenizer.js');
  keep = loadTokenizer(JSON.parse(readFileSync(workerData.dir + '/tokenizer.json', 'utf8')), {});
}
let gcMs = 0, gcs = 0;
new PerformanceObserver((l) => { for (const e of l.getEntries()) { gcMs += e.duration; gcs++; } }).observe({ entryTypes: ['gc'] });
const floor = new Floor(workerData.dir + '/onnx/model_q4.onnx', 2, [-1]);
await floor.start();
const ids = Array.from({ length: workerData.promptLen }, (_, i) => 100 + (i % 1000));
const out = [];
for (let r = 0; r < workerData.reps; r++) {
  const g0 = gcMs, n0 = gcs;
  const run = await floor.generate(ids, workerData.newTokens);
  out.push({ decode_tok_s: +((run.tokens.length - 1) / run.decode_ms * 1000).toFixed(2), decode_ms: Math.round(run.decode_ms), gc_ms: Math.round(gcMs - g0), gcs: gcs - n0 });
}
await floor.stop();
parentPort.postMessage({ tokenizer: workerData.tokenizer, heap_mb: Math.round(process.memoryUsage().heapUsed / 2 ** 20), runs: out, keep: !!keep });
`;
for (const tokenizer of [false, true, false, true]) {
  const w = new Worker(body, { eval: true, workerData: { root: process.cwd(), dir, promptLen: Number(promptLen), newTokens: Number(newTokens), reps: Number(reps), tokenizer } });
  console.log(JSON.stringify(await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
  await w.terminate();
}
