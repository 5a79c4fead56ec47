/**
 * The concurrency suite (issue 9): aggregate decode tokens/s with 1, 2 and 4
 * tasks submitted to the engine at once. The engine runs one generation at
 * a time (a second would share the same cores), so this shows what queueing
 * costs or gains, not batching, which the engine does not do.
 */
import { performance } from 'node:perf_hooks';
import { Engine } from '../../engine/index.js';
import { summarize, round, type Summary } from '../stats.js';

export interface ConcurrencyFigures {
  tasks: number;
  aggregate_tokens_per_s: Summary;
  /** Median over the tasks of the time each waited for its first token. */
  first_token_ms_p50: Summary;
}

export async function concurrencySuite(o: { dir: string; threads: number; newTokens: number; reps: number; progress: (l: string) => void }): Promise<ConcurrencyFigures[]> {
  const engine = new Engine({ model: o.dir, threads: o.threads });
  await engine.start();
  const out: ConcurrencyFigures[] = [];
  try {
    await engine.generate({ prompt: 'warm up', temperature: 0, max_new_tokens: 4 });
    for (const n of [1, 2, 4]) {
      const agg: number[] = [];
      const ttft: number[] = [];
      for (let r = 0; r < o.reps; r++) {
        const t0 = performance.now();
        const firsts: number[] = [];
        const results = await Promise.all(Array.from({ length: n }, (_, i) => {
          let first = 0;
          return engine.generate({ prompt: `Task ${i}: add 17 and ${25 + i}.`, temperature: 0, max_new_tokens: o.newTokens }, {
            onDelta: () => void (first ||= performance.now() - t0),
          }).then((res) => (firsts.push(first || performance.now() - t0), res));
        }));
        const wall = performance.now() - t0;
        agg.push(results.reduce((s, x) => s + x.usage.completion_tokens, 0) / (wall / 1000));
        ttft.push([...firsts].sort((a, b) => a - b)[firsts.length >> 1]);
      }
      out.push({ tasks: n, aggregate_tokens_per_s: summarize(agg, 1), first_token_ms_p50: summarize(ttft, 1) });
      o.progress(`concurrency: ${n} at once: ${round(out.at(-1)!.aggregate_tokens_per_s.median, 1)} tok/s together`);
    }
  } finally {
    await engine.stop();
  }
  return out;
}
