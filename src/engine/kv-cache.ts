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
  /** Positions already in the cache (row 0's: the single-row API). */
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

/**
 * Rows (issue 14): up to `rows` generations, each with its own filled length, share one padded
 * capacity; the buffers are [row][head][cap][head_dim], so a pass over rows [first, first + B) feeds
 * one contiguous view [B, heads, cap, head_dim] of each buffer, and each row's mask hides its free
 * slots. A row never sees another's positions: they are in other rows of the batch dimension.
 */
export class OwnedKvCache implements KvCache {
  private cap = 0;
  private readonly heads: number;
  private readonly buffers: (Float32Array | Uint16Array)[];
  private readonly lengths: number[];
  private ids: IntArray;
  private pos: IntArray;
  private mask: IntArray;

  /** Bytes the buffers of a cache of `rows` x `capacity` positions take. */
  static bytesFor(io: DecoderIo, capacity: number, rows: number): number {
    return io.cache.length * rows * cacheHeads(io) * capacity * io.headDim * (io.kvType === 'float16' ? 2 : 4);
  }

  constructor(private readonly io: DecoderIo, readonly capacity: number, readonly rows = 1) {
    if (rows > 1 && io.cacheLayout === 'combined') {
      throw new ReasondError('internal', 'a combined cache ([2, batch, ...]) keeps a row\'s keys and values apart; it runs one row');
    }
    this.heads = cacheHeads(io);
    const size = rows * this.heads * capacity * io.headDim;
    this.buffers = io.cache.map(() => (io.kvType === 'float16' ? new Uint16Array(size) : new Float32Array(size)));
    this.lengths = new Array<number>(rows).fill(0);
    this.ids = intArray(io.idType, GRANULE);
    this.pos = intArray(io.positionType, GRANULE);
    this.mask = intArray(io.maskType, capacity + GRANULE);
  }

  /** Bytes reserved for keys and values (every row at full capacity). */
  get bytes(): number {
    return this.buffers.reduce((a, b) => a + b.byteLength, 0);
  }

  get seqLength(): number {
    return this.lengths[0];
  }

  feeds(tokens: readonly number[]): Record<string, Tensor> {
    return this.feedRows(0, [tokens]);
  }

  update(outputs: Record<string, Tensor>, added: number): void {
    this.updateRows(outputs, 0, 1, added);
  }

  /** Feeds for one pass over rows [first, first + tokens.length), each given the same number of new tokens. */
  feedRows(first: number, tokens: readonly (readonly number[])[]): Record<string, Tensor> {
    const io = this.io;
    const b = tokens.length;
    const n = tokens[0].length;
    let needed = 0;
    for (let r = 0; r < b; r++) {
      if (tokens[r].length !== n) throw new ReasondError('internal', `rows of one pass feed ${tokens[r].length} and ${n} tokens`);
      const total = this.lengths[first + r] + n;
      if (total > this.capacity) {
        throw new ReasondError('context_overflow', `${total} positions exceed the KV cache's ${this.capacity}`);
      }
      needed = Math.max(needed, total);
    }
    // Nothing cached in any row: start again from the growth schedule of a fresh cache. Keeping the
    // last long generation's capacity would make every later short one attend over thousands of
    // masked slots (the 0.5B stand-in decodes at 24 instead of 43 tok/s after a 4096-token task),
    // and would make a task's padded past, so its float sums, depend on what ran before it.
    if (this.lengths.every((l) => l === 0)) this.cap = 0;
    this.reserve(needed);
    const cap = this.cap;
    const width = cap + n;
    if (this.ids.length < b * n) {
      this.ids = intArray(io.idType, b * n);
      this.pos = intArray(io.positionType, b * n);
    }
    if (this.mask.length < b * width) this.mask = intArray(io.maskType, b * width);
    for (let r = 0; r < b; r++) {
      const past = this.lengths[first + r];
      for (let i = 0; i < n; i++) {
        fillInt(this.ids, tokens[r][i], r * n + i, r * n + i + 1);
        fillInt(this.pos, past + i, r * n + i, r * n + i + 1);
      }
      // [0, past) filled: 1; [past, cap) free slots: 0; [cap, cap + n) this pass: 1.
      const m = r * width;
      fillInt(this.mask, 1, m, m + past);
      fillInt(this.mask, 0, m + past, m + cap);
      fillInt(this.mask, 1, m + cap, m + width);
    }

    const feeds: Record<string, Tensor> = {
      [io.inputIds]: makeTensor(io.idType, this.ids.subarray(0, b * n), [b, n]),
    };
    if (io.attentionMask) feeds[io.attentionMask] = makeTensor(io.maskType, this.mask.subarray(0, b * width), [b, width]);
    if (io.positionIds) feeds[io.positionIds] = makeTensor(io.positionType, this.pos.subarray(0, b * n), [b, n]);
    const dims = cacheDims(io, cap);
    dims[io.cacheLayout === 'combined' ? 1 : 0] = b;
    const row = this.heads * cap * io.headDim;
    io.cache.forEach((c, i) => (feeds[c.past] = makeTensor(io.kvType, this.buffers[i].subarray(first * row, (first + b) * row), dims)));
    return feeds;
  }

  /** Writes a pass's new positions ([B, heads, added, head_dim] per cache output) into rows [first, first + count). */
  updateRows(outputs: Record<string, Tensor>, first: number, count: number, added: number): void {
    const hd = this.io.headDim;
    const heads = this.heads;
    const cap = this.cap;
    this.io.cache.forEach((c, i) => {
      const t = outputs[c.present];
      const delta = t.data as Float32Array | Uint16Array;
      const buf = this.buffers[i];
      const seq = t.dims[t.dims.length - 2];
      if (seq !== added) {
        throw new ReasondError('internal', `${c.present} has ${seq} positions; the rewritten graph should return the ${added} just fed`);
      }
      for (let r = 0; r < count; r++) {
        const at = this.lengths[first + r];
        for (let h = 0; h < heads; h++) {
          const from = (r * heads + h) * added * hd;
          buf.set(delta.subarray(from, from + added * hd), (((first + r) * heads + h) * cap + at) * hd);
        }
      }
      t.dispose?.();
    });
    for (let r = 0; r < count; r++) this.lengths[first + r] += added;
  }

  reset(): void {
    this.lengths.fill(0);
  }

  /** Empties one row. */
  resetRow(row: number): void {
    this.lengths[row] = 0;
  }

  /** Moves row `from`'s positions into row `to` (whose own are dropped); `from` is left empty. */
  moveRow(from: number, to: number): void {
    if (from === to) return;
    const hd = this.io.headDim;
    const plane = this.cap * hd;
    const filled = this.lengths[from] * hd;
    for (const buf of this.buffers) {
      for (let h = 0; h < this.heads; h++) {
        const src = (from * this.heads + h) * plane;
        buf.copyWithin((to * this.heads + h) * plane, src, src + filled);
      }
    }
    this.lengths[to] = this.lengths[from];
    this.lengths[from] = 0;
  }

  /** Makes room for `needed` positions, re-laying the filled ones in place when the capacity grows. */
  private reserve(needed: number): void {
    if (needed <= this.cap) return;
    const next = grownCapacity(this.cap, needed, this.capacity);
    const hd = this.io.headDim;
    // Plane p (row r, head h: p = r * heads + h) moves from p*cap to p*next (next > cap): last plane
    // first, so nothing is overwritten unread.
    for (let p = this.rows * this.heads - 1; p > 0; p--) {
      const filled = this.lengths[Math.floor(p / this.heads)] * hd;
      if (filled === 0) continue;
      for (const buf of this.buffers) buf.copyWithin(p * next * hd, p * this.cap * hd, p * this.cap * hd + filled);
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
