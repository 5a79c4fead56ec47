/**
 * Logits for the last position only: the hidden state is sliced to its last
 * row before the LM head. During a prefill chunk the plain graph computes and
 * copies out chunk × vocabulary logits (128 × 151,936 × 4 bytes = 74 MiB for
 * Qwen) of which the engine reads one row (issue 13: 110-124 -> 155-171
 * prefill tok/s and a lower memory peak measured on the 0.5B stand-in).
 */
import type { Graph } from '../onnx-graph.js';
import { INT64_MAX } from '../onnx-graph.js';

/** Ops that map each position's hidden vector to that position's logits on their own. */
const PER_POSITION = new Set(['MatMul', 'MatMulNBits', 'FusedMatMul', 'Gemm']);

export function lastLogits(g: Graph, logits: string): string | undefined {
  const head = g.producer(logits);
  if (!head) return `no node produces ${logits}`;
  if (!PER_POSITION.has(head.opType!)) return `${logits} comes from ${head.opType}, not a matrix product`;
  const hidden = head.input[0];
  const last = g.add('Slice', [hidden, g.int64s([-1], 'start'), g.int64s([INT64_MAX], 'end'), g.int64s([1], 'axis')]);
  head.input[0] = last;
  g.index();
  g.setOutputDim(logits, 1, '1');
  return undefined;
}
