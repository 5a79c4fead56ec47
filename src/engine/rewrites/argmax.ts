/**
 * Greedy choice inside the graph: an extra output `reasond_argmax` holds the
 * index of the largest logit of each position. A greedy step then fetches
 * that (8 bytes) instead of the logits: onnxruntime-node copies every fetched
 * output into a fresh JavaScript buffer (600 KB a step at Qwen's 151,936-token
 * vocabulary), and that external memory is what drives V8 to mark-compact the
 * worker's heap, tokenizer and all (issue 13). ArgMax takes the first of equal
 * maxima, as the engine's own argmax does, so the tokens are the same.
 */
import type { Graph } from '../onnx-graph.js';

export const ARGMAX_OUTPUT = 'reasond_argmax';

export function greedyOutput(g: Graph, logits: string): string | undefined {
  if (!g.isGraphOutput(logits)) return `${logits} is not an output`;
  g.add('ArgMax', [logits], { axis: -1, keepdims: 0 }, ARGMAX_OUTPUT);
  g.addInt64Output(ARGMAX_OUTPUT, ['batch_size', 'sequence_length']);
  return undefined;
}
