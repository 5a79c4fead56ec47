/**
 * Accuracy of a model on a task file, through the TypeScript engine with
 * greedy decoding (so the figure is exact and repeatable), per task family.
 */
import type { Engine } from '../engine/index.js';
import { refusalScore, type RefusalScore } from './refusals.js';
import { isCorrect, type EvalTask } from './task-file.js';

export interface FamilyScore {
  family: string;
  tasks: number;
  correct: number;
  accuracy: number;
  mean_reasoning_tokens: number;
}

export interface EvalReport {
  model: { name: string; version?: string; dtype: string; file: string };
  tasks: number;
  correct: number;
  accuracy: number;
  families: FamilyScore[];
  decode_tokens_per_s: number;
  mean_reasoning_tokens: number;
  mean_answer_tokens: number;
  /** out-of-domain questions answered `unsupported`, in-domain ones wrongly refused (issue 15) */
  refusals: RefusalScore;
  failures: { id: string; question: string; expected: string; got: string }[];
}

export async function evaluate(engine: Engine, tasks: EvalTask[], opts: { maxNewTokens?: number; onProgress?: (done: number, correct: number) => void } = {}): Promise<EvalReport> {
  const byFamily = new Map<string, { tasks: number; correct: number; reasoning: number }>();
  const failures: EvalReport['failures'] = [];
  const answers: { expected: string; got: string }[] = [];
  let correct = 0, reasoning = 0, answer = 0, decodeTokens = 0, decodeMs = 0;
  for (const [i, task] of tasks.entries()) {
    const r = await engine.generate({ prompt: task.question, temperature: 0, max_new_tokens: opts.maxNewTokens ?? 512 });
    const ok = isCorrect(r.answer, task.answer);
    answers.push({ expected: task.answer, got: r.answer });
    const f = byFamily.get(task.family) ?? { tasks: 0, correct: 0, reasoning: 0 };
    f.tasks++;
    f.reasoning += r.usage.reasoning_tokens;
    if (ok) { f.correct++; correct++; } else failures.push({ id: task.id, question: task.question, expected: task.answer, got: r.answer });
    byFamily.set(task.family, f);
    reasoning += r.usage.reasoning_tokens;
    answer += r.usage.answer_tokens;
    if (r.timing.decode_tokens_per_s > 0) {
      decodeTokens += r.usage.completion_tokens - 1;
      decodeMs += ((r.usage.completion_tokens - 1) / r.timing.decode_tokens_per_s) * 1000;
    }
    opts.onProgress?.(i + 1, correct);
  }
  const pct = (a: number, b: number) => Math.round((a / b) * 10000) / 100;
  const families = [...byFamily.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([family, f]) => ({
    family, tasks: f.tasks, correct: f.correct, accuracy: pct(f.correct, f.tasks), mean_reasoning_tokens: Math.round((f.reasoning / f.tasks) * 10) / 10,
  }));
  const info = engine.info;
  return {
    model: { name: info.name, version: info.version, dtype: info.dtype, file: info.file },
    tasks: tasks.length,
    correct,
    accuracy: pct(correct, tasks.length),
    families,
    decode_tokens_per_s: decodeMs > 0 ? Math.round((decodeTokens / decodeMs) * 10000) / 10 : 0,
    mean_reasoning_tokens: Math.round((reasoning / tasks.length) * 10) / 10,
    mean_answer_tokens: Math.round((answer / tasks.length) * 10) / 10,
    refusals: refusalScore(answers),
    failures,
  };
}
