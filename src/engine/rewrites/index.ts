/**
 * The load-time graph rewrites (issue 13), applied to a decoded model in a
 * fixed order. Each says why when it does not apply; a rewrite that does not
 * apply leaves the graph as it was. The self-test (../self-test.ts) decides
 * whether the result is served.
 */
import { decodeModel, encodeModel, Graph } from '../onnx-graph.js';
import { accuracyLevel4 } from './accuracy-level.js';
import { greedyOutput } from './argmax.js';
import { deltaOutputs, type CachePair } from './delta-kv.js';
import { groupedQueryAttention, type Heads } from './gqa.js';
import { inPlaceKv } from './in-place-kv.js';
import { lastLogits } from './last-logits.js';
import { mergeMatMulNBits } from './merge-matmul.js';

export type { CachePair } from './delta-kv.js';
export { ARGMAX_OUTPUT } from './argmax.js';

/** Bump when any rewrite's output or the self-test's verdict on it changes: cached rewritten files and
 *  verdicts carry it in their key. 2: weights in an external data file; 3: the argmax output; 4: an
 *  int8 file's own tolerance (REQUANTIZED), so a plain-graph verdict under the old one is tried again;
 *  5: the verdict records the served graph's activation rounding, and a file already at accuracy_level 4
 *  gets the REQUANTIZED tolerance too; attention reads the past in place (kv_in_place); 6: 4-bit products of one input merged (merge_matmul). */
export const REWRITE_VERSION = 6;

export type RewriteName = 'gqa' | 'delta_kv' | 'kv_in_place' | 'last_logits' | 'argmax' | 'merge_matmul' | 'accuracy_level_4';

export interface RewritePlan {
  cache: CachePair[];
  logits: string;
  heads: Heads;
  /** accuracy_level 4 changes the numbers (within a tolerance); the KV rewrites do not. */
  accuracyLevel4: boolean;
  /** Merged 4-bit products: the same numbers at accuracy_level 0, the last bits moved at 4 (merge-matmul.ts). */
  mergeMatMul: boolean;
  /** false leaves the LM head whole: an int8 file's fused MatMul quantizes its activations per call,
   *  so slicing them to one row changes its scale and the logits. */
  lastLogits: boolean;
}

export interface RewriteResult {
  /** The graph, its weights pointing at `data` (see Graph.externalize). */
  bytes: Uint8Array;
  /** The pieces of the external data file, in order, or none. */
  data: Uint8Array[];
  applied: RewriteName[];
  skipped: { name: RewriteName; why: string }[];
  externalFiles: string[];
  /** How the rewritten graph rounds its activations at run time (activationRounding). */
  rounding: ActivationRounding;
}

/**
 * Whether a graph quantizes its activations at run time, which decides how closely a pass can match
 * another that sums in a different order or over other rows:
 * - 'requantized': an int8 file, whose DequantizeLinear weights onnxruntime fuses into an int8 MatMul
 *   (or one with DynamicQuantizeLinear / MatMulInteger written out), scaled by each call's range;
 * - 'int8_blocks': MatMulNBits at accuracy_level 4, whose activations are rounded to int8 per block,
 *   by a kernel that takes another path for one row than for several;
 * - 'none': activations stay floats.
 */
export type ActivationRounding = 'requantized' | 'int8_blocks' | 'none';

export function activationRounding(g: Graph): ActivationRounding {
  if (g.nodes.some((n) => ['DequantizeLinear', 'DynamicQuantizeLinear', 'MatMulInteger'].includes(n.opType))) return 'requantized';
  if (g.nodes.some((n) => n.opType === 'MatMulNBits' && (g.attrInt(n, 'accuracy_level') ?? 0) >= 4)) return 'int8_blocks';
  return 'none';
}

export function rewriteModel(original: Uint8Array, plan: RewritePlan, dataFile?: string): RewriteResult {
  const g = new Graph(decodeModel(original));
  const applied: RewriteName[] = [];
  const skipped: { name: RewriteName; why: string }[] = [];
  const steps: [RewriteName, () => string | undefined][] = [
    ['gqa', () => groupedQueryAttention(g, plan.heads)],
    ['delta_kv', () => deltaOutputs(g, plan.cache)],
    ['kv_in_place', () => inPlaceKv(g, plan.cache)],
  ];
  if (plan.lastLogits) steps.push(['last_logits', () => lastLogits(g, plan.logits)]);
  steps.push(['argmax', () => greedyOutput(g, plan.logits)]);
  if (plan.mergeMatMul) steps.push(['merge_matmul', () => mergeMatMulNBits(g)]);
  if (plan.accuracyLevel4) steps.push(['accuracy_level_4', () => accuracyLevel4(g)]);
  for (const [name, run] of steps) {
    const why = run();
    if (why === undefined) applied.push(name);
    else skipped.push({ name, why });
  }
  const externalFiles = g.externalFiles();
  const data = dataFile ? g.externalize(dataFile) : [];
  return { bytes: encodeModel(g.model), data, applied, skipped, externalFiles, rounding: activationRounding(g) };
}
