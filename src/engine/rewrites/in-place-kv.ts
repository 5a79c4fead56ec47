/**
 * Attention over the past in place. After delta_kv the graph still builds
 * each layer's whole cache, Concat(past, new) on the sequence axis, only to
 * read it in two matrix products: the scores (the sequence is the product's
 * output columns) and the weighted values (the sequence is the product's
 * reduction). Concat copies the whole past every step, in every layer (25 MB
 * a step on the Qwen2.5-0.5B shape at 1024 positions). Both products split
 * over the two parts without it:
 *
 *   scores = MatMul(q, f(Concat(Kp, Kn)))  -> Concat(MatMul(q, f(Kp)), MatMul(q, f(Kn)), last axis)
 *   out    = MatMul(p, f(Concat(Vp, Vn)))  -> MatMul(p[..., :len(Vp)], f(Vp)) + MatMul(p[..., len(Vp):], f(Vn))
 *
 * where f is the Unsqueeze/Transpose chain the graph puts between the cache
 * and the product; only the scores, a row per query, are concatenated. The
 * delta output becomes the new positions themselves. A layer is rewritten
 * only when every use of its Concat is one of these, so the Concat goes.
 */
import type { Graph, OnnxNode } from '../onnx-graph.js';
import { INT64_MAX } from '../onnx-graph.js';
import type { CachePair } from './delta-kv.js';

/** One use of the concatenated cache: a chain of layout ops ending in a MatMul's second input. */
interface Use {
  chain: OnnxNode[];
  matmul: OnnxNode;
  /** 'columns': the sequence is the product's last axis (the scores); 'reduction': its summed axis. */
  role: 'columns' | 'reduction';
}

/** Where axis `axis` of a rank-`rank` input lands in `node`'s output, and the output's rank; undefined for an op that is not a pure layout change. */
function follow(g: Graph, node: OnnxNode, axis: number, rank: number): { axis: number; rank: number } | undefined {
  if (node.opType === 'Unsqueeze') {
    const axes = g.attrInts(node, 'axes') ?? g.constInts(node.input[1]);
    if (!axes) return undefined;
    const out = rank + axes.length;
    const inserted = new Set(axes.map((a) => (a < 0 ? a + out : a)));
    for (let j = 0, i = 0; j < out; j++) {
      if (inserted.has(j)) continue;
      if (i === axis) return { axis: j, rank: out };
      i++;
    }
    return undefined;
  }
  if (node.opType === 'Transpose') {
    const perm = g.attrInts(node, 'perm');
    if (!perm || perm.length !== rank) return undefined;
    return { axis: perm.indexOf(axis), rank };
  }
  return undefined;
}

/** The use of `name` (sequence on `axis` of `rank`) that starts at `node`, if it is a layout chain into a MatMul's second input. */
function useOf(g: Graph, node: OnnxNode, name: string, axis: number, rank: number): Use | undefined {
  const chain: OnnxNode[] = [];
  for (;;) {
    if (node.opType === 'MatMul') {
      if (node.input[1] !== name || node.input[0] === name) return undefined;
      if (axis === rank - 1) return { chain, matmul: node, role: 'columns' };
      if (axis === rank - 2) return { chain, matmul: node, role: 'reduction' };
      return undefined;
    }
    const next = follow(g, node, axis, rank);
    const users = g.consumersOf(node.output[0]);
    if (!next || next.axis < 0 || node.input[0] !== name || users.length !== 1 || g.isGraphOutput(node.output[0])) return undefined;
    chain.push(node);
    ({ axis, rank } = next);
    name = node.output[0];
    node = users[0];
  }
}

/** `use`'s layout chain again, from `source`; returns the chain's output. */
function replay(g: Graph, use: Use, source: string): string {
  let x = source;
  for (const n of use.chain) {
    const attrs: Record<string, number[]> = {};
    for (const a of n.attribute) if (a.ints?.length) attrs[a.name!] = g.attrInts(n, a.name!)!;
    x = g.add(n.opType!, [x, ...n.input.slice(1)], attrs);
  }
  return x;
}

export function inPlaceKv(g: Graph, pairs: CachePair[]): string | undefined {
  const why: string[] = [];
  const removed = new Set<OnnxNode>();
  let rewritten = 0;
  for (const p of pairs) {
    const delta = g.producer(p.present);
    const full = delta?.opType === 'Slice' ? delta.input[0] : undefined;
    const concat = full ? g.producer(full) : undefined;
    if (!delta || !concat || concat.opType !== 'Concat' || concat.input.length !== 2 || concat.input[0] !== p.past) {
      why.push(`${p.present} is not a slice of Concat(${p.past}, new positions)`);
      continue;
    }
    const rank = p.seqAxis + 2; // [batch, heads, seq, dim]
    const axis = g.attrInt(concat, 'axis')!;
    if ((axis < 0 ? axis + rank : axis) !== p.seqAxis) {
      why.push(`${p.present}'s Concat is not on the sequence axis`);
      continue;
    }
    const uses = g.consumersOf(full!).filter((n) => n !== delta).map((n) => useOf(g, n, full!, p.seqAxis, rank));
    if (uses.length === 0 || uses.some((u) => u === undefined)) {
      why.push(`the concatenated ${p.past} is read by more than layout ops into a MatMul`);
      continue;
    }
    const [past, fresh] = concat.input as [string, string];
    for (const use of uses as Use[]) {
      const mm = use.matmul;
      const a = mm.input[0];
      const fromPast = replay(g, use, past);
      const fromNew = replay(g, use, fresh);
      removed.add(mm);
      if (use.role === 'columns') {
        g.add('Concat', [g.add('MatMul', [a, fromPast]), g.add('MatMul', [a, fromNew])], { axis: -1 }, g.replacing(mm.output[0]));
      } else {
        const len = delta.input[1]; // delta_kv's slice starts at the past's length: where the weights split
        const last = g.int64s([-1], 'axis');
        const head = g.add('Slice', [a, g.int64s([0], 'start'), len, last]);
        const tail = g.add('Slice', [a, len, g.int64s([INT64_MAX], 'end'), last]);
        g.add('Add', [g.add('MatMul', [head, fromPast]), g.add('MatMul', [tail, fromNew])], {}, g.replacing(mm.output[0]));
      }
    }
    // the delta output: the positions just fed, as they came
    removed.add(delta);
    g.add('Identity', [fresh], {}, g.replacing(p.present));
    rewritten++;
  }
  if (rewritten === 0) return why.length ? `${why[0]}${why.length > 1 ? `, nor ${why.length - 1} other cache outputs` : ''}` : 'no cache outputs';
  g.replace(removed);
  return undefined;
}
