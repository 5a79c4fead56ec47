/**
 * Opens a model folder: reads it, opens the ONNX session, maps the graph's
 * inputs and outputs, loads the tokenizer and chat template. Runs where the
 * forward passes run (the engine worker), and directly in tests.
 */
import os from 'node:os';
import { ReasondError } from '../core/errors.js';
import { loadChatTemplate, type ChatTemplate } from './chat-template.js';
import { describeIo, type DecoderIo } from './graph-io.js';
import { FeedbackKvCache, OwnedKvCache, type KvCache } from './kv-cache.js';
import { readModelFolder, type ModelSpec } from './model-folder.js';
import type { OnnxSession } from './onnx-session.js';
import { prepareGraph } from './prepared-graph.js';
import type { ActivationRounding, RewriteName } from './rewrites/index.js';
import { loadTokenizer, type TextTokenizer } from './tokenizer.js';
import { batchProbe, batchTolerance, type Tolerance } from './self-test.js';
import { DEFAULT_CONTEXT_TOKENS, DEFAULT_MAX_BATCH, DEFAULT_PREFILL_CHUNK, MAX_BATCH_LIMIT, type LoadOptions, type ModelInfo } from './types.js';

export interface LoadedModel {
  spec: ModelSpec;
  session: OnnxSession;
  io: DecoderIo;
  tokenizer: TextTokenizer;
  template: ChatTemplate;
  info: ModelInfo;
  thinkOpenId?: number;
  thinkCloseId?: number;
  /** Prompt tokens per forward pass; 0 = all at once. */
  prefillChunk: number;
  /** The KV cache, shared by the generations running (one row each; generate.ts's Batcher). */
  cache: KvCache;
  rewrites: RewriteName[];
  /** What a greedy pass fetches when the graph has the argmax output: it and the cache, not the logits. */
  greedyFetches: string[];
  /** Forward passes run, shared with the main thread (Engine.passCounter). */
  passes?: Int32Array;
}

/** A short question for the graph self-test; any text the tokenizer can encode would do. */
const PROBE_PROMPT = 'What is 17 + 25?';

export async function loadModel(dir: string, options: LoadOptions = {}, log: (line: string) => void = () => {}): Promise<LoadedModel> {
  const spec = readModelFolder(dir, options.dtype);
  const tokenizer = loadTokenizer(spec.tokenizerJson!, spec.tokenizerConfig);
  spec.tokenizerJson = null;
  const template = loadChatTemplate(spec.tokenizerConfig);
  const prefillChunk = options.prefill_chunk ?? DEFAULT_PREFILL_CHUNK;
  if (!Number.isInteger(prefillChunk) || prefillChunk < 0) {
    throw new ReasondError('invalid_request', `prefill_chunk must be a whole number of tokens, 0 or more; got ${prefillChunk}`);
  }
  const wanted = options.context_tokens ?? DEFAULT_CONTEXT_TOKENS;
  if (!Number.isInteger(wanted) || wanted < 0) {
    throw new ReasondError('invalid_request', `context_tokens must be a whole number of tokens, 0 or more; got ${wanted}`);
  }
  const maxBatch = options.max_batch ?? DEFAULT_MAX_BATCH;
  if (!Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > MAX_BATCH_LIMIT) {
    throw new ReasondError('invalid_request', `max_batch must be a whole number from 1 to ${MAX_BATCH_LIMIT}; got ${maxBatch}`);
  }
  const context = wanted === 0 ? spec.contextLength : Math.min(wanted, spec.contextLength);
  const probeIds = tokenizer.encode(template.render([{ role: 'user', content: PROBE_PROMPT }]));
  const graph = await prepareGraph(spec, probeIds, { ...options, rewrites: options.graph_rewrites, cacheDir: options.graph_cache_dir }, log);
  const { session, io } = graph;
  log(`graph: ${graph.note}`);
  const batch = graph.rewrites.includes('delta_kv') ? await batchRows(session, io, probeIds, maxBatch, looseBatch(graph.rewrites, graph.rounding)) : { rows: 1, note: maxBatch > 1 ? 'a plain graph runs one generation at a time' : undefined };
  if (batch.note && maxBatch > 1) log(batch.rows > 1 ? `batching: ${batch.note}` : `batching off: ${batch.note}`);
  if (graph.rewrites.includes('delta_kv')) {
    const need = OwnedKvCache.bytesFor(io, context, batch.rows);
    const have = options.available_memory ?? os.freemem();
    if (need > have) {
      await session.release();
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
      throw new ReasondError('invalid_config', `max_batch ${batch.rows} x context_tokens ${context} needs a KV cache of ${mib(need)}, and ${mib(have)} of memory is available: lower max_batch or context_tokens`);
    }
  }
  const cache = graph.rewrites.includes('delta_kv') ? new OwnedKvCache(io, context, batch.rows) : new FeedbackKvCache(io);
  const thinkOpenId = tokenizer.tokenId('<think>');
  const thinkCloseId = tokenizer.tokenId('</think>');
  const probe = template.render([{ role: 'user', content: 'x' }]);
  const info: ModelInfo = {
    name: spec.name,
    version: spec.version,
    dtype: spec.dtype,
    file: spec.onnxPath,
    graph: graph.path,
    rewrites: graph.rewrites,
    graph_note: graph.note,
    kv_cache_bytes: cache instanceof OwnedKvCache ? cache.bytes : 0,
    max_batch: batch.rows,
    ...(batch.note ? { batch_note: batch.note } : {}),
    dir: spec.dir,
    layout: spec.layout,
    context_length: context,
    eos_token_ids: spec.eosTokenIds,
    execution_provider: session.executionProvider,
    threads: session.threads,
    template_opens_thinking: /<think>\s*$/.test(probe),
    supports_reasoning: thinkOpenId !== undefined && thinkCloseId !== undefined,
  };
  const kv = info.kv_cache_bytes ? `, KV cache ${(info.kv_cache_bytes / 2 ** 20).toFixed(1)} MiB reserved for ${batch.rows} x ${context} positions` : '';
  log(`model ${info.name}${info.version ? ' ' + info.version : ''}: ${spec.layout} layout, file ${spec.onnxPath} (dtype ${spec.dtype}), ${describeIo(io)}, context ${info.context_length}${kv}, ${info.execution_provider} x${info.threads} threads`);
  return { spec, session, io, tokenizer, template, info, thinkOpenId, thinkCloseId, prefillChunk, cache, rewrites: graph.rewrites,
    greedyFetches: io.argmax ? [io.argmax, ...io.cache.map((c) => c.present)] : [] };
}

/**
 * A graph that rounds its activations at run time (rewrites/index.ts activationRounding) may round a
 * batched row by another path, or by its batch's range, than the row alone: it batches within the
 * tolerance batchTolerance gives it, and the note says why. Other graphs batch only exactly.
 */
function looseBatch(rewrites: string[], rounding: ActivationRounding | undefined): { tol: Tolerance; why: string; hint?: string } | undefined {
  const tol = rounding && batchTolerance(rounding);
  if (!tol) return undefined;
  if (rounding === 'requantized') return { tol, why: "the graph re-quantizes its activations per pass (an int8 file), so a batch's rows are within its tolerance of a row alone" };
  if (rewrites.includes('accuracy_level_4')) return { tol, why: "accuracy_level 4 computes a batch's rows within its tolerance of a row alone", hint: 'graph_rewrites kv batches exactly, slower' };
  return { tol, why: "the file's MatMulNBits round activations to int8 (accuracy_level 4), so a batch's rows are within its tolerance of a row alone" };
}

/**
 * How many rows the graph serves: `wanted`, once a two-row pass (prompts of different lengths, then
 * steps together) gives each row exactly what it gives alone, or within `loose`'s tolerance; 1 with the
 * reason otherwise. A graph whose attention does not honour a per-row mask (a fused op that assumes a
 * contiguous past) fails here.
 */
async function batchRows(session: OnnxSession, io: DecoderIo, probeIds: number[], wanted: number, loose: { tol: Tolerance; why: string; hint?: string } | undefined): Promise<{ rows: number; note?: string }> {
  if (wanted === 1) return { rows: 1 };
  if (io.cacheLayout === 'combined') return { rows: 1, note: "the graph's combined cache ([2, batch, ...]) keeps a row's keys and values apart" };
  try {
    const exact = await batchProbe(session, io, probeIds);
    if (exact === undefined) return { rows: wanted };
    if (!loose) return { rows: 1, note: `two rows in one pass did not match each row alone (${exact})` };
    const close = await batchProbe(session, io, probeIds, loose.tol);
    if (close !== undefined) return { rows: 1, note: `two rows in one pass did not match each row alone (${close})` };
    return { rows: wanted, note: `${loose.why}, not exactly (${exact})${loose.hint ? `; ${loose.hint}` : ''}` };
  } catch (e) {
    return { rows: 1, note: `the graph did not run two rows: ${(e as Error).message.split('\n')[0]}` };
  }
}

export async function unloadModel(model: LoadedModel | undefined): Promise<void> {
  if (model) await model.session.release();
}

export function assertModel(model: LoadedModel | undefined): LoadedModel {
  if (!model) throw new ReasondError('model_unavailable', 'no model is loaded');
  return model;
}
