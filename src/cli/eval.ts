/**
 * `reasond eval`: a model's accuracy on a reasoning task file (JSONL),
 * through the engine with greedy decoding, per task family.
 */
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { Engine, parseDtype } from '../engine/index.js';
import { defaultModelDir, shippedModelDir } from '../core/paths.js';
import { modelArg } from './models-dir.js';
import { reportError } from './output.js';
import { progressBar } from './progress-bar.js';

interface EvalArgs {
  model?: string;
  dtype?: string;
  tasks?: string;
  limit?: number;
  'max-new-tokens': number;
  threads?: number;
  json: boolean;
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: "Measure a model's reasoning accuracy on a task file (greedy, exact answers)",
  builder: (y) =>
    y
      .option('model', { type: 'string', describe: 'Model folder, or owner/name of a model pulled with reasond model pull', defaultDescription: 'the shipped models/reasond-tiny' })
      .option('models-dir', { type: 'string', describe: 'Where reasond model pull put the model named by --model owner/name', defaultDescription: "the agent's: <data_dir>/models" })
      .option('dtype', { type: 'string', describe: 'Weights file: q4, q4f16, q8, fp16, fp32', defaultDescription: 'first of q4, q8, fp32, q4f16, fp16 present' })
      .option('tasks', { type: 'string', describe: 'JSONL file, one {"id","family","question","answer"} per line', defaultDescription: "the shipped model's held-out set" })
      .option('limit', { type: 'number', describe: 'Only the first n tasks' })
      .option('max-new-tokens', { type: 'number', default: 512, describe: 'Most tokens per task' })
      .option('threads', { type: 'number', describe: 'onnxruntime intra-op threads', defaultDescription: 'all cores' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the report as JSON' }),
  handler: async (a) => {
    let engine: Engine | undefined;
    try {
      // eval loads with its command only (#19)
      const { readTaskFile } = await import('../eval/task-file.js');
      const { evaluate } = await import('../eval/evaluate.js');
      let tasks = readTaskFile(a.tasks ?? join(shippedModelDir, 'heldout.jsonl'));
      if (a.limit !== undefined) tasks = tasks.slice(0, a.limit);
      engine = new Engine({ model: modelArg(a.model ?? defaultModelDir(), a), dtype: a.dtype === undefined ? undefined : parseDtype(a.dtype), threads: a.threads });
      await engine.start();
      const bar = progressBar('eval [{bar}] {value}/{total} tasks, {correct} correct, {eta_formatted} left', tasks.length, 0, { correct: 0 }, !a.json && process.stderr.isTTY);
      const report = await evaluate(engine, tasks, {
        maxNewTokens: a['max-new-tokens'],
        onProgress: (done, correct) => bar?.update(done, { correct }),
      });
      bar?.stop();
      if (a.json) {
        process.stdout.write(JSON.stringify(report, null, 2) + '\n');
        return;
      }
      const m = report.model;
      process.stdout.write(`${m.name}${m.version ? ' ' + m.version : ''} (${m.dtype}, ${m.file})\n\n`);
      process.stdout.write('family'.padEnd(14) + 'tasks'.padStart(7) + 'correct'.padStart(9) + 'accuracy'.padStart(10) + 'reasoning tok'.padStart(15) + '\n');
      for (const f of report.families) {
        process.stdout.write(f.family.padEnd(14) + String(f.tasks).padStart(7) + String(f.correct).padStart(9) + `${f.accuracy.toFixed(2)}%`.padStart(10) + String(f.mean_reasoning_tokens).padStart(15) + '\n');
      }
      process.stdout.write('overall'.padEnd(14) + String(report.tasks).padStart(7) + String(report.correct).padStart(9) + `${report.accuracy.toFixed(2)}%`.padStart(10) + String(report.mean_reasoning_tokens).padStart(15) + '\n');
      process.stdout.write(`\ndecode ${report.decode_tokens_per_s} tok/s; mean answer ${report.mean_answer_tokens} tokens\n`);
      const rf = report.refusals;
      if (rf.out_of_domain_tasks > 0) {
        process.stdout.write(`answered unsupported: ${rf.out_of_domain_refused}/${rf.out_of_domain_tasks} out-of-domain (${rf.out_of_domain_refusal_rate}%), ` +
          `${rf.in_domain_refused}/${rf.in_domain_tasks} in-domain wrongly (${rf.in_domain_refusal_rate}%)\n`);
      }
    } catch (e) {
      reportError(e);
    } finally {
      await engine?.stop();
    }
  },
};
