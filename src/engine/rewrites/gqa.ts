/**
 * Grouped-query attention without repeat_kv. transformers' Qwen2/Llama code
 * repeats each KV head for its group of query heads before attending, which
 * torch.onnx exports as Unsqueeze -> Expand -> Reshape over the whole cache:
 * every layer writes the cache heads/kv_heads times per step (7x for
 * Qwen2.5-0.5B). Here the queries (and attention weights) are reshaped into
 * [batch, kv_heads, group, seq, ...] instead, so one MatMul reads each K/V head
 * once for its whole group, by broadcasting:
 *
 *   scores = MatMul(q, Transpose(Reshape(Expand(Unsqueeze(K)))))   [b, H, s, t]
 *     -> Reshape(MatMul(Reshape(q, [b, kv, g, s, d]), Transpose(Unsqueeze(K))), [b, H, s, t])
 *   out    = MatMul(p, Reshape(Expand(Unsqueeze(V))))               [b, H, s, d]
 *     -> Reshape(MatMul(Reshape(p, [b, kv, g, s, t]), Unsqueeze(V)), [b, H, s, d])
 *
 * Head h of the plain graph is kv head h / g, member h % g: the order a
 * [kv, g] reshape of H keeps. Only that exact pattern is rewritten.
 */
import type { Graph, OnnxNode } from '../onnx-graph.js';

export interface Heads {
  heads: number;
  kvHeads: number;
  headDim: number;
}

/** The Unsqueeze at the head of a repeat_kv chain ending in `reshape`, if that is what it is. */
function repeatKvSource(g: Graph, reshape: OnnxNode): OnnxNode | undefined {
  const expand = g.producer(reshape.input[0]);
  if (expand?.opType !== 'Expand') return undefined;
  const unsq = g.producer(expand.input[0]);
  if (unsq?.opType !== 'Unsqueeze') return undefined;
  const axes = g.attrInts(unsq, 'axes') ?? g.constInts(unsq.input[1]); // an attribute before opset 13, an input after
  return axes?.length === 1 && axes[0] === 2 ? unsq : undefined;
}

export function groupedQueryAttention(g: Graph, h: Heads): string | undefined {
  if (!h.heads || !h.kvHeads || h.heads % h.kvHeads !== 0) return `heads ${h.heads} / kv heads ${h.kvHeads} unknown or not grouped`;
  if (h.heads === h.kvHeads) return 'no grouped-query attention (as many KV heads as query heads)';
  const group = h.heads / h.kvHeads;
  let rewritten = 0;
  const removed = new Set<OnnxNode>();
  for (const reshape of g.nodes.filter((n) => n.opType === 'Reshape')) {
    const unsq = repeatKvSource(g, reshape);
    if (!unsq) continue;
    for (const user of g.consumersOf(reshape.output[0])) {
      if (user.opType === 'Transpose') {
        const perm = g.attrInts(user, 'perm');
        if (!perm || perm.join() !== '0,1,3,2') continue;
        for (const mm of g.consumersOf(user.output[0])) {
          if (mm.opType !== 'MatMul' || mm.input[1] !== user.output[0]) continue;
          const q5 = g.add('Reshape', [mm.input[0], g.int64s([0, h.kvHeads, group, -1, h.headDim], 'q5')]);
          const kT = g.add('Transpose', [unsq.output[0]], { perm: [0, 1, 2, 4, 3] });
          const s5 = g.add('MatMul', [q5, kT]);
          const shape = g.add('Shape', [s5]);
          const b = g.add('Slice', [shape, g.int64s([0]), g.int64s([1])]);
          const st = g.add('Slice', [shape, g.int64s([3]), g.int64s([5])]);
          const to4 = g.add('Concat', [b, g.int64s([h.heads]), st], { axis: 0 });
          removed.add(mm);
          g.add('Reshape', [s5, to4], {}, g.replacing(mm.output[0]));
          rewritten++;
        }
      } else if (user.opType === 'MatMul' && user.input[1] === reshape.output[0]) {
        const shape = g.add('Shape', [user.input[0]]);
        const b = g.add('Slice', [shape, g.int64s([0]), g.int64s([1])]);
        const st = g.add('Slice', [shape, g.int64s([2]), g.int64s([4])]);
        const to5 = g.add('Concat', [b, g.int64s([h.kvHeads, group]), st], { axis: 0 });
        const p5 = g.add('Reshape', [user.input[0], to5]);
        const o5 = g.add('MatMul', [p5, unsq.output[0]]);
        removed.add(user);
        g.add('Reshape', [o5, g.int64s([0, h.heads, -1, h.headDim], 'o4')], {}, g.replacing(user.output[0]));
        rewritten++;
      }
    }
  }
  if (rewritten === 0) return 'no repeat_kv (Unsqueeze -> Expand -> Reshape) feeding an attention MatMul';
  // The replacements were built under a temporary name; they take over the original outputs.
  g.replace(removed);
  return undefined;
}
