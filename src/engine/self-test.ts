/**
 * The start-up self-test for rewritten graphs (issue 13): the plain graph and
 * a rewritten one run the same tokens (a short prompt fed in two passes, then
 * a few decode steps, teacher-forced on the plain graph's greedy choices) and
 * their logits are compared. The KV rewrites change no arithmetic, so they
 * must match to float rounding and choose the same tokens; accuracy_level 4
 * quantizes activations, so it gets a tolerance, and a different choice only
 * where the plain graph's own top logits were within that tolerance (a near
 * tie on a random-weight model is not a fault).
 */
import { argmax } from './sampling.js';
import type { DecoderIo } from './graph-io.js';
import { OwnedKvCache, type KvCache } from './kv-cache.js';
import type { OnnxSession, Tensor } from './onnx-session.js';
import { halvesToFloats } from './half.js';
import type { ActivationRounding, RewriteName } from './rewrites/index.js';

export const PROBE_DECODE_STEPS = 6;

export interface Tolerance {
  /** Largest |difference| allowed, as a fraction of the plain row's range (max - min). */
  logits: number;
  /** A differing greedy choice passes if the plain logit of that token is within this fraction of the range from the top. */
  tie: number;
}

/** The KV rewrites change no arithmetic but summation order over the padded cache. */
export const EXACT: Tolerance = { logits: 5e-3, tie: 0 };
/** An int8 file's fused MatMul re-quantizes its activations per call, so that rounding can move an
 *  activation across a quantization step: ~0.1% of the range on the tenth reasond-tiny, 0.51% on the
 *  eleventh. The greedy choices must still be the same. */
export const REQUANTIZED: Tolerance = { logits: 0.02, tie: 0 };
export const APPROXIMATE: Tolerance = { logits: 0.08, tie: 0.02 };

/**
 * The self-test's tolerance for a rewritten graph against the plain file: APPROXIMATE where the rewrite
 * itself changed the arithmetic (accuracy_level 4 added); REQUANTIZED where the graph rounds its
 * activations at run time, since that rounding can turn the KV rewrites' other summation order into a
 * rounding step; EXACT otherwise.
 */
export function rewriteTolerance(applied: readonly RewriteName[], rounding: ActivationRounding): Tolerance {
  if (applied.includes('accuracy_level_4')) return APPROXIMATE;
  return rounding === 'none' ? EXACT : REQUANTIZED;
}

/**
 * How closely a row batched with others must match the row alone when it does not match exactly, or
 * undefined where it must match exactly: accuracy_level 4's kernels round a batch's activations by
 * another path than one row's (APPROXIMATE, the tolerance such a graph is admitted with), an int8
 * file's fused MatMul by each call's range (REQUANTIZED, its own).
 */
export function batchTolerance(rounding: ActivationRounding): Tolerance | undefined {
  return rounding === 'int8_blocks' ? APPROXIMATE : rounding === 'requantized' ? REQUANTIZED : undefined;
}

export interface Trace {
  tokens: number[];
  rows: Float32Array[];
}

/** The last logits row of a pass (of batch row `r` of `rows`), as floats (copied: the caller keeps it). */
function lastRow(t: Tensor, r = 0, rows = 1): Float32Array {
  const vocab = t.dims[t.dims.length - 1];
  const data = t.data as Float32Array | Uint16Array;
  const per = data.length / rows;
  const row = data.subarray((r + 1) * per - vocab, (r + 1) * per);
  return t.type === 'float16' ? halvesToFloats(row as Uint16Array) : Float32Array.from(row as Float32Array);
}

/**
 * Runs the prompt in two passes and then `PROBE_DECODE_STEPS` single-token passes. With `forced`, the
 * decode steps feed those tokens (the plain run's choices); otherwise greedy choices of its own.
 */
export async function probe(session: OnnxSession, io: DecoderIo, cache: KvCache, prompt: number[], forced?: number[]): Promise<Trace> {
  cache.reset();
  const rows: Float32Array[] = [];
  const tokens: number[] = [];
  const half = Math.max(1, prompt.length >> 1);
  const passes: number[][] = prompt.length > 1 ? [prompt.slice(0, half), prompt.slice(half)] : [prompt];
  for (let i = 0; i < passes.length + PROBE_DECODE_STEPS; i++) {
    const feed = i < passes.length ? passes[i] : [forced ? forced[i - passes.length] : tokens[i - passes.length]];
    const out = await session.run(cache.feeds(feed));
    cache.update(out, feed.length);
    if (i < passes.length - 1) continue;
    const row = lastRow(out[io.logits]);
    rows.push(row);
    tokens.push(argmax(row));
  }
  cache.reset();
  return { tokens: tokens.slice(0, PROBE_DECODE_STEPS + 1), rows };
}

export interface Comparison {
  /** Largest difference seen, as a fraction of the row's range. */
  worst: number;
  /** Set when `got` does not match `want` within the tolerance. */
  why?: string;
}

export function compareTraces(want: Trace, got: Trace, tol: Tolerance): Comparison {
  let worst = 0;
  for (let s = 0; s < want.rows.length; s++) {
    const a = want.rows[s];
    const b = got.rows[s];
    if (!b || a.length !== b.length) return { worst: Infinity, why: `pass ${s}: ${b ? b.length : 0} logits, expected ${a.length}` };
    let lo = Infinity;
    let hi = -Infinity;
    let err = 0;
    for (let i = 0; i < a.length; i++) {
      if (a[i] < lo) lo = a[i];
      if (a[i] > hi) hi = a[i];
      const d = Math.abs(a[i] - b[i]);
      if (!(d <= err)) err = d; // NaN counts as the worst
    }
    const range = Math.max(hi - lo, 1e-6);
    worst = Math.max(worst, err / range);
    if (!(err <= tol.logits * range)) {
      return { worst, why: `pass ${s}: logits differ by ${err.toPrecision(3)} (${((100 * err) / range).toFixed(2)}% of their range; allowed ${(100 * tol.logits).toFixed(2)}%)` };
    }
    const wantTok = want.tokens[s];
    const gotTok = got.tokens[s];
    if (wantTok !== gotTok && !(a[gotTok] >= hi - tol.tie * range)) {
      return { worst, why: `pass ${s}: greedy token ${gotTok}, expected ${wantTok} (not a near tie)` };
    }
  }
  return { worst };
}

/**
 * The batching check (issue 14): two prompts of different lengths, each alone in a one-row cache, then
 * together in a two-row cache (each prompt a pass of its own, then steps of both rows in one pass,
 * teacher-forced on the lone runs' choices). Returns why the rows differ from their lone runs, or
 * undefined when they match within `tol`: EXACT for the same arithmetic (only the padding differs);
 * accuracy_level 4's int8 kernels take another path for one row than for several, so such a graph is
 * held to the tolerance it was admitted with against the file (APPROXIMATE).
 */
export async function batchProbe(session: OnnxSession, io: DecoderIo, prompt: number[], tol: Tolerance = EXACT): Promise<string | undefined> {
  const prompts = [prompt, prompt.slice(0, Math.max(1, prompt.length - 3))];
  const capacity = prompt.length + PROBE_DECODE_STEPS + 1;
  const alone: Trace[] = [];
  for (const p of prompts) {
    const cache = new OwnedKvCache(io, capacity);
    const trace: Trace = { tokens: [], rows: [] };
    let feed = p;
    for (let s = 0; s <= PROBE_DECODE_STEPS; s++) {
      const out = await session.run(cache.feeds(feed));
      cache.update(out, feed.length);
      const row = lastRow(out[io.logits]);
      trace.rows.push(row);
      trace.tokens.push(argmax(row));
      feed = [trace.tokens[s]];
    }
    alone.push(trace);
  }
  const two = new OwnedKvCache(io, capacity, 2);
  const together: Trace[] = [{ tokens: [], rows: [] }, { tokens: [], rows: [] }];
  for (let r = 0; r < 2; r++) {
    const out = await session.run(two.feedRows(r, [prompts[r]]));
    two.updateRows(out, r, 1, prompts[r].length);
    const row = lastRow(out[io.logits]);
    together[r].rows.push(row);
    together[r].tokens.push(argmax(row));
  }
  for (let s = 0; s < PROBE_DECODE_STEPS; s++) {
    const out = await session.run(two.feedRows(0, [[alone[0].tokens[s]], [alone[1].tokens[s]]]));
    two.updateRows(out, 0, 2, 1);
    for (let r = 0; r < 2; r++) {
      const row = lastRow(out[io.logits], r, 2);
      together[r].rows.push(row);
      together[r].tokens.push(argmax(row));
    }
  }
  for (let r = 0; r < 2; r++) {
    const cmp = compareTraces(alone[r], together[r], tol);
    if (cmp.why !== undefined) return `row ${r}: ${cmp.why}`;
  }
  return undefined;
}
