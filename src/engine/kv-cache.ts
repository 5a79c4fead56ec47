/**
 * The past key/values between forward passes, and the step inputs that go
 * with them (ids, attention mask, positions), in two kinds:
 *
 * - OwnedKvCache (issue 13), for a graph whose present.* outputs are only the
 *   new positions (rewrites/delta-kv.ts). Fixed buffers allocated once per
 *   loaded model, head-major [rows of head_dim per head, capacity]; each pass
 *   writes only the new positions, and onnxruntime-node reads the past as views
 *   of them (it reads inputs in place but copies every output). The graph sees
 *   a past of `cap` positions, where cap grows in steps of 64 and the slots past
 *   the filled length are masked out: a prefix of a head-major buffer is not
 *   contiguous, a padded one is. Growing re-lays the heads in place
 *   (copyWithin, last head first), so nothing is allocated per step.
 * - FeedbackKvCache, for a plain graph: each pass's present.* outputs are fed
 *   back as the next pass's past (the onnx-community contract, no rewrite).
 */
import { ReasondError } from '../core/errors.js';
import { cacheDims, cacheHeads, type DecoderIo } from './graph-io.js';
import { makeTensor, type Tensor } from './onnx-session.js';

export interface KvCache {
  /** Positions already in the cache. */
  readonly seqLength: number;
  /** Feeds for one forward pass over `tokens` at the cache's end: ids, mask, positions and past. */
  feeds(tokens: readonly number[]): Record<string, Tensor>;
  /** Takes a pass's present.* outputs in (and releases them). */
  update(outputs: Record<string, Tensor>, added: number): void;
  /** Empties the cache for the next generation. */
  reset(): void;
}

type IntArray = BigInt64Array | Int32Array;
const intArray = (type: 'int64' | 'int32', n: number): IntArray => (type === 'int64' ? new BigInt64Array(n) : new Int32Array(n));
const fillInt = (a: IntArray, v: number, from: number, to: number) =>
  a instanceof BigInt64Array ? a.fill(BigInt(v), from, to) : a.fill(v, from, to);

/** Capacity grows in multiples of this many positions, and by at least half again. */
const GRANULE = 64;

/** The padded past length the graph sees once `needed` positions must fit (at most `max`). */
export function grownCapacity(cap: number, needed: number, max: number): number {
  if (needed <= cap) return cap;
  return Math.min(max, Math.ceil(Math.max(needed, Math.floor(cap * 1.5)) / GRANULE) * GRANULE);
}

export class OwnedKvCache implements KvCache {
  seqLength = 0;
  private cap = 0;
  private readonly heads: number;
  private readonly buffers: (Float32Array | Uint16Array)[];
  private ids: IntArray;
  private pos: IntArray;
  private mask: IntArray;

  constructor(private readonly io: DecoderIo, readonly capacity: number) {
    this.heads = cacheHeads(io);
    const size = this.heads * capacity * io.headDim;
    this.buffers = io.cache.map(() => (io.kvType === 'float16' ? new Uint16Array(size) : new Float32Array(size)));
    this.ids = intArray(io.idType, GRANULE);
    this.pos = intArray(io.positionType, GRANULE);
    this.mask = intArray(io.maskType, capacity + GRANULE);
  }

  /** Bytes reserved for keys and values. */
  get bytes(): number {
    return this.buffers.reduce((a, b) => a + b.byteLength, 0);
  }

  feeds(tokens: readonly number[]): Record<string, Tensor> {
    const n = tokens.length;
    const io = this.io;
    const past = this.seqLength;
    if (past + n > this.capacity) {
      throw new ReasondError('context_overflow', `${past + n} positions exceed the KV cache's ${this.capacity}`);
    }
    this.reserve(past + n);
    if (this.ids.length < n) {
      this.ids = intArray(io.idType, n);
      this.pos = intArray(io.positionType, n);
    }
    if (this.mask.length < this.cap + n) this.mask = intArray(io.maskType, this.cap + n);
    for (let i = 0; i < n; i++) {
      fillInt(this.ids, tokens[i], i, i + 1);
      fillInt(this.pos, past + i, i, i + 1);
    }
    // [0, past) filled: 1; [past, cap) free slots: 0; [cap, cap + n) this pass: 1.
    fillInt(this.mask, 1, 0, past);
    fillInt(this.mask, 0, past, this.cap);
    fillInt(this.mask, 1, this.cap, this.cap + n);

    const feeds: Record<string, Tensor> = {
      [io.inputIds]: makeTensor(io.idType, this.ids.subarray(0, n), [1, n]),
    };
    if (io.attentionMask) feeds[io.attentionMask] = makeTensor(io.maskType, this.mask.subarray(0, this.cap + n), [1, this.cap + n]);
    if (io.positionIds) feeds[io.positionIds] = makeTensor(io.positionType, this.pos.subarray(0, n), [1, n]);
    const dims = cacheDims(io, this.cap);
    const used = this.heads * this.cap * io.headDim;
    io.cache.forEach((c, i) => (feeds[c.past] = makeTensor(io.kvType, this.buffers[i].subarray(0, used), dims)));
    return feeds;
  }

  update(outputs: Record<string, Tensor>, added: number): void {
    const hd = this.io.headDim;
    const at = this.seqLength;
    this.io.cache.forEach((c, i) => {
      const t = outputs[c.present];
      const delta = t.data as Float32Array | Uint16Array;
      const buf = this.buffers[i];
      const seq = t.dims[t.dims.length - 2];
      if (seq !== added) {
        throw new ReasondError('internal', `${c.present} has ${seq} positions; the rewritten graph should return the ${added} just fed`);
      }
      for (let h = 0; h < this.heads; h++) buf.set(delta.subarray(h * added * hd, (h + 1) * added * hd), (h * this.cap + at) * hd);
      t.dispose?.();
    });
    this.seqLength += added;
  }

  reset(): void {
    this.seqLength = 0;
  }

  /** Makes room for `needed` positions, re-laying the filled ones in place when the capacity grows. */
  private reserve(needed: number): void {
    if (needed <= this.cap) return;
    const next = grownCapacity(this.cap, needed, this.capacity);
    const hd = this.io.headDim;
    const filled = this.seqLength * hd;
    if (filled > 0) {
      // Head h moves from h*cap to h*next (next > cap): last head first, so nothing is overwritten unread.
      for (const buf of this.buffers) for (let h = this.heads - 1; h > 0; h--) buf.copyWithin(h * next * hd, h * this.cap * hd, h * this.cap * hd + filled);
    }
    this.cap = next;
  }
}

const intTensor = (type: 'int64' | 'int32', values: number[], dims: number[]): Tensor =>
  type === 'int64' ? makeTensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims) : makeTensor('int32', Int32Array.from(values), dims);

export class FeedbackKvCache implements KvCache {
  private tensors = new Map<string, Tensor>();
  seqLength = 0;

  constructor(private readonly io: DecoderIo) {}

  feeds(tokens: readonly number[]): Record<string, Tensor> {
    const io = this.io;
    const past = this.seqLength;
    const n = tokens.length;
    const feeds: Record<string, Tensor> = { [io.inputIds]: intTensor(io.idType, [...tokens], [1, n]) };
    if (io.attentionMask) feeds[io.attentionMask] = intTensor(io.maskType, new Array(past + n).fill(1), [1, past + n]);
    if (io.positionIds) feeds[io.positionIds] = intTensor(io.positionType, tokens.map((_, i) => past + i), [1, n]);
    for (const c of io.cache) feeds[c.past] = this.tensors.get(c.past) ?? this.empty();
    return feeds;
  }

  update(outputs: Record<string, Tensor>, added: number): void {
    this.release();
    for (const c of this.io.cache) this.tensors.set(c.past, outputs[c.present]);
    this.seqLength += added;
  }

  reset(): void {
    this.release();
    this.seqLength = 0;
  }

  private release(): void {
    for (const t of this.tensors.values()) t.dispose?.();
    this.tensors.clear();
  }

  private empty(): Tensor {
    const data = this.io.kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0);
    return makeTensor(this.io.kvType, data, cacheDims(this.io, 0));
  }
}
