/**
 * The floor (issue 9): the simplest correct greedy loop over onnxruntime-node,
 * with the same model file and session options as the engine. It is the one
 * sanctioned import of onnxruntime-node outside src/engine/onnx-session.ts:
 * the floor must not share the engine's code, or a cost in that code would
 * show in both and the ratio would hide it.
 *
 * Floor runs on the calling thread; FloorInWorker runs it in a worker thread
 * of its own, as the engine runs (the bench uses that one). It feeds the onnx-community inputs
 * (input_ids, attention_mask, position_ids, past_key_values.N.*) and hands
 * each step's present.* outputs back as the next step's past.
 *
 * With `delta`, it drives a graph the engine rewrote (present.* = only the new
 * positions) the simplest way: each step's delta is written into a fresh past
 * array. It checks the engine's tokens on the same rewritten file (issue 13),
 * fed on the engine's schedule (prompt chunks, past padded to the engine's
 * capacity steps and masked): on a random-weight model with int8 activations
 * any other summation order can flip a near-tie, so only the same schedule
 * makes equal tokens a check of the cache and not of rounding.
 */
import os from 'node:os';
import { grownCapacity } from '../engine/kv-cache.js';
import { WorkerClient } from './worker-rpc.js';
import ort from 'onnxruntime-node';
import { performance } from 'node:perf_hooks';

export interface FloorRun {
  tokens: number[];
  first_token_ms: number;
  prefill_ms: number;
  decode_ms: number;
}

export interface FetchCost {
  context: number;
  /** present.* bytes handed to JavaScript per step. */
  present_bytes: number;
  all_outputs_ms: number;
  logits_only_ms: number;
  /** Every output into tensors allocated once beforehand (onnxruntime-node's pre-allocated fetches). */
  preallocated_ms: number;
  /** What a plain JavaScript copy of that many bytes costs, for scale. */
  js_copy_ms: number;
}

const i64 = (values: number[], dims: number[]) => new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);

/** The greedy token at the last position of batch row `row`. */
function argmaxLast(logits: ort.Tensor, row = 0): number {
  const [, seq, vocab] = logits.dims;
  const data = logits.data as Float32Array;
  let best = 0;
  for (let i = 1, base = (row * seq + seq - 1) * vocab; i < vocab; i++) if (data[base + i] > data[base + best]) best = i;
  return best;
}

export class Floor {
  private session?: ort.InferenceSession;
  private layers = 0;
  private kvHeads = 0;
  private headDim = 0;

  constructor(private readonly file: string, private readonly threads: number, private readonly eos: number[], private readonly delta?: { chunk: number; capacity: number }) {}

  async start(): Promise<void> {
    this.session = await ort.InferenceSession.create(this.file, {
      intraOpNumThreads: this.threads > 0 ? this.threads : os.availableParallelism(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      executionProviders: ['cpu'],
    });
    const past = this.session.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n));
    this.layers = past.length;
    const meta = this.session.inputMetadata[this.session.inputNames.indexOf('past_key_values.0.key')] as any;
    this.kvHeads = meta.shape[1];
    this.headDim = meta.shape[3];
  }

  async stop(): Promise<void> {
    await this.session?.release();
    this.session = undefined;
  }

  private emptyPast(len = 0, rows = 1): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    const size = rows * this.kvHeads * len * this.headDim;
    for (let i = 0; i < this.layers; i++) {
      for (const kind of ['key', 'value']) feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(size), [rows, this.kvHeads, len, this.headDim]);
    }
    return feeds;
  }

  /** A pass's present.* outputs as the next pass's past. */
  private pastFrom(out: ort.InferenceSession.OnnxValueMapType): Record<string, ort.Tensor> {
    const past: Record<string, ort.Tensor> = {};
    for (let i = 0; i < this.layers; i++) {
      past[`past_key_values.${i}.key`] = out[`present.${i}.key`] as ort.Tensor;
      past[`past_key_values.${i}.value`] = out[`present.${i}.value`] as ort.Tensor;
    }
    return past;
  }

  /**
   * The minimal batched loop (issue 14): `rows` copies of the prompt in one batch, then `steps`
   * greedy decode steps of one token per row, each step's present.* fed back as the next past. Returns
   * the milliseconds of one decode step (the median); the prompt pass is not timed.
   */
  async batchedStep(promptIds: number[], rows: number, steps: number): Promise<number> {
    const s = this.session!;
    let past = this.emptyPast(0, rows);
    let pending: number[][] = Array.from({ length: rows }, () => promptIds);
    let total = 0;
    const times: number[] = [];
    for (let k = 0; k <= steps; k++) {
      const n = pending[0].length;
      const t = performance.now();
      const out = await s.run({
        ...past,
        input_ids: i64(pending.flat(), [rows, n]),
        attention_mask: i64(new Array(rows * (total + n)).fill(1), [rows, total + n]),
        position_ids: i64(pending.flatMap((p) => p.map((_, i) => total + i)), [rows, n]),
      });
      pending = pending.map((_, r) => [argmaxLast(out.logits, r)]);
      if (k > 0) times.push(performance.now() - t);
      total += n;
      past = this.pastFrom(out);
    }
    return [...times].sort((a, b) => a - b)[times.length >> 1];
  }

  async generate(promptIds: number[], maxNew: number): Promise<FloorRun> {
    if (this.delta) return this.generateDelta(promptIds, maxNew, this.delta);
    const s = this.session!;
    const t0 = performance.now();
    let past = this.emptyPast();
    let pending = promptIds;
    let total = 0;
    const tokens: number[] = [];
    let prefillMs = 0;
    let firstAt = 0;
    while (tokens.length < maxNew) {
      const n = pending.length;
      const stepStart = performance.now();
      const out = await s.run({
        ...past,
        input_ids: i64(pending, [1, n]),
        attention_mask: i64(new Array(total + n).fill(1), [1, total + n]),
        position_ids: i64(pending.map((_, i) => total + i), [1, n]),
      });
      if (tokens.length === 0) prefillMs = performance.now() - stepStart;
      const best = argmaxLast(out.logits);
      total += n;
      past = this.pastFrom(out);
      tokens.push(best);
      if (tokens.length === 1) firstAt = performance.now();
      if (this.eos.includes(best)) break;
      pending = [best];
    }
    return { tokens, first_token_ms: firstAt - t0, prefill_ms: prefillMs, decode_ms: performance.now() - firstAt };
  }

  private async generateDelta(promptIds: number[], maxNew: number, o: { chunk: number; capacity: number }): Promise<FloorRun> {
    const s = this.session!;
    const d = this.headDim;
    const h = this.kvHeads;
    const t0 = performance.now();
    const names = Array.from({ length: this.layers }, (_, i) => [`${i}.key`, `${i}.value`]).flat();
    let caches = names.map(() => new Float32Array(0));
    let cap = 0;
    let total = 0;
    let pending = promptIds;
    const tokens: number[] = [];
    let prefillMs = 0;
    let firstAt = 0;
    while (tokens.length < maxNew) {
      const feed = o.chunk > 0 && pending.length > o.chunk ? pending.slice(0, o.chunk) : pending;
      const n = feed.length;
      const next = grownCapacity(cap, total + n, o.capacity);
      if (next !== cap) {
        caches = caches.map((old) => {
          const grown = new Float32Array(h * next * d);
          for (let j = 0; j < h; j++) grown.set(old.subarray(j * cap * d, j * cap * d + total * d), j * next * d);
          return grown;
        });
        cap = next;
      }
      const mask = [...new Array(total).fill(1), ...new Array(cap - total).fill(0), ...new Array(n).fill(1)];
      const feeds: Record<string, ort.Tensor> = {
        input_ids: i64(feed, [1, n]),
        attention_mask: i64(mask, [1, cap + n]),
        position_ids: i64(feed.map((_, i) => total + i), [1, n]),
      };
      names.forEach((nm, i) => (feeds[`past_key_values.${nm}`] = new ort.Tensor('float32', caches[i], [1, h, cap, d])));
      const stepStart = performance.now();
      const out = await s.run(feeds);
      names.forEach((nm, i) => {
        const delta = out[`present.${nm}`].data as Float32Array;
        for (let j = 0; j < h; j++) caches[i].set(delta.subarray(j * n * d, (j + 1) * n * d), (j * cap + total) * d);
      });
      total += n;
      if (feed.length < pending.length) {
        pending = pending.slice(n);
        continue;
      }
      if (tokens.length === 0) prefillMs = performance.now() - stepStart;
      const best = argmaxLast(out.logits);
      tokens.push(best);
      if (tokens.length === 1) firstAt = performance.now();
      if (this.eos.includes(best)) break;
      pending = [best];
    }
    return { tokens, first_token_ms: firstAt - t0, prefill_ms: prefillMs, decode_ms: performance.now() - firstAt };
  }

  /**
   * Where a decode step's time goes at a given cache length: one step with
   * every output fetched, against the same step asking only for the logits
   * (onnxruntime still computes present.*, it just does not copy them out).
   */
  async fetchCost(context: number, reps: number): Promise<FetchCost> {
    const s = this.session!;
    const feeds = { ...this.emptyPast(context), input_ids: i64([1], [1, 1]), attention_mask: i64(new Array(context + 1).fill(1), [1, context + 1]), position_ids: i64([context], [1, 1]) };
    const all: number[] = [];
    const logitsOnly: number[] = [];
    const pre: number[] = [];
    const first = await s.run(feeds);
    const fetches: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(first)) fetches[name] = new ort.Tensor('float32', new Float32Array((t.data as Float32Array).length), t.dims as number[]);
    for (let r = 0; r < reps; r++) {
      let t = performance.now();
      await s.run(feeds);
      all.push(performance.now() - t);
      t = performance.now();
      await s.run(feeds, ['logits']);
      logitsOnly.push(performance.now() - t);
      t = performance.now();
      await s.run(feeds, fetches);
      pre.push(performance.now() - t);
    }
    const bytes = 2 * this.layers * this.kvHeads * (context + 1) * this.headDim * 4;
    const src = new Float32Array(bytes / 4 / (2 * this.layers));
    const t = performance.now();
    for (let i = 0; i < 2 * this.layers; i++) new Float32Array(src.length).set(src);
    const copy = performance.now() - t;
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
    return { context, present_bytes: bytes, all_outputs_ms: med(all), logits_only_ms: med(logitsOnly), preallocated_ms: med(pre), js_copy_ms: copy };
  }
}

/** The same Floor, in a worker thread of its own; timings are taken inside the worker. */
export class FloorInWorker {
  private readonly client: WorkerClient;

  constructor(file: string, threads: number, eos: number[], delta?: { chunk: number; capacity: number }) {
    this.client = new WorkerClient(import.meta.url, 'floor-worker', { file, threads, eos, delta });
  }

  async start(): Promise<void> {
    this.client.start();
    await this.client.call('start');
  }

  generate(ids: number[], maxNew: number): Promise<FloorRun> {
    return this.client.call('generate', { ids, maxNew });
  }

  fetchCost(context: number, reps: number): Promise<FetchCost> {
    return this.client.call('fetchCost', { context, reps });
  }

  batchedStep(ids: number[], rows: number, steps: number): Promise<number> {
    return this.client.call('batchedStep', { ids, rows, steps });
  }

  stop(): Promise<void> {
    return this.client.stop();
  }
}
