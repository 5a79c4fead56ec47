/**
 * The engine suite (issue 9): reasond's engine, the floor and transformers.js
 * on one model, at several prompt lengths, greedy, same threads, the order
 * rotated every repetition. Each implementation's tokens are checked against
 * the floor's first; a mismatch is reported instead of its speed.
 */
import { Engine } from '../../engine/index.js';
import { generate } from '../../engine/generate.js';
import { loadModel, unloadModel } from '../../engine/load-model.js';
import { FloorInWorker, type FetchCost } from '../floor.js';
import { TransformersPeer } from '../peer-transformers.js';
import { PromptMaker } from '../prompts.js';
import { firstMismatch, interleave, ratios, round, summarize, type Summary } from '../stats.js';

/** engine_in_process: the same generate() on the calling thread, to tell the worker hop's cost from the loop's. */
export type Impl = 'engine' | 'engine_in_process' | 'floor' | 'transformers_js';

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
}

export interface EngineSuiteResult {
  dtype: string;
  file: string;
  threads: number;
  reps: number;
  contexts: ContextFigures[];
  fetch_cost: FetchCost[];
  skipped_contexts: number[];
}

const perSec = (n: number, ms: number) => (ms > 0 ? (n / ms) * 1000 : 0);

export async function engineSuite(o: EngineSuiteOptions): Promise<EngineSuiteResult> {
  const engine = new Engine({ model: o.dir, threads: o.threads, prefill_chunk: o.prefillChunk });
  const info = await engine.start();
  const floor = new FloorInWorker(info.file, info.threads, info.eos_token_ids);
  await floor.start();
  const peer = new TransformersPeer(o.dir, info.dtype, info.threads);
  let peerError: string | undefined;
  await peer.start().catch((e) => (peerError = `transformers.js could not load the model: ${(e as Error).message.split('\n')[0]}`));
  if (peerError) o.progress(peerError);
  const maker = new PromptMaker(o.dir, info.dtype as never);
  const inProcess = await loadModel(o.dir, { threads: info.threads, prefill_chunk: o.prefillChunk });

  const run: Record<Impl, (p: { prompt: string; ids: number[] }, maxNew: number) => Promise<Sample>> = {
    engine: async (p, maxNew) => {
      const r = await engine.generate({ prompt: p.prompt, temperature: 0, seed: 1, max_new_tokens: maxNew });
      if (r.usage.prompt_tokens !== p.ids.length) throw new Error(`the engine counted ${r.usage.prompt_tokens} prompt tokens, the bench ${p.ids.length}`);
      return { tokens: r.tokens, first_token_ms: r.timing.first_token_ms, decode_tokens_per_s: r.timing.decode_tokens_per_s, prefill_tokens_per_s: perSec(p.ids.length, r.timing.first_token_ms) };
    },
    engine_in_process: async (p, maxNew) => {
      const r = await generate(inProcess, { prompt: p.prompt, temperature: 0, seed: 1, max_new_tokens: maxNew });
      return { tokens: r.tokens, first_token_ms: r.timing.first_token_ms, decode_tokens_per_s: r.timing.decode_tokens_per_s, prefill_tokens_per_s: perSec(p.ids.length, r.timing.first_token_ms) };
    },
    floor: async (p, maxNew) => {
      const r = await floor.generate(p.ids, maxNew);
      return { tokens: r.tokens, first_token_ms: r.first_token_ms, decode_tokens_per_s: perSec(r.tokens.length - 1, r.decode_ms), prefill_tokens_per_s: perSec(p.ids.length, r.first_token_ms) };
    },
    transformers_js: async (p, maxNew) => {
      const r = await peer.generate(p.ids, maxNew);
      return { tokens: r.tokens, first_token_ms: r.first_token_ms, decode_tokens_per_s: perSec(r.tokens.length - 1, r.decode_ms), prefill_tokens_per_s: perSec(p.ids.length, r.first_token_ms) };
    },
  };
  const impls: Impl[] = ['engine', 'engine_in_process', 'floor', ...(peerError ? [] : ['transformers_js' as const])];

  const result: EngineSuiteResult = { dtype: info.dtype, file: info.file, threads: info.threads, reps: o.reps, contexts: [], fetch_cost: [], skipped_contexts: [] };
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
      const reference = samples.floor?.[0]?.tokens ?? [];
      const figures: ContextFigures = { prompt_tokens: p.ids.length, new_tokens: reference.length, impls: {} };
      for (const i of impls) {
        if (errors[i] || !samples[i]) { figures.impls[i] = { error: errors[i] ?? 'no samples' }; continue; }
        const bad = samples[i].map((s) => firstMismatch(reference, s.tokens)).find((at) => at >= 0);
        if (bad !== undefined) {
          const got = samples[i].find((s) => firstMismatch(reference, s.tokens) >= 0)!.tokens;
          figures.impls[i] = { mismatch: { at: bad, floor: reference.slice(Math.max(0, bad - 2), bad + 6), got: got.slice(Math.max(0, bad - 2), bad + 6) } };
          o.progress(`engine: ${i} differs from the floor at generated token ${bad}: no speed reported`);
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
    for (const ctx of o.fetchContexts.filter((c) => c < info.context_length)) {
      const cost = await floor.fetchCost(ctx, Math.max(3, o.reps));
      o.progress(`engine: one decode step at ${ctx} cached tokens: ${round(cost.all_outputs_ms, 1)} ms with present.*, ${round(cost.logits_only_ms, 1)} ms logits only, ${round(cost.preallocated_ms, 1)} ms into pre-allocated outputs (${round(cost.present_bytes / 2 ** 20, 1)} MiB of present.* per step)`);
      result.fetch_cost.push({ ...cost, all_outputs_ms: round(cost.all_outputs_ms, 2), logits_only_ms: round(cost.logits_only_ms, 2), preallocated_ms: round(cost.preallocated_ms, 2), js_copy_ms: round(cost.js_copy_ms, 2) });
    }
  } finally {
    await engine.stop();
    await floor.stop();
    await unloadModel(inProcess);
    if (!peerError) await peer.stop();
  }
  return result;
}
