/**
 * Runs in a child process for the memory and event-loop suites (issue 9), so
 * the figures are an agent's alone and not the benchmark's (which also holds
 * transformers.js and the floor). It builds the agent as `reasond start` does
 * (embedded broker, SQLite journal, telemetry, engine worker), then:
 * RSS idle, a long generation with RSS peak and main-thread event-loop delay,
 * then 100 short generations with RSS after each. Prints one JSON line.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildAgent } from '../agent/index.js';
import { loadConfig } from '../agent/config.js';
import { Engine } from '../engine/index.js';

export interface ProbeArgs {
  dir: string;
  threads: number;
  prefillChunk?: number;
  longTokens: number;
  shortTokens: number;
  generations: number;
}

const mb = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;

/**
 * RSS split as Linux counts it (/proc/self/status): anonymous pages (heaps, onnxruntime's packed
 * weights and arena, the KV cache as written) and file pages (the memory-mapped model data the
 * session reads, such as the rows of the embedding table gathered so far, which the kernel may drop
 * and read again). Undefined where /proc is not there.
 */
function rssSplit(): { anon_mb: number; file_mb: number } | undefined {
  try {
    const s = readFileSync('/proc/self/status', 'utf8');
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN) * 1024;
    const anon = kb('RssAnon');
    const file = kb('RssFile');
    return Number.isFinite(anon) && Number.isFinite(file) ? { anon_mb: mb(anon), file_mb: mb(file) } : undefined;
  } catch {
    return undefined;
  }
}
const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});

async function main(a: ProbeArgs): Promise<Record<string, unknown>> {
  const engine = new Engine({ model: a.dir, threads: a.threads, prefill_chunk: a.prefillChunk });
  const config = loadConfig({
    cli: { 'device-id': 'bench', 'data-dir': mkdtempSync(join(tmpdir(), 'reasond-bench-agent-')), model: a.dir, broker: '', 'embedded-port': await freePort(), threads: a.threads },
    env: {},
  });
  const agent = buildAgent(config, { makeEngine: () => engine, log: () => {} });
  await agent.start();
  await sleep(1500);
  global.gc?.();
  const idle = process.memoryUsage().rss;
  const idleSplit = rssSplit();

  const ctx = engine.info.context_length;
  const longTokens = Math.min(a.longTokens, ctx - 64);
  let peak = idle;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const long = await engine.generate({ prompt: 'Think step by step about the sum 17 + 25.', temperature: 0, max_new_tokens: longTokens });
  delay.disable();
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);

  const after: number[] = [];
  const splits: ReturnType<typeof rssSplit>[] = [];
  for (let i = 0; i < a.generations; i++) {
    await engine.generate({ prompt: `Question ${i}: what is ${i} + 3?`, temperature: 0, max_new_tokens: a.shortTokens });
    // Collected first, so the series shows what is kept, not when V8 last happened to collect.
    global.gc?.();
    after.push(process.memoryUsage().rss);
    splits.push(rssSplit());
  }
  const median = (v: number[]) => [...v].sort((x, y) => x - y)[v.length >> 1];
  const first = median(after.slice(0, 10));
  const last = median(after.slice(-10));
  await agent.stop();
  const ns = (v: number) => Math.round((v / 1e6) * 100) / 100;
  return {
    model_file: engine.info.file,
    rss_idle_mb: mb(idle),
    ...(idleSplit ? { rss_idle_split_mb: idleSplit } : {}),
    rss_peak_mb: mb(peak),
    long_generation: { tokens: long.usage.completion_tokens, decode_tokens_per_s: long.timing.decode_tokens_per_s },
    event_loop_delay_ms: { p50: ns(delay.percentile(50)), p99: ns(delay.percentile(99)), max: ns(delay.max), samples: delay.count },
    growth: { generations: a.generations, tokens_each: a.shortTokens, rss_first10_mb: mb(first), rss_last10_mb: mb(last), growth_mb: mb(last - first), rss_series_mb: after.filter((_, i) => i % 10 === 9).map(mb),
      ...(splits[0] && splits.at(-1) ? { first_split_mb: splits[0], last_split_mb: splits.at(-1) } : {}) },
  };
}

main(JSON.parse(process.argv[2]) as ProbeArgs).then(
  (r) => {
    process.stdout.write(JSON.stringify(r) + '\n');
    process.exit(0);
  },
  (e) => {
    process.stderr.write(`agent probe failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
