/**
 * Maps a session's real inputs and outputs onto the decoder interface, so
 * Qwen2/Llama/Phi-style exports work whatever their id dtype, cache dtype or
 * whether they take position_ids. A graph that does not fit gets an error
 * naming what is missing.
 */
import { ReasondError } from '../core/errors.js';
import type { IoNames, ModelSpec } from './model-folder.js';
import type { IoMeta, TensorType } from './onnx-session.js';

export interface LayerIo {
  pastKey: string;
  pastValue: string;
  presentKey: string;
  presentValue: string;
}

export interface DecoderIo {
  inputIds: string;
  idType: 'int64' | 'int32';
  attentionMask?: string;
  maskType: 'int64' | 'int32';
  positionIds?: string;
  positionType: 'int64' | 'int32';
  layers: LayerIo[];
  kvType: 'float32' | 'float16';
  numKvHeads: number;
  headDim: number;
  logits: string;
}

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

  const pastRe = templateRegex(n.pastKey);
  const layerCount = inputs.filter((i) => pastRe.test(i.name)).length;
  if (layerCount === 0) missing.push(`KV-cache inputs named like ${n.pastKey}`);
  const layers: LayerIo[] = [];
  for (let i = 0; i < layerCount; i++) {
    const l = {
      pastKey: layerName(n.pastKey, i),
      pastValue: layerName(n.pastValue, i),
      presentKey: layerName(n.presentKey, i),
      presentValue: layerName(n.presentValue, i),
    };
    for (const name of [l.pastKey, l.pastValue]) if (!inByName.has(name)) missing.push(`input ${name}`);
    for (const name of [l.presentKey, l.presentValue]) if (!outByName.has(name)) missing.push(`output ${name}`);
    layers.push(l);
  }
  if (missing.length) {
    const have = `inputs: ${inputs.map((i) => i.name).join(', ')}; outputs: ${outputs.map((o) => o.name).join(', ')}`;
    throw new ReasondError('model_invalid', `${model} is not a decoder with a KV cache this engine can drive: missing ${missing.join(', ')} (${have})`);
  }

  const known = new Set([n.inputIds, n.attentionMask, n.positionIds, ...layers.flatMap((l) => [l.pastKey, l.pastValue])]);
  const unknown = inputs.filter((i) => !known.has(i.name)).map((i) => i.name);
  if (unknown.length) {
    throw new ReasondError('model_invalid', `${model} has inputs this engine does not know how to fill: ${unknown.join(', ')}`);
  }

  const firstPast = inByName.get(layers[0].pastKey)!;
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
    layers,
    kvType: firstPast.type as TensorType as 'float32' | 'float16',
    numKvHeads: dim(firstPast.shape[1], spec.numKvHeads, 'the number of KV heads', model),
    headDim: dim(firstPast.shape[3], spec.headDim, 'the head size', model),
    logits: n.logits,
  };
}

export function describeIo(io: DecoderIo): string {
  return [
    `${io.layers.length} layers`,
    `${io.numKvHeads} kv heads x ${io.headDim}`,
    `ids ${io.idType}`,
    io.positionIds ? 'position_ids' : 'no position_ids',
    `cache ${io.kvType}`,
  ].join(', ');
}
