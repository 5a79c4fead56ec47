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
import { OwnedKvCache } from './kv-cache.js';
import type { LoadedModel } from './load-model.js';
import { resolveOptions, type ResolvedOptions } from './options.js';
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

/** A row's outcome of a pass: the last position's logits, or, for a greedy pass on a graph with the
 *  argmax output, only the chosen token (the logits stay inside onnxruntime). */
type Pass = { logits: Float32Array; token?: undefined } | { logits?: undefined; token: number };

/**
 * One forward pass over rows [first, first + feeds.length) of the model's cache, each feeding the same
 * number of tokens; returns each row's outcome at its last position. A single-row cache (a plain graph)
 * takes first = 0 and one row.
 */
async function forward(model: LoadedModel, first: number, feeds: number[][], greedy: boolean, profile?: (runMs: number, kvMs: number) => void): Promise<Pass[]> {
  const t0 = profile ? performance.now() : 0;
  const io = model.io;
  const cache = model.cache;
  const fetch = greedy && io.argmax ? model.greedyFetches : undefined;
  const n = feeds[0].length;
  const inputs = cache instanceof OwnedKvCache ? cache.feedRows(first, feeds) : cache.feeds(feeds[0]);
  const outputs = await model.session.run(inputs, fetch);
  if (model.passes) {
    Atomics.add(model.passes, 0, 1);
    Atomics.notify(model.passes, 0);
  }
  const t1 = profile ? performance.now() : 0;
  if (cache instanceof OwnedKvCache) cache.updateRows(outputs, first, feeds.length, n);
  else cache.update(outputs, n);
  if (profile) profile(t1 - t0, performance.now() - t1);
  if (fetch) {
    const ids = outputs[io.argmax!].data as BigInt64Array;
    const per = ids.length / feeds.length;
    return feeds.map((_, r) => ({ token: Number(ids[(r + 1) * per - 1]) }));
  }
  const t = outputs[io.logits];
  const vocab = t.dims[t.dims.length - 1];
  const data = t.data as Float32Array | Uint16Array;
  const per = data.length / feeds.length;
  // onnxruntime-node hands every output over in a fresh JavaScript buffer of our own, so each row's last
  // logits are used in place (sampling may change them) rather than copied: 0.3 ms a step at 151,936 tokens.
  return feeds.map((_, r) => {
    const last = data.subarray((r + 1) * per - vocab, (r + 1) * per);
    return { logits: t.type === 'float16' ? halvesToFloats(last as Uint16Array) : (last as Float32Array) };
  });
}

/**
 * Runs a generation on the model: alone, or as one row of a batch with the others running (issue 14).
 * Rejects at once with invalid_request or context_overflow for a request it cannot run.
 */
export function generate(model: LoadedModel, req: GenerateRequest, ctl: GenerateControl = {}): Promise<GenerationResult> {
  let gen: Generation;
  try {
    gen = new Generation(model, req, ctl);
  } catch (e) {
    return Promise.reject(e);
  }
  let batcher = batchers.get(model);
  if (!batcher) batchers.set(model, (batcher = new Batcher(model)));
  return batcher.add(gen);
}

const batchers = new WeakMap<LoadedModel, Batcher>();

/** Generations in the model's cache now, feeding their prompt or stepping (the batching tests watch it; the agent counts its running tasks in task/runner.ts). */
export const activeRows = (model: LoadedModel): number => batchers.get(model)?.active ?? 0;

/** One generation's state between forward passes: what it feeds next, and what it makes of a pass. */
class Generation {
  readonly opts: ResolvedOptions;
  readonly promptIds: number[];
  /** Greedy with nothing to apply to the logits: the graph's own argmax will do (rewrites/argmax.ts). */
  readonly greedy: boolean;
  /** The reference mode: the whole sequence again at every step, alone in the cache. */
  readonly recompute: boolean;
  finish?: FinishReason;
  private readonly now: () => number;
  private readonly started: number;
  private readonly maxNew: number;
  private readonly eos: Set<number>;
  private readonly rng: () => number;
  private readonly decoders: Record<Channel, IncrementalDecoder>;
  private readonly texts: Record<Channel, ChannelText>;
  private seq = 0;
  private inReasoning: boolean;
  private reasoningDone = false;
  private budgetHit = false;
  private readonly all: number[];
  private readonly generated: number[] = [];
  /** Tokens not yet fed: the prompt (or what is left of it), then the last token chosen. */
  private pending: number[];
  private prefillStart?: number;
  private prefillMs = 0;
  private firstTokenAt = 0;

  constructor(private readonly model: LoadedModel, req: GenerateRequest, readonly ctl: GenerateControl) {
    this.now = ctl.now ?? Date.now;
    this.started = this.now();
    const ctx = model.info.context_length;
    this.opts = resolveOptions(req, model.spec.generationDefaults, ctx);
    this.promptIds = promptTokens(model, req);
    if (this.opts.budget_tokens !== undefined && model.thinkCloseId === undefined) {
      throw new ReasondError('invalid_request', `reasoning.budget_tokens is set, but model ${model.info.name} has no </think> token to close its reasoning with`);
    }
    this.maxNew = Math.min(this.opts.max_new_tokens, ctx - this.promptIds.length);
    this.eos = new Set(model.info.eos_token_ids);
    this.rng = createRng(this.opts.seed);
    const decode = (ids: number[]) => model.tokenizer.decode(ids);
    this.decoders = { reasoning: new IncrementalDecoder(decode), answer: new IncrementalDecoder(decode) };
    this.texts = { reasoning: new ChannelText(this.opts.stop), answer: new ChannelText(this.opts.stop) };
    // A template that ends by opening <think> (DeepSeek-R1-Distill) starts us inside the reasoning.
    const ids = this.promptIds;
    this.inReasoning = model.thinkOpenId !== undefined && ids.lastIndexOf(model.thinkOpenId) > ids.lastIndexOf(model.thinkCloseId ?? -1);
    this.greedy = this.opts.temperature <= 0 && this.opts.repetition_penalty === 1;
    this.recompute = ctl.useCache === false;
    this.all = [...ids];
    this.pending = ids;
  }

  /** Still feeding its prompt (no token chosen yet). */
  get prefilling(): boolean {
    return this.generated.length === 0;
  }

  get pauseMs(): number {
    return this.opts.step_pause_ms;
  }

  /** Ends the generation before its next pass if it was cancelled or its deadline passed; says whether it ended. */
  endsBeforePass(): boolean {
    if (this.finish !== undefined) return true;
    if (this.ctl.cancelled?.()) this.finish = 'cancelled';
    else if (this.opts.deadline_at !== undefined && this.now() >= this.opts.deadline_at) this.finish = 'deadline';
    return this.finish !== undefined;
  }

  /** The tokens of the next pass: a prompt chunk of at most `chunk` tokens (0: all), or the last token chosen. */
  nextFeed(chunk: number): number[] {
    this.prefillStart ??= this.now();
    if (this.recompute) return this.all;
    return chunk > 0 && this.pending.length > chunk ? this.pending.slice(0, chunk) : this.pending;
  }

  /** Takes a pass that fed `fed` tokens of nextFeed(): a chunk mid-prompt only advances; the end of the prompt or a step chooses a token. */
  afterPass(fed: number, pass: Pass): void {
    if (!this.recompute && fed < this.pending.length) {
      this.pending = this.pending.slice(fed);
      return;
    }
    const { model, opts, decoders, texts } = this;
    if (this.generated.length === 0) this.prefillMs = this.now() - this.prefillStart!;
    let next: number;
    if (this.inReasoning && opts.budget_tokens !== undefined && decoders.reasoning.tokens.length >= opts.budget_tokens) {
      next = model.thinkCloseId!;
      this.budgetHit = true;
    } else if (pass.token !== undefined) {
      next = pass.token;
    } else {
      applyRepetitionPenalty(pass.logits, this.all, opts.repetition_penalty);
      next = sampleToken(pass.logits, opts, this.rng);
    }
    this.generated.push(next);
    this.all.push(next);
    this.pending = [next];
    if (this.generated.length === 1) this.firstTokenAt = this.now();
    if (this.eos.has(next)) {
      this.finish = 'stop';
      return;
    }
    if (next === model.thinkOpenId && !this.inReasoning && !this.reasoningDone && decoders.answer.tokens.length === 0) {
      this.inReasoning = true;
    } else if (next === model.thinkCloseId && this.inReasoning) {
      this.inReasoning = false;
      this.reasoningDone = true;
      this.emit('reasoning', texts.reasoning.append(decoders.reasoning.flush()) + texts.reasoning.finish());
    } else {
      const channel: Channel = this.inReasoning ? 'reasoning' : 'answer';
      this.emit(channel, texts[channel].append(decoders[channel].push(next)));
      if (texts[channel].stopped) {
        this.finish = 'stop';
        return;
      }
    }
    if (this.generated.length >= this.maxNew) this.finish = 'length';
  }

  result(): GenerationResult {
    const { texts, decoders, opts, model } = this;
    for (const c of ['reasoning', 'answer'] as const) this.emit(c, texts[c].append(decoders[c].flush()) + texts[c].finish());
    const finish = this.budgetHit && this.finish === 'stop' ? 'budget' : this.finish;
    const ended = this.now();
    const decodeMs = this.firstTokenAt ? ended - this.firstTokenAt : 0;
    const n = this.generated.length;
    return {
      answer: texts.answer.text,
      reasoning: opts.include_reasoning ? texts.reasoning.text : '',
      finish_reason: finish!,
      usage: {
        prompt_tokens: this.promptIds.length,
        reasoning_tokens: decoders.reasoning.tokens.length,
        answer_tokens: decoders.answer.tokens.length,
        completion_tokens: n,
      },
      timing: {
        first_token_ms: this.firstTokenAt ? this.firstTokenAt - this.started : 0,
        prefill_ms: this.prefillMs,
        total_ms: ended - this.started,
        prefill_tokens_per_s: this.prefillMs > 0 ? round(this.promptIds.length / (this.prefillMs / 1000)) : 0,
        decode_tokens_per_s: decodeMs > 0 && n > 1 ? round((n - 1) / (decodeMs / 1000)) : 0,
      },
      model: { name: model.info.name, version: model.info.version, dtype: model.info.dtype, file: model.info.file },
      tokens: this.generated,
    };
  }

  private emit(channel: Channel, text: string): void {
    if (text && this.ctl.onDelta && (channel === 'answer' || this.opts.include_reasoning)) this.ctl.onDelta({ channel, text, seq: this.seq++ });
  }
}

interface Entry {
  gen: Generation;
  resolve: (r: GenerationResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Continuous batching (issue 14). Generations wait in arrival order and join the running ones at a
 * step boundary, up to the cache's rows. Cache rows [0, decoding) hold generations past their prompt;
 * row `decoding`, if taken, holds the one generation feeding its prompt. Each round runs one prompt
 * chunk for it (a pass of its own, so the others' steps are not held up by a whole long prompt), then
 * one step for all decoding rows in a single pass. A generation that ends leaves before the next pass;
 * the last decoding row moves into its place so the rows a pass covers stay contiguous.
 */
class Batcher {
  private readonly waiting: Entry[] = [];
  private readonly rows: Entry[] = [];
  private decoding = 0;
  private running = false;

  constructor(private readonly model: LoadedModel) {}

  /** Generations in the cache now (prompt or steps). */
  get active(): number {
    return this.rows.length;
  }

  add(gen: Generation): Promise<GenerationResult> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ gen, resolve, reject });
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.rows.length || this.waiting.length) {
        try {
          await this.round();
        } catch (e) {
          // a fault outside any one pass (none is known): every generation in the cache ends with it, the waiting ones go on
          while (this.rows.length) this.leave(this.rows.length - 1, e);
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async round(): Promise<void> {
    const model = this.model;
    for (let i = this.rows.length - 1; i >= 0; i--) if (this.rows[i].gen.endsBeforePass()) this.leave(i);
    for (let i = this.waiting.length - 1; i >= 0; i--) {
      const w = this.waiting[i];
      if (w.gen.endsBeforePass()) {
        this.waiting.splice(i, 1);
        this.settle(w);
      }
    }
    this.admit();
    /** Generations that chose a token this round (the thermal guard's pause follows a step, not a prompt chunk). */
    const stepped: Generation[] = [];
    // A generation whose prompt ends in this round steps from the next one: every pass is preceded by a
    // cancel and deadline check, and its first token is not followed at once by a second.
    const stepping = this.decoding;
    const filling = this.decoding < this.rows.length ? this.rows[this.decoding] : undefined;
    if (filling) {
      const gen = filling.gen;
      const feed = gen.nextFeed(gen.recompute ? 0 : model.prefillChunk);
      if (gen.recompute) model.cache.reset();
      const pass = await this.run(this.decoding, [feed], gen.greedy, 1);
      if (pass) {
        gen.afterPass(feed.length, pass[0]);
        if (!gen.prefilling) stepped.push(gen);
        if (gen.finish !== undefined) this.leave(this.decoding);
        else if (!gen.prefilling && !gen.recompute) this.decoding++;
      }
    }
    if (stepping > 0) {
      const batch = this.rows.slice(0, stepping);
      const feeds = batch.map((e) => e.gen.nextFeed(0));
      const greedy = batch.every((e) => e.gen.greedy);
      const profiled = batch.filter((e) => e.gen.ctl.profile);
      const profile = profiled.length ? (runMs: number, kvMs: number) => profiled.forEach((e) => addStep(e.gen.ctl.profile!, runMs, kvMs)) : undefined;
      const passes = await this.run(0, feeds, greedy, batch.length, profile);
      if (passes) {
        for (let r = 0; r < batch.length; r++) {
          const gen = batch[r].gen;
          const t = gen.ctl.profile ? performance.now() : 0;
          gen.afterPass(1, passes[r]);
          if (t) gen.ctl.profile!.sample_ms += performance.now() - t;
          stepped.push(gen);
        }
        // downwards: a leaving row takes a higher one's place, and the higher ones were looked at already
        for (let r = batch.length - 1; r >= 0; r--) if (batch[r].gen.finish !== undefined) this.leave(r);
      }
    }
    // The thermal guard's pacing: the longest pause a generation still running asks for, once per round.
    const going = stepped.filter((g) => g.finish === undefined);
    const pause = Math.max(0, ...going.map((g) => g.pauseMs));
    if (pause > 0) await (going.find((g) => g.ctl.sleep)?.ctl.sleep ?? realSleep)(pause);
  }

  /** Takes waiting generations into free rows: one feeding its prompt at a time; a recomputing one only alone. */
  private admit(): void {
    const cache = this.model.cache;
    const rows = cache instanceof OwnedKvCache ? cache.rows : 1;
    while (this.waiting.length && this.decoding === this.rows.length && this.rows.length < rows) {
      if (this.waiting[0].gen.recompute && this.rows.length > 0) return;
      if (this.rows.some((e) => e.gen.recompute)) return;
      const next = this.waiting.shift()!;
      this.resetRow(this.rows.length);
      this.rows.push(next);
    }
  }

  /** One pass over `count` rows from `first`; a failure ends each generation in it with the error, and the others go on. */
  private async run(first: number, feeds: number[][], greedy: boolean, count: number, profile?: (runMs: number, kvMs: number) => void): Promise<Pass[] | undefined> {
    try {
      return await forward(this.model, first, feeds, greedy, profile);
    } catch (e) {
      for (let i = first + count - 1; i >= first; i--) this.leave(i, e);
      return undefined;
    }
  }

  /**
   * Row `i` leaves and is settled. A decoding row's place goes to the last decoding row, whose place goes
   * to the generation feeding its prompt, if any: rows [0, decoding) and the prompt row stay contiguous.
   */
  private leave(i: number, error?: unknown): void {
    const entry = this.rows[i];
    if (i < this.decoding) {
      const last = this.decoding - 1;
      if (i !== last) {
        this.moveRow(last, i);
        this.rows[i] = this.rows[last];
      }
      if (this.rows.length > this.decoding) {
        this.moveRow(this.decoding, last);
        this.rows[last] = this.rows[this.decoding];
      }
      this.rows.length -= 1;
      this.decoding--;
    } else {
      this.rows.splice(i, 1);
    }
    this.resetRow(this.rows.length);
    this.settle(entry, error);
  }

  private settle(entry: Entry, error?: unknown): void {
    if (error !== undefined) return entry.reject(error);
    try {
      entry.resolve(entry.gen.result());
    } catch (e) {
      entry.reject(e);
    }
  }

  private moveRow(from: number, to: number): void {
    const cache = this.model.cache;
    if (cache instanceof OwnedKvCache) cache.moveRow(from, to);
  }

  private resetRow(row: number): void {
    const cache = this.model.cache;
    if (cache instanceof OwnedKvCache) cache.resetRow(row);
    else cache.reset();
  }
}

function addStep(p: StepProfile, runMs: number, kvMs: number): void {
  p.steps++;
  p.run_ms += runMs;
  p.kv_write_ms += kvMs;
}

const round = (x: number) => Math.round(x * 10) / 10;
