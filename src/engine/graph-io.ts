/**
 * Maps a session's real inputs and outputs onto the decoder interface, so
 * Qwen2/Llama/Phi-style exports work whatever their id dtype, cache dtype or
 * whether they take position_ids. A graph that does not fit gets an error
 * naming what is missing.
 */
import { ReasondError } from '../core/errors.js';
import type { IoNames, ModelSpec } from './model-folder.js';
import type { IoMeta, TensorType } from './onnx-session.js';

/** One cache tensor: what is fed as past and what comes back as present. */
export interface CacheIo {
  past: string;
  present: string;
}

export interface DecoderIo {
  inputIds: string;
  idType: 'int64' | 'int32';
  attentionMask?: string;
  maskType: 'int64' | 'int32';
  positionIds?: string;
  positionType: 'int64' | 'int32';
  /** Every cache tensor, layer by layer (key then value, or one combined tensor per layer). */
  cache: CacheIo[];
  /** 'split': [batch, kv_heads, seq, head_dim] per key and value; 'combined' (onnxruntime-genai): [2, batch, kv_heads, seq, head_dim]. */
  cacheLayout: 'split' | 'combined';
  kvType: 'float32' | 'float16';
  numKvHeads: number;
  headDim: number;
  logits: string;
  /** The rewritten graph's greedy choice per position (rewrites/argmax.ts), when it has one. */
  argmax?: string;
}

/** The sequence axis of a cache tensor. */
export const seqAxis = (io: Pick<DecoderIo, 'cacheLayout'>): number => (io.cacheLayout === 'combined' ? 3 : 2);

/** Dims of a cache tensor holding `seq` positions for one row. */
export const cacheDims = (io: Pick<DecoderIo, 'cacheLayout' | 'numKvHeads' | 'headDim'>, seq: number): number[] =>
  io.cacheLayout === 'combined' ? [2, 1, io.numKvHeads, seq, io.headDim] : [1, io.numKvHeads, seq, io.headDim];

/** Rows of head_dim values per position in one cache tensor: kv_heads, or 2 x kv_heads when combined. */
export const cacheHeads = (io: Pick<DecoderIo, 'cacheLayout' | 'numKvHeads'>): number =>
  io.cacheLayout === 'combined' ? 2 * io.numKvHeads : io.numKvHeads;

const templateRegex = (template: string): RegExp =>
  new RegExp('^' + template.split('%d').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('(\\d+)') + '$');

const layerName = (template: string, i: number): string => template.replace('%d', String(i));

function intType(io: IoMeta | undefined, what: string, model: string): 'int64' | 'int32' {
  if (!io) return 'int64';
  if (io.type === 'int64' || io.type === 'int32') return io.type;
  throw new ReasondError('model_invalid', `${model}: input ${io.name} (${what}) has type ${io.type}; expected int64 or int32`);
}

function dim(value: number | string | undefined, fallback: number | undefined, what: string, model: string): number {
  if (typeof value === 'number' && value > 0) return value;
  if (fallback && fallback > 0) return fallback;
  throw new ReasondError('model_invalid', `${model}: cannot tell ${what} from the graph or the config`);
}

export function mapDecoderIo(spec: Pick<ModelSpec, 'onnxPath' | 'ioNames' | 'numKvHeads' | 'headDim'>, inputs: IoMeta[], outputs: IoMeta[]): DecoderIo {
  const n: IoNames = spec.ioNames;
  const model = spec.onnxPath;
  const inByName = new Map(inputs.map((i) => [i.name, i]));
  const outByName = new Map(outputs.map((o) => [o.name, o]));
  const missing: string[] = [];

  const ids = inByName.get(n.inputIds);
  if (!ids) missing.push(`input ${n.inputIds}`);
  if (!outByName.has(n.logits)) missing.push(`output ${n.logits}`);

  const combined = n.pastCombined !== undefined && n.presentCombined !== undefined;
  const pastRe = templateRegex(combined ? n.pastCombined! : n.pastKey);
  const layerCount = inputs.filter((i) => pastRe.test(i.name)).length;
  if (layerCount === 0) missing.push(`KV-cache inputs named like ${combined ? n.pastCombined : n.pastKey}`);
  const cache: CacheIo[] = [];
  for (let i = 0; i < layerCount; i++) {
    const pairs: [string, string][] = combined
      ? [[layerName(n.pastCombined!, i), layerName(n.presentCombined!, i)]]
      : [[layerName(n.pastKey, i), layerName(n.presentKey, i)], [layerName(n.pastValue, i), layerName(n.presentValue, i)]];
    for (const [past, present] of pairs) {
      if (!inByName.has(past)) missing.push(`input ${past}`);
      if (!outByName.has(present)) missing.push(`output ${present}`);
      cache.push({ past, present });
    }
  }
  if (missing.length) {
    const have = `inputs: ${inputs.map((i) => i.name).join(', ')}; outputs: ${outputs.map((o) => o.name).join(', ')}`;
    throw new ReasondError('model_invalid', `${model} is not a decoder with a KV cache this engine can drive: missing ${missing.join(', ')} (${have})`);
  }

  const known = new Set([n.inputIds, n.attentionMask, n.positionIds, ...cache.map((c) => c.past)]);
  const unknown = inputs.filter((i) => !known.has(i.name)).map((i) => i.name);
  if (unknown.length) {
    throw new ReasondError('model_invalid', `${model} has inputs this engine does not know how to fill: ${unknown.join(', ')}`);
  }

  const firstPast = inByName.get(cache[0].past)!;
  if (firstPast.type !== 'float32' && firstPast.type !== 'float16') {
    throw new ReasondError('model_invalid', `${model}: KV cache ${firstPast.name} has type ${firstPast.type}; expected float32 or float16`);
  }
  const mask = n.attentionMask && inByName.get(n.attentionMask);
  const pos = n.positionIds ? inByName.get(n.positionIds) : undefined;
  return {
    inputIds: ids!.name,
    idType: intType(ids, 'token ids', model),
    attentionMask: mask ? mask.name : undefined,
    maskType: intType(mask || undefined, 'attention mask', model),
    positionIds: pos?.name,
    positionType: intType(pos, 'positions', model),
    cache,
    cacheLayout: combined ? 'combined' : 'split',
    kvType: firstPast.type as TensorType as 'float32' | 'float16',
    numKvHeads: dim(firstPast.shape[combined ? 2 : 1], spec.numKvHeads, 'the number of KV heads', model),
    headDim: dim(firstPast.shape[combined ? 4 : 3], spec.headDim, 'the head size', model),
    logits: n.logits,
    argmax: outByName.has('reasond_argmax') ? 'reasond_argmax' : undefined,
  };
}

export function describeIo(io: DecoderIo): string {
  return [
    `${io.cacheLayout === 'combined' ? io.cache.length : io.cache.length / 2} layers${io.cacheLayout === 'combined' ? ' (combined cache)' : ''}`,
    `${io.numKvHeads} kv heads x ${io.headDim}`,
    `ids ${io.idType}`,
    io.positionIds ? 'position_ids' : 'no position_ids',
    `cache ${io.kvType}`,
  ].join(', ');
}
