/**
 * The engine suite (issue 9): reasond's engine, the floor and transformers.js
 * on one model, at several prompt lengths, greedy, same threads, the order
 * rotated every repetition. Each implementation's tokens are checked against
 * the floor's first; a mismatch is reported instead of its speed.
 */
import os from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { DEFAULT_PREFILL_CHUNK, Engine } from '../../engine/index.js';
import { generate, type StepProfile } from '../../engine/generate.js';
import { loadModel, unloadModel, type LoadedModel } from '../../engine/load-model.js';
import { FloorInWorker, type FetchCost } from '../floor.js';
import { TransformersPeerInWorker } from '../peer.js';
import { collector } from '../worker-rpc.js';
import { PromptMaker } from '../prompts.js';
import { firstMismatch, interleave, ratios, round, summarize, type Summary } from '../stats.js';

/**
 * engine_in_process: the same generate() on the calling thread, to tell the worker hop's cost from the loop's.
 * floor_rewritten: the floor's minimal loop on the graph the engine rewrote (issue 13), whose tokens the
 * engine's are checked against; speed ratios stay against the plain floor on the plain file.
 */
export type Impl = 'engine' | 'engine_in_process' | 'floor' | 'floor_rewritten' | 'transformers_js';

export interface EngineSuiteOptions {
  dir: string;
  threads: number;
  prefillChunk?: number;
  contexts: number[];
  newTokens: number;
  reps: number;
  fetchContexts: number[];
  progress: (line: string) => void;
}

interface Sample {
  tokens: number[];
  first_token_ms: number;
  decode_tokens_per_s: number;
  prefill_tokens_per_s: number;
}

export interface ImplFigures {
  decode_tokens_per_s?: Summary;
  prefill_tokens_per_s?: Summary;
  first_token_ms?: Summary;
  /** Per repetition against the floor run beside it; above 1 = faster than the floor (for first token: floor ms / this ms). */
  ratio_to_floor?: { decode: Summary; prefill: Summary; first_token: Summary };
  mismatch?: { at: number; floor: number[]; got: number[] };
  error?: string;
}

export interface ContextFigures {
  prompt_tokens: number;
  new_tokens: number;
  impls: Partial<Record<Impl, ImplFigures>>;
  /** The 1-minute load average before and after this context's runs. */
  load_average: [number, number];
  /** Something else was running: the load exceeded the bench's threads by more than one core. */
  noisy: boolean;
}

/** Milliseconds per decode step by phase, the plain graph with the feedback cache against the rewritten one. */
export interface StepSplit {
  prompt_tokens: number;
  graph: 'plain' | 'rewritten';
  steps: number;
  run_ms: number;
  kv_write_ms: number;
  sample_ms: number;
  gc_ms: number;
  other_ms: number;
}

export interface EngineSuiteResult {
  dtype: string;
  file: string;
  threads: number;
  reps: number;
  /** The graph the engine served and its rewrites. */
  graph: string;
  rewrites: string[];
  contexts: ContextFigures[];
  step_split: StepSplit[];
  fetch_cost: FetchCost[];
  skipped_contexts: number[];
}

const load1 = () => Math.round(os.loadavg()[0] * 100) / 100;

/** Decode-step split of one generation on the calling thread, with the garbage collector's time from V8
 *  (collections that started after the first token only). */
async function split(model: LoadedModel, graph: StepSplit['graph'], prompt: string, newTokens: number, promptTokens: number): Promise<StepSplit> {
  const collections: { start: number; ms: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) collections.push({ start: e.startTime, ms: e.duration });
  });
  obs.observe({ entryTypes: ['gc'] });
  const profile: StepProfile = { steps: 0, run_ms: 0, kv_write_ms: 0, sample_ms: 0 };
  const t0 = performance.now();
  const r = await generate(model, { prompt, temperature: 0, max_new_tokens: newTokens }, { profile });
  await new Promise((resolve) => setImmediate(resolve));
  obs.disconnect();
  const firstAt = t0 + r.timing.first_token_ms;
  const gc = collections.filter((c) => c.start >= firstAt).reduce((a, c) => a + c.ms, 0);
  const per = (x: number) => round(x / Math.max(1, profile.steps), 3);
  const known = profile.run_ms + profile.kv_write_ms + profile.sample_ms + gc;
  const decodeMs = r.timing.total_ms - r.timing.first_token_ms;
  return { prompt_tokens: promptTokens, graph, steps: profile.steps, run_ms: per(profile.run_ms), kv_write_ms: per(profile.kv_write_ms), sample_ms: per(profile.sample_ms), gc_ms: per(gc), other_ms: per(Math.max(0, decodeMs - known)) };
}

const perSec = (n: number, ms: number) => (ms > 0 ? (n / ms) * 1000 : 0);

export async function engineSuite(o: EngineSuiteOptions): Promise<EngineSuiteResult> {
  // The KV cache is sized for the longest run (the default 4096 positions would leave 4096 + new tokens out).
  const contextTokens = Math.max(...o.contexts) + o.newTokens + 256;
  const engine = new Engine({ model: o.dir, threads: o.threads, prefill_chunk: o.prefillChunk, context_tokens: contextTokens });
  const info = await engine.start();
  o.progress(`engine: ${info.graph_note}`);
  const floor = new FloorInWorker(info.file, info.threads, info.eos_token_ids);
  await floor.start();
  const chunk = o.prefillChunk ?? DEFAULT_PREFILL_CHUNK;
  const rewritten = info.rewrites.includes('delta_kv') ? new FloorInWorker(info.graph, info.threads, info.eos_token_ids, { chunk, capacity: info.context_length }) : undefined;
  await rewritten?.start();
  const peer = new TransformersPeerInWorker(o.dir, info.dtype, info.threads);
  let peerError: string | undefined;
  await peer.start().catch((e) => (peerError = `transformers.js could not load the model: ${(e as Error).message.split('\n')[0]}`));
  if (peerError) o.progress(peerError);
  const maker = new PromptMaker(o.dir, info.dtype as never);
  const inProcess = await loadModel(o.dir, { threads: info.threads, prefill_chunk: o.prefillChunk, context_tokens: contextTokens });
  const inProcessPlain = await loadModel(o.dir, { threads: info.threads, prefill_chunk: o.prefillChunk, graph_rewrites: 'off', context_tokens: contextTokens });

  const collect = collector();
  const run: Record<Impl, (p: { prompt: string; ids: number[] }, maxNew: number) => Promise<Sample>> = {
    engine: async (p, maxNew) => {
      const r = await engine.generate({ prompt: p.prompt, temperature: 0, seed: 1, max_new_tokens: maxNew });
      if (r.usage.prompt_tokens !== p.ids.length) throw new Error(`the engine counted ${r.usage.prompt_tokens} prompt tokens, the bench ${p.ids.length}`);
      return { tokens: r.tokens, first_token_ms: r.timing.first_token_ms, decode_tokens_per_s: r.timing.decode_tokens_per_s, prefill_tokens_per_s: perSec(p.ids.length, r.timing.first_token_ms) };
    },
    engine_in_process: async (p, maxNew) => {
      const r = await generate(inProcess, { prompt: p.prompt, temperature: 0, seed: 1, max_new_tokens: maxNew });
      // This thread collects what the run left, outside its timing, as the bench workers do after every
      // call: left to V8's schedule, the collection ran during the next implementation's run and took
      // one of its two cores (the worker engine measured 56 tok/s after an in-process run, 65-75 after
      // one followed by a collection, and 65 with no in-process run, on the 0.5B stand-in at 16 tokens).
      collect();
      return { tokens: r.tokens, first_token_ms: r.timing.first_token_ms, decode_tokens_per_s: r.timing.decode_tokens_per_s, prefill_tokens_per_s: perSec(p.ids.length, r.timing.first_token_ms) };
    },
    floor: async (p, maxNew) => {
      const r = await floor.generate(p.ids, maxNew);
      return { tokens: r.tokens, first_token_ms: r.first_token_ms, decode_tokens_per_s: perSec(r.tokens.length - 1, r.decode_ms), prefill_tokens_per_s: perSec(p.ids.length, r.first_token_ms) };
    },
    floor_rewritten: async (p, maxNew) => {
      const r = await rewritten!.generate(p.ids, maxNew);
      return { tokens: r.tokens, first_token_ms: r.first_token_ms, decode_tokens_per_s: perSec(r.tokens.length - 1, r.decode_ms), prefill_tokens_per_s: perSec(p.ids.length, r.first_token_ms) };
    },
    transformers_js: async (p, maxNew) => {
      const r = await peer.generate(p.ids, maxNew);
      return { tokens: r.tokens, first_token_ms: r.first_token_ms, decode_tokens_per_s: perSec(r.tokens.length - 1, r.decode_ms), prefill_tokens_per_s: perSec(p.ids.length, r.first_token_ms) };
    },
  };
  const impls: Impl[] = ['engine', 'engine_in_process', 'floor', ...(rewritten ? ['floor_rewritten' as const] : []), ...(peerError ? [] : ['transformers_js' as const])];
  // Who checks whose tokens: the engine runs the rewritten graph, so a minimal loop on that graph.
  const checkedAgainst = (i: Impl): Impl => (rewritten && (i === 'engine' || i === 'engine_in_process') ? 'floor_rewritten' : 'floor');

  const result: EngineSuiteResult = { dtype: info.dtype, file: info.file, threads: info.threads, reps: o.reps, graph: info.graph, rewrites: info.rewrites, contexts: [], step_split: [], fetch_cost: [], skipped_contexts: [] };
  try {
    const warm = maker.make(16);
    for (const i of impls) await run[i](warm, 4);
    for (const ctx of o.contexts) {
      if (ctx + o.newTokens > info.context_length) {
        result.skipped_contexts.push(ctx);
        o.progress(`engine: context ${ctx} skipped (the model's limit is ${info.context_length})`);
        continue;
      }
      const p = maker.make(ctx);
      const loadBefore = load1();
      const samples: Record<string, Sample[]> = {};
      const errors: Record<string, string> = {};
      for (const [rep, order] of interleave(impls, o.reps).entries()) {
        for (const i of order) {
          if (errors[i]) continue;
          try {
            (samples[i] ??= []).push(await run[i](p, o.newTokens));
          } catch (e) {
            errors[i] = (e as Error).message.split('\n')[0];
          }
        }
        const last = (i: Impl) => samples[i]?.at(-1);
        o.progress(`engine: ${p.ids.length} prompt tokens, rep ${rep + 1}/${o.reps}: ` +
          impls.map((i) => `${i} ${last(i) ? round(last(i)!.decode_tokens_per_s, 1) + ' tok/s' : errors[i] ?? '-'}`).join(', '));
      }
      const loadAfter = load1();
      const figures: ContextFigures = {
        prompt_tokens: p.ids.length,
        new_tokens: samples.floor?.[0]?.tokens.length ?? 0,
        impls: {},
        load_average: [loadBefore, loadAfter],
        noisy: Math.max(loadBefore, loadAfter) > info.threads + 1,
      };
      if (figures.noisy) o.progress(`engine: load average ${loadBefore} -> ${loadAfter} on ${info.threads} threads: marked noisy`);
      for (const i of impls) {
        if (errors[i] || !samples[i]) { figures.impls[i] = { error: errors[i] ?? 'no samples' }; continue; }
        // floor_rewritten is the reference the engine is checked against, not itself checked against the plain file.
        const reference = i === 'floor_rewritten' ? samples[i][0].tokens : samples[checkedAgainst(i)]?.[0]?.tokens ?? [];
        const bad = samples[i].map((s) => firstMismatch(reference, s.tokens)).find((at) => at >= 0);
        if (bad !== undefined) {
          const got = samples[i].find((s) => firstMismatch(reference, s.tokens) >= 0)!.tokens;
          figures.impls[i] = { mismatch: { at: bad, floor: reference.slice(Math.max(0, bad - 2), bad + 6), got: got.slice(Math.max(0, bad - 2), bad + 6) } };
          o.progress(`engine: ${i} differs from ${checkedAgainst(i)} at generated token ${bad}: no speed reported`);
          continue;
        }
        const col = (k: keyof Omit<Sample, 'tokens'>) => samples[i].map((s) => s[k]);
        const f = samples.floor;
        figures.impls[i] = {
          decode_tokens_per_s: summarize(col('decode_tokens_per_s'), 1),
          prefill_tokens_per_s: summarize(col('prefill_tokens_per_s'), 1),
          first_token_ms: summarize(col('first_token_ms'), 1),
          ratio_to_floor: {
            decode: ratios(col('decode_tokens_per_s'), f.map((s) => s.decode_tokens_per_s)),
            prefill: ratios(col('prefill_tokens_per_s'), f.map((s) => s.prefill_tokens_per_s)),
            first_token: ratios(f.map((s) => s.first_token_ms), col('first_token_ms')),
          },
        };
      }
      result.contexts.push(figures);
    }
    for (const ctx of [16, 1024].filter((c) => c + o.newTokens <= info.context_length)) {
      const p = maker.make(ctx);
      for (const [model, graph] of [[inProcessPlain, 'plain'], [inProcess, 'rewritten']] as const) {
        const s = await split(model, graph, p.prompt, o.newTokens, p.ids.length);
        o.progress(`engine: step split at ${p.ids.length} tokens, ${graph} graph: run ${s.run_ms} ms, KV write ${s.kv_write_ms} ms, sampling ${s.sample_ms} ms, GC ${s.gc_ms} ms, other ${s.other_ms} ms`);
        result.step_split.push(s);
      }
    }
    for (const ctx of o.fetchContexts.filter((c) => c < info.context_length)) {
      const cost = await floor.fetchCost(ctx, Math.max(3, o.reps));
      o.progress(`engine: one decode step at ${ctx} cached tokens: ${round(cost.all_outputs_ms, 1)} ms with present.*, ${round(cost.logits_only_ms, 1)} ms logits only, ${round(cost.preallocated_ms, 1)} ms into pre-allocated outputs (${round(cost.present_bytes / 2 ** 20, 1)} MiB of present.* per step)`);
      result.fetch_cost.push({ ...cost, all_outputs_ms: round(cost.all_outputs_ms, 2), logits_only_ms: round(cost.logits_only_ms, 2), preallocated_ms: round(cost.preallocated_ms, 2), js_copy_ms: round(cost.js_copy_ms, 2) });
    }
  } finally {
    await engine.stop();
    await floor.stop();
    await rewritten?.stop();
    await unloadModel(inProcess);
    await unloadModel(inProcessPlain);
    if (!peerError) await peer.stop();
  }
  return result;
}
