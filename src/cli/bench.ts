/**
 * `reasond bench` (issue 9): speed, memory, MQTT overhead and accuracy of a
 * model next to the floor and transformers.js; writes
 * bench/results/<date>-<machine>.json and prints a summary.
 */
import type { CommandModule } from 'yargs';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
// Only names at load: the harness (engines, agents, transformers.js) loads when the command runs (#19).
import { SUITES, type Suite } from '../bench/suite-names.js';
import { STANDINS, type StandinName } from '../bench/standins.js';
import { ReasondError } from '../core/errors.js';
import { defaultModelDir } from '../core/paths.js';
import { reportError } from './output.js';

interface BenchArgs {
  model?: string;
  suite: string;
  standins?: string;
  full: boolean;
  threads: number;
  'prefill-chunk'?: number;
  contexts?: string;
  reps?: number;
  'new-tokens'?: number;
  tasks?: string;
  'accuracy-limit'?: number;
  'long-tokens': number;
  generations: number;
  out?: string;
  json: boolean;
  report?: string[];
}

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

export const benchCommand: CommandModule<object, BenchArgs> = {
  command: 'bench',
  describe: 'Benchmark a model: engine vs the floor and transformers.js, concurrency, MQTT, memory, event loop, accuracy, readings ingestion and job runs',
  builder: (y) =>
    y
      .option('model', { type: 'string', describe: 'Model folder to measure', defaultDescription: 'the shipped models/reasond-tiny' })
      .option('suite', { type: 'string', default: SUITES.join(','), describe: `Suites, comma-separated: ${SUITES.join(', ')}` })
      .option('standins', { type: 'string', describe: `Real-size random-weight stand-ins to measure too (${STANDINS.join(', ')}, or none); made on first use`, defaultDescription: 'qwen2.5-0.5b (both with --full); none with --model' })
      .option('full', { type: 'boolean', default: false, describe: 'Context 16-4096, 5 repetitions, 64 new tokens, both stand-ins (engine, concurrency, memory, event loop): long' })
      .option('threads', { type: 'number', default: 0, describe: 'onnxruntime intra-op threads for every implementation (0 = all cores)' })
      .option('prefill-chunk', { type: 'number', describe: "The engine's prompt tokens per forward pass (engine suite, memory, event loop); the floor and transformers.js always take the whole prompt", defaultDescription: 'the engine default, 128' })
      .option('contexts', { type: 'string', describe: 'Prompt lengths for the engine suite, comma-separated', defaultDescription: '16,256,1024 (with --full 16,256,1024,4096)' })
      .option('reps', { type: 'number', describe: 'Repetitions per measurement', defaultDescription: '3 (5 with --full)' })
      .option('new-tokens', { type: 'number', describe: 'Tokens generated per engine-suite run', defaultDescription: '32 (64 with --full)' })
      .option('tasks', { type: 'string', describe: 'JSONL task file for the accuracy suite', defaultDescription: "the model's heldout.jsonl" })
      .option('accuracy-limit', { type: 'number', describe: 'Only the first n tasks (0 = all)', defaultDescription: '60 (all with --full)' })
      .option('long-tokens', { type: 'number', default: 1024, describe: 'Memory/event-loop suites: length of the long generation (capped by the context)' })
      .option('generations', { type: 'number', default: 100, describe: 'Memory suite: short generations watched for RSS growth' })
      .option('out', { type: 'string', describe: 'Result file', defaultDescription: 'bench/results/<date>-<hostname>.json' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the whole result as JSON' })
      .option('report', { type: 'string', array: true, describe: 'Measure nothing: print Markdown tables of these result files (for docs/BENCHMARKS.md)' }),
  handler: async (a) => {
    try {
      if (a.report?.length) {
        const { renderReport } = await import('../bench/report.js');
        for (const f of a.report) process.stdout.write(renderReport(JSON.parse(readFileSync(f, 'utf8')), basename(f)) + '\n');
        return;
      }
      const suites = list(a.suite) as Suite[];
      const unknown = suites.filter((s) => !SUITES.includes(s));
      if (unknown.length) throw new ReasondError('invalid_request', `--suite: unknown suite ${unknown.join(', ')}; choose from ${SUITES.join(', ')}`);
      const { defaultOptions, runBench } = await import('../bench/run.js');
      const d = defaultOptions(a.full);
      const standins = (a.standins === undefined ? (a.model ? [] : d.standins) : list(a.standins).filter((s) => s !== 'none')) as StandinName[];
      const badStandin = standins.filter((s) => !STANDINS.includes(s));
      if (badStandin.length) throw new ReasondError('invalid_request', `--standins: unknown ${badStandin.join(', ')}; choose from ${STANDINS.join(', ')} or none`);
      const progress = (line: string) => process.stderr.write(`bench ${new Date().toISOString().slice(11, 19)} ${line}\n`);
      const { path, result } = await runBench({
        ...d,
        model: a.model ?? defaultModelDir(),
        suites,
        standins,
        threads: a.threads,
        prefillChunk: a['prefill-chunk'],
        contexts: a.contexts ? list(a.contexts).map(Number) : d.contexts,
        reps: a.reps ?? d.reps,
        newTokens: a['new-tokens'] ?? d.newTokens,
        tasks: a.tasks,
        accuracyLimit: a['accuracy-limit'] ?? d.accuracyLimit,
        longTokens: a['long-tokens'],
        generations: a.generations,
        out: a.out,
        progress,
      });
      if (a.json) return void process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      const rows = result.targets as { target: string; model: string; measured: string; met: boolean | null }[];
      process.stdout.write(`targets (${path}):\n`);
      for (const r of rows) process.stdout.write(`  ${r.met === null ? 'info  ' : r.met ? 'meets ' : 'MISSES'}  ${r.target} [${r.model}]: ${r.measured}\n`);
    } catch (e) {
      reportError(e);
    }
  },
};
