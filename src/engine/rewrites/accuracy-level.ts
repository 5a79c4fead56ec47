/**
 * MatMulNBits accuracy_level 4: onnxruntime quantizes the activations to int8
 * per block and runs its integer GEMV kernels. onnxruntime's own Qwen2.5-0.5B
 * figures use it; on this machine a minimal loop on such a copy of the 0.5B
 * stand-in decoded ~1.8x faster than on the plain file (issue 13). It changes
 * the logits slightly, so the self-test holds it to a tolerance.
 */
import type { Graph } from '../onnx-graph.js';

export function accuracyLevel4(g: Graph): string | undefined {
  const nodes = g.nodes.filter((n) => n.opType === 'MatMulNBits' && n.domain === 'com.microsoft');
  if (nodes.length === 0) return 'no MatMulNBits nodes (not a 4-bit file)';
  const raised = nodes.filter((n) => (g.attrInt(n, 'accuracy_level') ?? 0) < 4);
  if (raised.length === 0) return 'every MatMulNBits already has accuracy_level 4';
  for (const n of raised) g.setAttrInt(n, 'accuracy_level', 4);
  return undefined;
}
