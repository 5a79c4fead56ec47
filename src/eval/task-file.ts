/**
 * Reasoning task files: JSONL, one `{"id", "family", "question", "answer"}`
 * per line. Errors name the file, the line and the field.
 */
import { readFileSync } from 'node:fs';
import { ReasondError } from '../core/errors.js';

export interface EvalTask {
  id: string;
  family: string;
  question: string;
  answer: string;
}

export function readTaskFile(path: string): EvalTask[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ReasondError('invalid_request', `cannot read task file ${path}: ${(e as Error).message}`);
  }
  const tasks: EvalTask[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let row: any;
    try {
      row = JSON.parse(line);
    } catch {
      throw new ReasondError('invalid_request', `${path}:${i + 1}: not JSON`);
    }
    for (const field of ['question', 'answer'] as const) {
      if (typeof row?.[field] !== 'string' || !row[field]) {
        throw new ReasondError('invalid_request', `${path}:${i + 1}: ${field} must be a non-empty string; got ${JSON.stringify(row?.[field])}`);
      }
    }
    tasks.push({ id: String(row.id ?? `line-${i + 1}`), family: String(row.family ?? 'all'), question: row.question, answer: row.answer });
  });
  if (!tasks.length) throw new ReasondError('invalid_request', `task file ${path} has no tasks`);
  return tasks;
}

/** Exact match after trimming, case folding and collapsing whitespace. */
export function normalizeAnswer(s: string): string {
  return s.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\.$/, '');
}

export const isCorrect = (got: string, expected: string): boolean => normalizeAnswer(got) === normalizeAnswer(expected);

/**
 * Round-robin over the families in their order of first appearance, so that
 * any prefix of the result covers every family (held-out files are sorted by
 * family; their first 60 tasks used to be arithmetic only, issue 15).
 */
export function interleaveFamilies(tasks: EvalTask[]): EvalTask[] {
  const byFamily = new Map<string, EvalTask[]>();
  for (const t of tasks) byFamily.set(t.family, [...(byFamily.get(t.family) ?? []), t]);
  const lists = [...byFamily.values()];
  const out: EvalTask[] = [];
  for (let i = 0; out.length < tasks.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]);
  return out;
}
