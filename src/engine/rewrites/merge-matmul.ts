/**
 * One 4-bit product where several read the same activations: the query, key
 * and value projections of a layer, and its gate and up projections, become
 * one MatMulNBits each whose weights are the parts' rows one after another,
 * and a Split gives each part its columns back. A decode step then makes 4
 * kernel calls per layer instead of 7: at accuracy_level 4 each call
 * quantizes its input rows again and hands its work to the thread pool, and
 * the key and value projections of a small model (896 x 128 on Qwen2.5-0.5B)
 * are too small to keep two threads busy. Every output column is computed
 * from the same blocks as before: at accuracy_level 0 the logits are the
 * same bit for bit (a test checks it); at accuracy_level 4 onnxruntime's int8
 * kernel sums a wider product in another order and the last bits move, so the
 * rewrite goes with accuracy_level 4, under its tolerance, and the KV-only
 * variants leave the products apart. On the 0.5B stand-in a decode step took
 * 0.90 x the time at 16 positions and 0.82 x with 4 rows (issue 13).
 * onnxruntime-genai's own exports pack these projections the same way.
 */
import type { Graph, OnnxNode } from '../onnx-graph.js';

const MS = 'com.microsoft';

/** The weight inputs of a MatMulNBits: B, scales and (if given) zero points. */
const WEIGHTS = [1, 2, 3];

function concatRows(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Why a group of products reading one input cannot be merged, or undefined when it can. */
function unmergeable(g: Graph, group: OnnxNode[]): string | undefined {
  const first = group[0];
  const same = (n: OnnxNode, a: string) => g.attrInt(n, a) === g.attrInt(first, a);
  for (const n of group) {
    if (n.input.length !== first.input.length || n.input.length < 3 || n.input.length > 4) return `${n.name}: inputs other than B, scales and zero points`;
    if (!['K', 'bits', 'block_size', 'accuracy_level'].every((a) => same(n, a))) return `${n.name}: attributes differ from ${first.name}`;
    for (const i of WEIGHTS.slice(0, n.input.length - 1)) {
      const t = g.tensor(n.input[i]);
      if (!t) return `${n.name}: ${n.input[i]} is not a constant`;
      if (!t.rawData?.length) return `${n.name}: ${n.input[i]} is stored outside the graph`;
      if (t.dataType !== g.tensor(first.input[i])?.dataType) return `${n.name}: ${n.input[i]} has another type than ${first.input[i]}`;
    }
  }
  return undefined;
}

export function mergeMatMulNBits(g: Graph): string | undefined {
  const groups = new Map<string, OnnxNode[]>();
  for (const n of g.nodes) {
    if (n.opType !== 'MatMulNBits' || n.domain !== MS) continue;
    const list = groups.get(n.input[0]);
    if (list) list.push(n);
    else groups.set(n.input[0], [n]);
  }
  const removed = new Set<OnnxNode>();
  const why: string[] = [];
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const bad = unmergeable(g, group);
    if (bad) {
      why.push(bad);
      continue;
    }
    const first = group[0];
    const ns = group.map((n) => g.attrInt(n, 'N')!);
    const total = ns.reduce((a, b) => a + b, 0);
    const weights = WEIGHTS.slice(0, first.input.length - 1).map((i) => {
      const tensors = group.map((n) => g.tensor(n.input[i])!);
      const dims = tensors[0].dims.map(Number);
      // Every weight input is laid out row by row over N, flat ([N * x]) or not ([N, ...]).
      dims[0] = tensors.reduce((a, t) => a + Number(t.dims[0]), 0);
      return g.addTensor(tensors[0], dims, concatRows(tensors.map((t) => t.rawData!)), `merged_${i}`);
    });
    const attrs: Record<string, number> = { N: total };
    for (const a of ['K', 'bits', 'block_size', 'accuracy_level']) {
      const v = g.attrInt(first, a);
      if (v !== undefined) attrs[a] = v;
    }
    const merged = g.add('MatMulNBits', [first.input[0], ...weights], attrs, undefined, MS);
    const outputs = group.map((n) => g.replacing(n.output[0]));
    if (g.opset() >= 13) g.add('Split', [merged, g.int64s(ns, 'split')], { axis: -1 }, outputs);
    else g.add('Split', [merged], { axis: -1, split: ns }, outputs);
    for (const n of group) removed.add(n);
  }
  if (removed.size === 0) return why.length ? why.join('; ') : 'no two MatMulNBits read the same input';
  g.replace(removed);
  return undefined;
}
