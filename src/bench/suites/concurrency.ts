/**
 * The concurrency suite (issues 9 and 14): aggregate tokens/s (all tokens ÷ wall time, and the
 * tasks' decode rates summed) with 1, 2 and 4 tasks
 * submitted at once to an engine that batches them (max_batch 4), and one task alone on an engine
 * with max_batch 1 (the engine before batching), measured side by side: the two engines are loaded
 * together and take turns within each repetition, so both see the same machine load.
 */
import { performance } from 'node:perf_hooks';
import { Engine } from '../../engine/index.js';
import { generate, promptTokens, type StepProfile } from '../../engine/generate.js';
import { OwnedKvCache } from '../../engine/kv-cache.js';
import { FloorInWorker } from '../floor.js';
import { loadModel } from '../../engine/load-model.js';
import { summarize, round, type Summary } from '../stats.js';

export interface ConcurrencyFigures {
  tasks: number;
  /** The engine's max_batch for this row (1: the engine as it was before batching). */
  max_batch: number;
  /** All generated tokens ÷ wall time from submission to the last answer: prompt passes included. */
  aggregate_tokens_per_s: Summary;
  /** The tasks' decode rates summed (each task's tokens after its first ÷ the time from its first
   * token to its last, as the engine suite's decode figure): what a step of n rows delivers, with
   * the prompt passes of tasks that join later still inside the earlier tasks' decode time. */
  decode_tokens_per_s: Summary;
  /** Median over the tasks of the time each waited for its first token. */
  first_token_ms_p50: Summary;
  /** Each repetition's aggregate ÷ one task alone on the same engine in the same repetition. */
  ratio_to_one?: Summary;
  /** Each repetition's summed decode rate ÷ one task alone's decode rate on the same engine. */
  decode_ratio_to_one?: Summary;
  /** One task alone on the batching engine ÷ alone on the max_batch 1 engine, per repetition. */
  ratio_to_unbatched?: Summary;
  /** On the 4-task row: one decode step with 4 rows against one with 1 row, without prompt passes (below). */
  steps?: StepRatio;
}

/**
 * The batching ceiling of the kernels: the model loaded in-process with max_batch 4, one task alone,
 * then four whose lengths make them end on the same step (task i joins i rounds late and asks for i
 * fewer tokens), so the last task's decode steps all carry 4 rows and no prompt pass. Each step's
 * time is its forward pass (StepProfile.run_ms) plus its KV write and sampling. Beside it, the issue's
 * minimal batched loop on the plain file: 1 and 4 copies of one prompt, median decode step.
 */
export interface StepRatio {
  one_row_ms: Summary;
  four_rows_ms: Summary;
  /** 4 × one row's step ÷ the 4-row step: tokens per second a step of 4 rows gives over a step of 1. */
  ratio: Summary;
  /** The same for the issue's minimal batched loop (src/bench/floor.ts) on the plain file, one prompt in
   *  every row; absent when the file is not an onnx-community layout the loop can feed. */
  floor_one_row_ms?: Summary;
  floor_four_rows_ms?: Summary;
  floor_ratio?: Summary;
  floor_error?: string;
}

const perStep = (p: StepProfile) => (p.run_ms + p.kv_write_ms + p.sample_ms) / Math.max(1, p.steps);
const newProfile = (): StepProfile => ({ steps: 0, run_ms: 0, kv_write_ms: 0, sample_ms: 0 });

/** Undefined when the model does not batch (a plain graph, or a cache with fewer than 4 rows). */
async function stepRatio(dir: string, threads: number, newTokens: number, reps: number): Promise<StepRatio | undefined> {
  const model = await loadModel(dir, { threads, max_batch: 4 });
  if (!(model.cache instanceof OwnedKvCache) || model.cache.rows < 4) {
    await model.session.release();
    return undefined;
  }
  const prompt = (i: number) => `Task ${i}: add 17 and ${25 + i}.`;
  const n = Math.max(newTokens, 16);
  const one: number[] = [];
  const four: number[] = [];
  const ids = promptTokens(model, { prompt: prompt(0) });
  const file = model.info.file;
  try {
    await generate(model, { prompt: 'warm up', temperature: 0, max_new_tokens: 4 });
    for (let r = 0; r < reps; r++) {
      const alone = newProfile();
      await generate(model, { prompt: prompt(0), temperature: 0, max_new_tokens: n }, { profile: alone });
      const rows = [0, 1, 2, 3].map(newProfile);
      await Promise.all(rows.map((profile, i) => generate(model, { prompt: prompt(i), temperature: 0, max_new_tokens: n - i }, { profile })));
      one.push(perStep(alone));
      four.push(perStep(rows[3]));
    }
  } finally {
    await model.session.release();
  }
  const engine = { one_row_ms: summarize(one, 2), four_rows_ms: summarize(four, 2), ratio: summarize(one.map((x, i) => (4 * x) / four[i]), 3) };
  const floor = new FloorInWorker(file, threads, []);
  const floorOne: number[] = [];
  const floorFour: number[] = [];
  try {
    await floor.start();
    await floor.batchedStep(ids, 1, 2);
    for (let r = 0; r < reps; r++) {
      // rotated, as everywhere in the bench
      if (r % 2 === 0) floorOne.push(await floor.batchedStep(ids, 1, n));
      floorFour.push(await floor.batchedStep(ids, 4, n));
      if (r % 2 === 1) floorOne.push(await floor.batchedStep(ids, 1, n));
    }
  } catch (e) {
    return { ...engine, floor_error: (e as Error).message.split('\n')[0] };
  } finally {
    await floor.stop();
  }
  return {
    ...engine,
    floor_one_row_ms: summarize(floorOne, 2), floor_four_rows_ms: summarize(floorFour, 2), floor_ratio: summarize(floorOne.map((x, i) => (4 * x) / floorFour[i]), 3),
  };
}

interface Run {
  aggregate: number;
  decode: number;
  ttft: number;
}

async function runTogether(engine: Engine, n: number, newTokens: number): Promise<Run> {
  const t0 = performance.now();
  const firsts: number[] = [];
  const results = await Promise.all(Array.from({ length: n }, (_, i) => {
    let first = 0;
    // different prompt lengths, as tasks from a plant's clients would have
    const prompt = `Task ${i}: add 17 and ${25 + i}.${' Show each step.'.repeat(i)}`;
    return engine.generate({ prompt, temperature: 0, max_new_tokens: newTokens }, {
      onDelta: () => void (first ||= performance.now() - t0),
    }).then((res) => (firsts.push(first || performance.now() - t0), res));
  }));
  const wall = performance.now() - t0;
  return {
    aggregate: results.reduce((s, x) => s + x.usage.completion_tokens, 0) / (wall / 1000),
    decode: results.reduce((s, x) => s + x.timing.decode_tokens_per_s, 0),
    ttft: [...firsts].sort((a, b) => a - b)[firsts.length >> 1],
  };
}

export async function concurrencySuite(o: { dir: string; threads: number; newTokens: number; reps: number; progress: (l: string) => void }): Promise<ConcurrencyFigures[]> {
  const batched = new Engine({ model: o.dir, threads: o.threads, max_batch: 4 });
  const single = new Engine({ model: o.dir, threads: o.threads, max_batch: 1 });
  await batched.start();
  await single.start();
  const counts = [1, 2, 4];
  const runs = new Map<string, Run[]>();
  const add = (key: string, r: Run) => runs.set(key, [...(runs.get(key) ?? []), r]);
  try {
    for (const e of [batched, single]) await e.generate({ prompt: 'warm up', temperature: 0, max_new_tokens: 4 });
    for (let r = 0; r < o.reps; r++) {
      // rotated: which engine goes first changes every repetition
      const order = r % 2 === 0 ? ['single', 'batched'] : ['batched', 'single'];
      for (const which of order) {
        if (which === 'single') add('1/1', await runTogether(single, 1, o.newTokens));
        else for (const n of counts) add(`${n}/4`, await runTogether(batched, n, o.newTokens));
      }
      o.progress(`concurrency: repetition ${r + 1}/${o.reps}: ${counts.map((n) => `${n} at once ${round(runs.get(`${n}/4`)!.at(-1)!.aggregate, 1)} (decode ${round(runs.get(`${n}/4`)!.at(-1)!.decode, 1)})`).join(', ')} tok/s; alone unbatched ${round(runs.get('1/1')!.at(-1)!.aggregate, 1)} tok/s`);
    }
  } finally {
    await batched.stop();
    await single.stop();
  }
  const one = runs.get('1/4')!;
  const unbatched = runs.get('1/1')!;
  const figures = (tasks: number, maxBatch: number, list: Run[]): ConcurrencyFigures => ({
    tasks,
    max_batch: maxBatch,
    aggregate_tokens_per_s: summarize(list.map((x) => x.aggregate), 1),
    decode_tokens_per_s: summarize(list.map((x) => x.decode), 1),
    first_token_ms_p50: summarize(list.map((x) => x.ttft), 1),
    ...(maxBatch === 4 && tasks > 1 ? {
      ratio_to_one: summarize(list.map((x, i) => x.aggregate / one[i].aggregate), 3),
      decode_ratio_to_one: summarize(list.map((x, i) => x.decode / one[i].decode), 3),
    } : {}),
    ...(maxBatch === 4 && tasks === 1 ? { ratio_to_unbatched: summarize(one.map((x, i) => x.aggregate / unbatched[i].aggregate), 3) } : {}),
  });
  const all = [figures(1, 1, unbatched), ...counts.map((n) => figures(n, 4, runs.get(`${n}/4`)!))];
  const steps = await stepRatio(o.dir, o.threads, o.newTokens, o.reps);
  if (!steps) {
    o.progress('concurrency: this model runs one generation at a time (a plain graph): no 4-row step to measure');
    return all;
  }
  const loop = steps.floor_ratio ? `${steps.floor_ratio.median} x (${steps.floor_four_rows_ms!.median} vs ${steps.floor_one_row_ms!.median} ms)` : `not measured: ${steps.floor_error}`;
  o.progress(`concurrency: a 4-row step ${steps.four_rows_ms.median} ms, a 1-row step ${steps.one_row_ms.median} ms: ${steps.ratio.median} x the tokens per second (in-process, no prompt passes); the minimal batched loop on the plain file ${loop}`);
  all[all.length - 1].steps = steps;
  return all;
}
