/**
 * Runs the selected suites on the models (issue 9) and writes the result to
 * bench/results/<date>-<machine>.json. The default run is sized for about
 * five minutes on 2 cores; --full measures every context length and both
 * stand-ins with more repetitions.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DEFAULT_PREFILL_CHUNK } from '../engine/types.js';
import { readModelFolder } from '../engine/model-folder.js';
import { packageRoot } from '../core/paths.js';
import { ceilingTokensPerS, readBandwidth, stepBytes, type Bandwidth } from './bandwidth.js';
import { machineInfo, versions } from './machine.js';
import { modelBytes, noEosCopy } from './model-copy.js';
import { ensureStandin, type StandinName } from './standins.js';
import { accuracySuite } from './suites/accuracy.js';
import { agentProbe } from './suites/agent-memory.js';
import { concurrencySuite } from './suites/concurrency.js';
import { engineSuite } from './suites/engine.js';
import { jobsSuite } from './suites/jobs.js';
import { mqttSuite } from './suites/mqtt.js';
import { checkTargets } from './targets.js';

import type { Suite } from './suite-names.js';
export { SUITES, type Suite } from './suite-names.js';

export interface BenchOptions {
  model: string;
  suites: Suite[];
  standins: StandinName[];
  /** Suites that also run on the stand-ins (the rest only on the main model). */
  standinSuites: Suite[];
  threads: number;
  /** The engine's prefill_chunk; undefined = its default. */
  prefillChunk?: number;
  contexts: number[];
  newTokens: number;
  reps: number;
  tasks?: string;
  accuracyLimit: number;
  /** Memory/event-loop probe: the long generation's length and the count of short ones. */
  longTokens: number;
  generations: number;
  out?: string;
  progress: (line: string) => void;
}

export function defaultOptions(full: boolean): Pick<BenchOptions, 'contexts' | 'newTokens' | 'reps' | 'accuracyLimit' | 'standins' | 'standinSuites'> {
  return full
    ? { contexts: [16, 256, 1024, 4096], newTokens: 64, reps: 5, accuracyLimit: 0, standins: ['qwen2.5-0.5b', 'r1-distill-1.5b'], standinSuites: ['engine', 'concurrency', 'memory', 'eventloop'] }
    : { contexts: [16, 256, 1024], newTokens: 32, reps: 3, accuracyLimit: 60, standins: ['qwen2.5-0.5b'], standinSuites: ['engine', 'concurrency'] };
}

async function measureModel(label: string, dir: string, suites: Suite[], o: BenchOptions, bandwidth?: Bandwidth): Promise<Record<string, unknown>> {
  const spec = readModelFolder(dir);
  const file = spec.onnxPath;
  const m: Record<string, any> = { dir, file, dtype: spec.dtype, file_mb: Math.round((modelBytes(file) / 2 ** 20) * 10) / 10, context_length: spec.contextLength };
  const progress = (l: string) => o.progress(`[${label}] ${l}`);
  progress(`${file} (${spec.dtype}, ${m.file_mb} MB), suites ${suites.join(', ')}`);
  // Fixed-length runs: the copy's eos is a token the model never emits.
  const fixed = noEosCopy(dir);
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T | { error: string }> => {
    const t0 = Date.now();
    try {
      return await fn();
    } catch (e) {
      progress(`${name} failed: ${(e as Error).message}`);
      return { error: (e as Error).message };
    } finally {
      progress(`${name} took ${Math.round((Date.now() - t0) / 1000)} s`);
    }
  };
  if (suites.includes('engine')) {
    // Single decode steps are cheap even at 4096, so the fetch cost is always probed there too.
    const fetchContexts = [...new Set([...o.contexts.filter((c) => c >= 256), 1024, 4096])].sort((a, b) => a - b);
    // A small model's step takes a millisecond: a few dozen tokens would time mostly noise.
    const newTokens = m.file_mb < 50 ? Math.max(o.newTokens, 128) : o.newTokens;
    m.engine = await step('engine', () => engineSuite({ dir: fixed, threads: o.threads, prefillChunk: o.prefillChunk, contexts: o.contexts, newTokens, reps: o.reps, fetchContexts, progress }));
    if (!('error' in m.engine)) m.engine.file = file; // not the fixed-length copy's temp path
    if (bandwidth && spec.numLayers && spec.numKvHeads && spec.headDim) {
      const b = stepBytes(file, spec.numLayers, spec.numKvHeads, spec.headDim);
      const at = Object.fromEntries([16, ...o.contexts, 4096].map((c) => [c, Math.round(ceilingTokensPerS(bandwidth, b, c) * 10) / 10]));
      m.ceiling = { read_gb_s: bandwidth.read_gb_s, weights_bytes: b.weights, gathered_bytes: b.gathered, kv_bytes_per_position: b.kv_per_position, tokens_per_s_at: at };
      progress(`ceiling: ${bandwidth.read_gb_s} GB/s read ÷ ${Math.round(b.weights / 2 ** 20)} MiB of weights a step (+ ${b.kv_per_position} bytes of KV a position) = ${at[16]} tok/s at 16 tokens`);
    }
  }
  if (suites.includes('concurrency')) m.concurrency = await step('concurrency', () => concurrencySuite({ dir: fixed, threads: o.threads, newTokens: o.newTokens, reps: Math.max(1, o.reps - 1), progress }));
  if (suites.includes('mqtt')) m.mqtt = await step('mqtt', () => mqttSuite({ dir, threads: o.threads, samples: 40, pipelineTasks: 2000, progress }));
  if (suites.includes('memory') || suites.includes('eventloop')) {
    m.memory = await step('memory and event loop', async () => {
      const r = await agentProbe({ dir: fixed, threads: o.threads, prefillChunk: o.prefillChunk, longTokens: o.longTokens, shortTokens: 16, generations: o.generations });
      progress(`memory: RSS idle ${r.rss_idle_mb} MB, peak ${r.rss_peak_mb} MB (file ${m.file_mb} MB); growth over ${o.generations} generations ${r.growth.growth_mb} MB; event loop p99 ${r.event_loop_delay_ms.p99} ms`);
      return r;
    });
  }
  // Issue 18: readings ingestion and a job run, for the main model only: the job's question is one the shipped model is trained on
  if (suites.includes('jobs') && !label.startsWith('standin-')) m.jobs = await step('jobs', () => jobsSuite({ dir, threads: o.threads, storeMessages: 50_000, brokerMessages: 20_000, reps: 3, jobRuns: 5, progress }));
  if (suites.includes('accuracy')) m.accuracy = await step('accuracy', () => accuracySuite({ dir, threads: o.threads, tasks: o.tasks, limit: o.accuracyLimit, progress }));
  return m;
}

export async function runBench(o: BenchOptions): Promise<{ path: string; result: Record<string, unknown> }> {
  const started = new Date();
  const machine = machineInfo();
  const models: Record<string, unknown> = {};
  // Read bandwidth bounds decode speed; measured once, before the models load.
  const bandwidth = o.suites.includes('engine') ? await readBandwidth(o.threads || 0) : undefined;
  if (bandwidth) o.progress(`read bandwidth: ${bandwidth.read_gb_s} GB/s with ${bandwidth.threads} threads (onnxruntime ReduceSum over 1 GiB)`);
  models[basename(o.model)] = await measureModel(basename(o.model), o.model, o.suites, o, bandwidth);
  const standinSuites = o.suites.filter((s) => o.standinSuites.includes(s));
  for (const name of standinSuites.length ? o.standins : []) {
    const dir = await ensureStandin(name, 'q4', o.progress).catch((e) => {
      o.progress(`[${name}] ${(e as Error).message}`);
      return undefined;
    });
    if (dir) models[`standin-${name}`] = await measureModel(`standin-${name}`, dir, standinSuites, o, bandwidth);
  }
  const result = {
    schema: 1,
    date: started.toISOString(),
    duration_s: Math.round((Date.now() - started.getTime()) / 1000),
    machine: { ...machine, read_bandwidth_gb_s: bandwidth?.read_gb_s },
    versions: versions(),
    options: { suites: o.suites, standins: o.standins, threads: o.threads, prefill_chunk: o.prefillChunk ?? DEFAULT_PREFILL_CHUNK, contexts: o.contexts, new_tokens: o.newTokens, reps: o.reps, accuracy_limit: o.accuracyLimit, long_tokens: o.longTokens, generations: o.generations },
    models,
    targets: checkTargets(models as Record<string, any>),
  };
  const path = o.out ?? freshResultPath(join(packageRoot, 'bench', 'results'), `${started.toISOString().slice(0, 10)}-${machine.hostname}`);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, JSON.stringify(result, null, 1) + '\n');
  return { path, result };
}

/** `<dir>/<stem>.json`, or `<stem>-2.json`, `-3`, ... when an earlier run of the day wrote it: a second run never overwrites the first's results. */
export function freshResultPath(dir: string, stem: string): string {
  let path = join(dir, `${stem}.json`);
  for (let n = 2; existsSync(path); n++) path = join(dir, `${stem}-${n}.json`);
  return path;
}
