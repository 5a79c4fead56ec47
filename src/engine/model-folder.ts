/**
 * Reads a model folder from disk: the Hugging Face / onnx-community layout
 * (config.json + onnx/model*.onnx) or the onnxruntime-genai layout
 * (genai_config.json + model.onnx). Only reads JSON and checks files; the
 * graph itself is inspected once the session is open (graph-io.ts).
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { ReasondError } from '../core/errors.js';
import type { Dtype, GenerationOptions } from './types.js';

/** Which file each dtype means in an onnx-community folder. */
export const DTYPE_FILES: Record<Dtype, string[]> = {
  q4: ['model_q4.onnx'],
  q4f16: ['model_q4f16.onnx'],
  q8: ['model_quantized.onnx', 'model_int8.onnx', 'model_uint8.onnx'],
  fp16: ['model_fp16.onnx'],
  fp32: ['model.onnx'],
};

/**
 * Default order on a CPU: 4-bit MatMulNBits was fastest here, then int8;
 * fp16 weights are last because ARM/x86 CPUs upcast them at every step.
 */
export const DEFAULT_DTYPE_ORDER: Dtype[] = ['q4', 'q8', 'fp32', 'q4f16', 'fp16'];

export interface IoNames {
  inputIds: string;
  attentionMask: string;
  positionIds?: string;
  /** printf-style templates with %d for the layer. */
  pastKey: string;
  pastValue: string;
  presentKey: string;
  presentValue: string;
  /** onnxruntime-genai's combined cache: one `past_%d` / `present_%d` tensor [2, batch, kv_heads, seq, head_dim] per layer. */
  pastCombined?: string;
  presentCombined?: string;
  logits: string;
}

export interface ModelSpec {
  dir: string;
  layout: 'hf' | 'genai';
  name: string;
  version?: string;
  onnxPath: string;
  dtype: string;
  /** The parsed tokenizer.json; loadModel sets it to null once the tokenizer is built, so the
   *  engine's heap does not keep the 151k-entry JSON of a Qwen vocabulary for the model's lifetime. */
  tokenizerJson: object | null;
  tokenizerConfig: Record<string, unknown>;
  contextLength: number;
  eosTokenIds: number[];
  numLayers?: number;
  numHeads?: number;
  numKvHeads?: number;
  headDim?: number;
  /** Names from genai_config.json; the HF layout uses onnx-community's names. */
  ioNames: IoNames;
  generationDefaults: GenerationOptions;
}

export const ONNX_COMMUNITY_NAMES: IoNames = {
  inputIds: 'input_ids',
  attentionMask: 'attention_mask',
  positionIds: 'position_ids',
  pastKey: 'past_key_values.%d.key',
  pastValue: 'past_key_values.%d.value',
  presentKey: 'present.%d.key',
  presentValue: 'present.%d.value',
  logits: 'logits',
};

type Json = Record<string, any>;

function readJson(path: string, required: boolean): Json | undefined {
  if (!existsSync(path)) {
    if (required) throw new ReasondError('model_invalid', `model folder is missing ${path}`);
    return undefined;
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Json;
  } catch (e) {
    throw new ReasondError('model_invalid', `${path} is not valid JSON: ${(e as Error).message}`);
  }
}

const ids = (v: unknown): number[] =>
  v === undefined || v === null ? [] : (Array.isArray(v) ? v : [v]).filter((x): x is number => Number.isInteger(x));

export function parseDtype(value: string): Dtype {
  const v = value === 'quantized' || value === 'int8' ? 'q8' : value;
  if (!(v in DTYPE_FILES)) {
    throw new ReasondError(
      'invalid_request',
      `dtype "${value}" is not one of ${Object.keys(DTYPE_FILES).join(', ')} (or quantized)`,
    );
  }
  return v as Dtype;
}

function pickOnnxFile(dir: string, dtype?: Dtype): { path: string; dtype: Dtype } {
  const onnxDir = join(dir, 'onnx');
  const present = existsSync(onnxDir) ? readdirSync(onnxDir).filter((f) => f.endsWith('.onnx')) : [];
  const order = dtype ? [dtype] : DEFAULT_DTYPE_ORDER;
  for (const d of order) {
    const file = DTYPE_FILES[d].find((f) => present.includes(f));
    if (file) return { path: join(onnxDir, file), dtype: d };
  }
  const have = present.length ? `it has ${present.join(', ')}` : 'it has no .onnx file';
  const wanted = order.flatMap((d) => DTYPE_FILES[d]).join(', ');
  throw new ReasondError('model_invalid', `no ONNX file for dtype ${dtype ?? 'any'} in ${onnxDir}: looked for ${wanted}; ${have}`);
}

function manifestIdentity(dir: string): { name?: string; version?: string } {
  const m = readJson(join(dir, 'reasond-model.json'), false);
  return m ? { name: typeof m.name === 'string' ? m.name : undefined, version: typeof m.version === 'string' ? m.version : undefined } : {};
}

function generationDefaults(gen: Json | undefined): GenerationOptions {
  if (!gen || gen.do_sample !== true) return {};
  const out: GenerationOptions = {};
  if (typeof gen.temperature === 'number') out.temperature = gen.temperature;
  if (typeof gen.top_p === 'number') out.top_p = gen.top_p;
  if (typeof gen.top_k === 'number') out.top_k = gen.top_k;
  if (typeof gen.repetition_penalty === 'number') out.repetition_penalty = gen.repetition_penalty;
  return out;
}

function readHf(dir: string, dtype?: Dtype): ModelSpec {
  const config = readJson(join(dir, 'config.json'), true)!;
  const gen = readJson(join(dir, 'generation_config.json'), false);
  const picked = pickOnnxFile(dir, dtype);
  const heads = config.num_attention_heads;
  return {
    dir,
    layout: 'hf',
    name: basename(dir),
    onnxPath: picked.path,
    dtype: picked.dtype,
    tokenizerJson: readJson(join(dir, 'tokenizer.json'), true)!,
    tokenizerConfig: readJson(join(dir, 'tokenizer_config.json'), false) ?? {},
    contextLength: config.max_position_embeddings ?? config.n_positions ?? 2048,
    eosTokenIds: [...new Set([...ids(gen?.eos_token_id), ...ids(config.eos_token_id)])],
    numLayers: config.num_hidden_layers,
    numHeads: heads,
    numKvHeads: config.num_key_value_heads ?? heads,
    headDim: config.head_dim ?? (config.hidden_size && heads ? config.hidden_size / heads : undefined),
    ioNames: ONNX_COMMUNITY_NAMES,
    generationDefaults: generationDefaults(gen),
  };
}

function readGenai(dir: string): ModelSpec {
  const g = readJson(join(dir, 'genai_config.json'), true)!;
  const model: Json = g.model ?? {};
  const dec: Json = model.decoder ?? {};
  if (typeof dec.filename !== 'string') {
    throw new ReasondError('model_invalid', `${join(dir, 'genai_config.json')}: model.decoder.filename is missing`);
  }
  const onnxPath = resolve(dir, dec.filename);
  if (!existsSync(onnxPath)) {
    throw new ReasondError('model_invalid', `genai_config.json names ${dec.filename}, but ${onnxPath} does not exist`);
  }
  const inp: Json = dec.inputs ?? {};
  const out: Json = dec.outputs ?? {};
  const search: Json = g.search ?? {};
  return {
    dir,
    layout: 'genai',
    name: basename(dir),
    onnxPath,
    dtype: 'genai',
    tokenizerJson: readJson(join(dir, 'tokenizer.json'), true)!,
    tokenizerConfig: readJson(join(dir, 'tokenizer_config.json'), false) ?? {},
    contextLength: model.context_length ?? search.max_length ?? 2048,
    eosTokenIds: ids(model.eos_token_id),
    numLayers: dec.num_hidden_layers,
    numHeads: dec.num_attention_heads,
    numKvHeads: dec.num_key_value_heads ?? dec.num_attention_heads,
    headDim: dec.head_size,
    ioNames: {
      inputIds: inp.input_ids ?? 'input_ids',
      attentionMask: inp.attention_mask ?? 'attention_mask',
      positionIds: inp.position_ids ?? 'position_ids',
      pastKey: inp.past_key_names ?? 'past_key_values.%d.key',
      pastValue: inp.past_value_names ?? 'past_key_values.%d.value',
      presentKey: out.present_key_names ?? 'present.%d.key',
      presentValue: out.present_value_names ?? 'present.%d.value',
      pastCombined: typeof inp.past_names === 'string' ? inp.past_names : undefined,
      presentCombined: typeof out.present_names === 'string' ? out.present_names : undefined,
      logits: out.logits ?? 'logits',
    },
    generationDefaults: search.do_sample === true ? generationDefaults({ ...search, do_sample: true }) : {},
  };
}

/** Reads a model folder in either layout; errors name the path and what is missing. */
export function readModelFolder(dirArg: string, dtype?: Dtype): ModelSpec {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new ReasondError('model_not_found', `model folder ${dir} does not exist`);
  if (!statSync(dir).isDirectory()) throw new ReasondError('model_not_found', `${dir} is not a folder`);
  const genai = existsSync(join(dir, 'genai_config.json'));
  if (!genai && !existsSync(join(dir, 'config.json'))) {
    throw new ReasondError(
      'model_invalid',
      `${dir} is not a model folder: it has neither config.json (onnx-community layout) nor genai_config.json (onnxruntime-genai layout)`,
    );
  }
  const spec = genai ? readGenai(dir) : readHf(dir, dtype);
  const id = manifestIdentity(dir);
  if (id.name) spec.name = id.name;
  if (id.version) spec.version = id.version;
  if (!spec.eosTokenIds.length) {
    throw new ReasondError('model_invalid', `${dir} names no eos_token_id (generation_config.json, config.json or genai_config.json)`);
  }
  return spec;
}
