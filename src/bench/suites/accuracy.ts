/**
 * The accuracy suite (issue 9): `reasond eval` on a task file, so a speed
 * change that costs accuracy shows beside the speed.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../engine/index.js';
import { evaluate } from '../../eval/evaluate.js';
import { interleaveFamilies, readTaskFile } from '../../eval/task-file.js';

export interface AccuracyFigures {
  tasks_file?: string;
  tasks?: number;
  correct?: number;
  accuracy_percent?: number;
  families?: { family: string; tasks: number; accuracy: number }[];
  decode_tokens_per_s?: number;
  skipped?: string;
}

export async function accuracySuite(o: { dir: string; threads: number; tasks?: string; limit: number; progress: (l: string) => void }): Promise<AccuracyFigures> {
  const file = o.tasks ?? join(o.dir, 'heldout.jsonl');
  if (!existsSync(file)) return { skipped: `no task file (${file}); give one with --tasks` };
  // every family in any slice: --limit 60 used to measure arithmetic only (issue 15)
  const tasks = interleaveFamilies(readTaskFile(file)).slice(0, o.limit > 0 ? o.limit : undefined);
  const engine = new Engine({ model: o.dir, threads: o.threads });
  await engine.start();
  try {
    const r = await evaluate(engine, tasks, {
      onProgress: (done, correct) => done % 10 === 0 && o.progress(`accuracy: ${done}/${tasks.length} tasks, ${correct} correct`),
    });
    return {
      tasks_file: file, tasks: r.tasks, correct: r.correct, accuracy_percent: r.accuracy,
      families: r.families.map((f) => ({ family: f.family, tasks: f.tasks, accuracy: f.accuracy })),
      decode_tokens_per_s: r.decode_tokens_per_s,
    };
  } finally {
    await engine.stop();
  }
}
