/**
 * The generation loop: prefill, then one token per step with the KV cache,
 * with the stop rules (eos ids, stop strings, max_new_tokens, deadline,
 * cancellation) any one of which ends it, and the reasoning budget, which
 * closes the thinking by inserting </think> itself.
 */
import { ReasondError } from '../core/errors.js';
import { ChannelText } from './channel-text.js';
import { IncrementalDecoder } from './detokenizer.js';
import { halvesToFloats } from './half.js';
import { KvCache } from './kv-cache.js';
import type { LoadedModel } from './load-model.js';
import { makeTensor, type Tensor } from './onnx-session.js';
import { resolveOptions } from './options.js';
import { applyRepetitionPenalty, createRng, sampleToken } from './sampling.js';
import type { Channel, ChatMessage, Delta, FinishReason, GenerateRequest, GenerationResult } from './types.js';

export interface GenerateControl {
  /** Polled between steps; true ends the generation as `cancelled`. */
  cancelled?: () => boolean;
  onDelta?: (delta: Delta) => void;
  now?: () => number;
  /** false recomputes the whole sequence at every step (the reference the cache is tested against). */
  useCache?: boolean;
  /** How a step pause is waited out; tests hand in a recorder. */
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function messagesOf(req: GenerateRequest): ChatMessage[] {
  if (req.messages !== undefined) {
    if (!Array.isArray(req.messages) || req.messages.length === 0) {
      throw new ReasondError('invalid_request', `messages must be a non-empty list; got ${JSON.stringify(req.messages)}`);
    }
    return req.messages;
  }
  if (typeof req.prompt !== 'string' || req.prompt.length === 0) {
    throw new ReasondError('invalid_request', `prompt must be a non-empty string; got ${JSON.stringify(req.prompt)}`);
  }
  return [{ role: 'user', content: req.prompt }];
}

/** Token ids of the chat-templated prompt, checked against the context window. */
export function promptTokens(model: Pick<LoadedModel, 'tokenizer' | 'template' | 'info'>, req: GenerateRequest): number[] {
  const ids = model.tokenizer.encode(model.template.render(messagesOf(req)));
  const ctx = model.info.context_length;
  if (ids.length >= ctx) {
    throw new ReasondError('context_overflow', `the prompt is ${ids.length} tokens; the model's context window is ${ctx} tokens, leaving no room to answer`);
  }
  return ids;
}

function intTensor(type: 'int64' | 'int32', values: number[], dims: number[]): Tensor {
  return type === 'int64'
    ? makeTensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims)
    : makeTensor('int32', Int32Array.from(values), dims);
}

async function forward(model: LoadedModel, cache: KvCache, tokens: number[]): Promise<{ logits: Float32Array; outputs: Record<string, Tensor> }> {
  const io = model.io;
  const past = cache.seqLength;
  const n = tokens.length;
  const feeds: Record<string, Tensor> = { ...cache.feeds(), [io.inputIds]: intTensor(io.idType, tokens, [1, n]) };
  if (io.attentionMask) feeds[io.attentionMask] = intTensor(io.maskType, new Array(past + n).fill(1), [1, past + n]);
  if (io.positionIds) feeds[io.positionIds] = intTensor(io.positionType, tokens.map((_, i) => past + i), [1, n]);
  const outputs = await model.session.run(feeds);
  const t = outputs[io.logits];
  const vocab = t.dims[t.dims.length - 1];
  const rows = t.dims.length === 3 ? t.dims[1] : 1;
  const data = t.data as Float32Array | Uint16Array;
  const last = data.subarray((rows - 1) * vocab, rows * vocab);
  // onnxruntime-node hands every output over in a fresh JavaScript buffer of our own, so the last
  // row is used in place (sampling may change it) rather than copied: 0.3 ms a step at 151,936 tokens.
  const logits = t.type === 'float16' ? halvesToFloats(last as Uint16Array) : (last as Float32Array);
  return { logits, outputs };
}

export async function generate(model: LoadedModel, req: GenerateRequest, ctl: GenerateControl = {}): Promise<GenerationResult> {
  const now = ctl.now ?? Date.now;
  const started = now();
  const ctx = model.info.context_length;
  const opts = resolveOptions(req, model.spec.generationDefaults, ctx);
  const promptIds = promptTokens(model, req);
  if (opts.budget_tokens !== undefined && model.thinkCloseId === undefined) {
    throw new ReasondError('invalid_request', `reasoning.budget_tokens is set, but model ${model.info.name} has no </think> token to close its reasoning with`);
  }
  const maxNew = Math.min(opts.max_new_tokens, ctx - promptIds.length);
  const eos = new Set(model.info.eos_token_ids);
  const rng = createRng(opts.seed);
  const decode = (ids: number[]) => model.tokenizer.decode(ids);
  const decoders: Record<Channel, IncrementalDecoder> = { reasoning: new IncrementalDecoder(decode), answer: new IncrementalDecoder(decode) };
  const texts: Record<Channel, ChannelText> = { reasoning: new ChannelText(opts.stop), answer: new ChannelText(opts.stop) };
  let seq = 0;
  const emit = (channel: Channel, text: string) => {
    if (text && ctl.onDelta && (channel === 'answer' || opts.include_reasoning)) ctl.onDelta({ channel, text, seq: seq++ });
  };

  // A template that ends by opening <think> (DeepSeek-R1-Distill) starts us inside the reasoning.
  let inReasoning = model.thinkOpenId !== undefined && promptIds.lastIndexOf(model.thinkOpenId) > promptIds.lastIndexOf(model.thinkCloseId ?? -1);
  let reasoningDone = false;
  let budgetHit = false;
  const cache = new KvCache(model.io);
  const all = [...promptIds];
  const generated: number[] = [];
  let pending = promptIds;
  let prefillStart: number | undefined;
  let prefillMs = 0;
  let firstTokenAt = 0;
  let finish: FinishReason | undefined;

  try {
    while (finish === undefined) {
      if (ctl.cancelled?.()) { finish = 'cancelled'; break; }
      if (opts.deadline_at !== undefined && now() >= opts.deadline_at) { finish = 'deadline'; break; }
      const useCache = ctl.useCache !== false;
      prefillStart ??= now();
      // A long prompt goes in model.prefillChunk tokens at a time; only the last pass's logits are used.
      const chunked = useCache && model.prefillChunk > 0 && pending.length > model.prefillChunk;
      const feed = chunked ? pending.slice(0, model.prefillChunk) : pending;
      const { logits, outputs } = await forward(model, useCache ? cache : new KvCache(model.io), useCache ? feed : all);
      if (useCache) cache.update(outputs, feed.length);
      else for (const l of model.io.layers) { outputs[l.presentKey].dispose?.(); outputs[l.presentValue].dispose?.(); }
      if (chunked) {
        pending = pending.slice(feed.length);
        continue;
      }
      if (generated.length === 0) prefillMs = now() - prefillStart;

      let next: number;
      if (inReasoning && opts.budget_tokens !== undefined && decoders.reasoning.tokens.length >= opts.budget_tokens) {
        next = model.thinkCloseId!;
        budgetHit = true;
      } else {
        applyRepetitionPenalty(logits, all, opts.repetition_penalty);
        next = sampleToken(logits, opts, rng);
      }
      generated.push(next);
      all.push(next);
      if (generated.length === 1) firstTokenAt = now();
      if (eos.has(next)) { finish = 'stop'; break; }

      if (next === model.thinkOpenId && !inReasoning && !reasoningDone && decoders.answer.tokens.length === 0) {
        inReasoning = true;
      } else if (next === model.thinkCloseId && inReasoning) {
        inReasoning = false;
        reasoningDone = true;
        emit('reasoning', texts.reasoning.append(decoders.reasoning.flush()) + texts.reasoning.finish());
      } else {
        const channel: Channel = inReasoning ? 'reasoning' : 'answer';
        emit(channel, texts[channel].append(decoders[channel].push(next)));
        if (texts[channel].stopped) { finish = 'stop'; break; }
      }
      if (generated.length >= maxNew) { finish = 'length'; break; }
      pending = [next];
      if (opts.step_pause_ms > 0) await (ctl.sleep ?? realSleep)(opts.step_pause_ms);
    }
  } finally {
    cache.dispose();
  }

  for (const c of ['reasoning', 'answer'] as const) emit(c, texts[c].append(decoders[c].flush()) + texts[c].finish());
  if (budgetHit && finish === 'stop') finish = 'budget';
  const ended = now();
  const decodeMs = firstTokenAt ? ended - firstTokenAt : 0;
  return {
    answer: texts.answer.text,
    reasoning: opts.include_reasoning ? texts.reasoning.text : '',
    finish_reason: finish,
    usage: {
      prompt_tokens: promptIds.length,
      reasoning_tokens: decoders.reasoning.tokens.length,
      answer_tokens: decoders.answer.tokens.length,
      completion_tokens: generated.length,
    },
    timing: {
      first_token_ms: firstTokenAt ? firstTokenAt - started : 0,
      prefill_ms: prefillMs,
      total_ms: ended - started,
      prefill_tokens_per_s: prefillMs > 0 ? round(promptIds.length / (prefillMs / 1000)) : 0,
      decode_tokens_per_s: decodeMs > 0 && generated.length > 1 ? round((generated.length - 1) / (decodeMs / 1000)) : 0,
    },
    model: { name: model.info.name, version: model.info.version, dtype: model.info.dtype, file: model.info.file },
    tokens: generated,
  };
}

const round = (x: number) => Math.round(x * 10) / 10;
