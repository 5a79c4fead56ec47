/**
 * Delta outputs: each present.* output becomes only the positions fed in this
 * step (a Slice from the past's length on the sequence axis) instead of the
 * whole concatenated cache. onnxruntime-node copies every output into a fresh
 * JavaScript buffer, so the plain graph hands over, and V8 later collects, the
 * whole cache at every step (41-46% of a Qwen2.5-0.5B step at 4k, issue 13).
 * The engine keeps the cache itself and writes the delta in place.
 * Generic by construction: it needs no knowledge of how the graph attends.
 */
import type { Graph } from '../onnx-graph.js';
import { INT64_MAX } from '../onnx-graph.js';

export interface CachePair {
  past: string;
  present: string;
  /** The sequence axis: 2 for [batch, heads, seq, dim], 3 for the combined [2, batch, heads, seq, dim]. */
  seqAxis: number;
}

export function deltaOutputs(g: Graph, pairs: CachePair[]): string | undefined {
  const missing = pairs.filter((p) => !g.producer(p.present) || !g.inputs.some((i) => i.name === p.past));
  if (missing.length) return `no producer or past input for ${missing.map((p) => p.present).join(', ')}`;
  const ends = g.int64s([INT64_MAX], 'end');
  for (const p of pairs) {
    const full = g.fresh(`${p.present}_full`);
    g.renameInternal(p.present, full);
    const axes = g.int64s([p.seqAxis], 'axis');
    const shape = g.add('Shape', [p.past]);
    const pastLen = g.add('Slice', [shape, axes, g.int64s([p.seqAxis + 1], 'axis_end')]);
    g.add('Slice', [full, pastLen, ends, axes], {}, p.present);
    g.setOutputDim(p.present, p.seqAxis, 'sequence_length');
  }
  return undefined;
}
