/**
 * The generation loop: prefill, then one token per step with the KV cache,
 * with the stop rules (eos ids, stop strings, max_new_tokens, deadline,
 * cancellation) any one of which ends it, and the reasoning budget, which
 * closes the thinking by inserting </think> itself.
 */
import { performance } from 'node:perf_hooks';
import { ReasondError } from '../core/errors.js';
import { ChannelText } from './channel-text.js';
import { IncrementalDecoder } from './detokenizer.js';
import { halvesToFloats } from './half.js';
import type { KvCache } from './kv-cache.js';
import type { LoadedModel } from './load-model.js';
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
  /** Filled with where the decode steps' time went (the benchmark's per-step split). */
  profile?: StepProfile;
}

/** Milliseconds summed over decode steps (prefill passes excluded). */
export interface StepProfile {
  steps: number;
  run_ms: number;
  kv_write_ms: number;
  sample_ms: number;
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

/** A pass's outcome: the last position's logits, or, for a greedy step on a graph with the argmax
 *  output, only the chosen token (the logits stay inside onnxruntime). */
type Pass = { logits: Float32Array; token?: undefined } | { logits?: undefined; token: number };

async function forward(model: LoadedModel, cache: KvCache, tokens: number[], greedy: boolean, profile?: StepProfile): Promise<Pass> {
  const t0 = profile ? performance.now() : 0;
  const io = model.io;
  const fetch = greedy && io.argmax ? model.greedyFetches : undefined;
  const outputs = await model.session.run(cache.feeds(tokens), fetch);
  const t1 = profile ? performance.now() : 0;
  cache.update(outputs, tokens.length);
  if (profile) {
    profile.run_ms += t1 - t0;
    profile.kv_write_ms += performance.now() - t1;
  }
  if (fetch) {
    const ids = outputs[io.argmax!].data as BigInt64Array;
    return { token: Number(ids[ids.length - 1]) };
  }
  const t = outputs[io.logits];
  const vocab = t.dims[t.dims.length - 1];
  const data = t.data as Float32Array | Uint16Array;
  const last = data.subarray(data.length - vocab);
  // onnxruntime-node hands every output over in a fresh JavaScript buffer of our own, so the last
  // row is used in place (sampling may change it) rather than copied: 0.3 ms a step at 151,936 tokens.
  return { logits: t.type === 'float16' ? halvesToFloats(last as Uint16Array) : (last as Float32Array) };
}

/** Generations on one model take turns: they share its KV cache (the worker runs one at a time anyway). */
export async function generate(model: LoadedModel, req: GenerateRequest, ctl: GenerateControl = {}): Promise<GenerationResult> {
  const turn = model.turn.then(() => generateAlone(model, req, ctl));
  model.turn = turn.then(
    () => undefined,
    () => undefined,
  );
  return turn;
}

async function generateAlone(model: LoadedModel, req: GenerateRequest, ctl: GenerateControl): Promise<GenerationResult> {
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
  const cache = model.cache;
  cache.reset();
  // Greedy with nothing to apply to the logits: the graph's own argmax will do (rewrites/argmax.ts).
  const greedy = opts.temperature <= 0 && opts.repetition_penalty === 1;
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
      if (!useCache) cache.reset(); // the reference mode: the whole sequence again at every step
      const decoding = generated.length > 0;
      const pass = await forward(model, cache, useCache ? feed : all, greedy, decoding ? ctl.profile : undefined);
      const sampleStart = ctl.profile && decoding ? performance.now() : 0;
      if (chunked) {
        pending = pending.slice(feed.length);
        continue;
      }
      if (generated.length === 0) prefillMs = now() - prefillStart;

      let next: number;
      if (inReasoning && opts.budget_tokens !== undefined && decoders.reasoning.tokens.length >= opts.budget_tokens) {
        next = model.thinkCloseId!;
        budgetHit = true;
      } else if (pass.token !== undefined) {
        next = pass.token;
      } else {
        applyRepetitionPenalty(pass.logits, all, opts.repetition_penalty);
        next = sampleToken(pass.logits, opts, rng);
      }
      if (sampleStart) {
        ctl.profile!.sample_ms += performance.now() - sampleStart;
        ctl.profile!.steps++;
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
    cache.reset();
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
