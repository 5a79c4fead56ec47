import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCode } from '../../../src/core/errors.js';
import { interleaveFamilies, isCorrect, normalizeAnswer, readTaskFile } from '../../../src/eval/task-file.js';
import { tempDir } from '../../helpers/models.js';

function file(text: string): string {
  const p = join(tempDir(), 'tasks.jsonl');
  writeFileSync(p, text);
  return p;
}

test('a task file is read line by line; blank lines are skipped; id and family default', (t) => {
  const tasks = readTaskFile(file('{"id":"a","family":"time","question":"q1","answer":"1 h"}\n\n{"question":"q2","answer":"2"}\n'));
  t.deepEqual(tasks, [
    { id: 'a', family: 'time', question: 'q1', answer: '1 h' },
    { id: 'line-3', family: 'all', question: 'q2', answer: '2' },
  ]);
});

test('bad task files name the line and the field', (t) => {
  const notJson = t.throws(() => readTaskFile(file('{"question":"q","answer":"a"}\n{oops\n')))!;
  t.true(hasCode(notJson, 'invalid_request'));
  t.regex(notJson.message, /tasks\.jsonl:2: not JSON$/);
  t.regex(t.throws(() => readTaskFile(file('{"question":"q","answer":7}\n')))!.message, /tasks\.jsonl:1: answer must be a non-empty string; got 7$/);
  t.regex(t.throws(() => readTaskFile(file('\n')))!.message, /has no tasks$/);
  t.regex(t.throws(() => readTaskFile('/nonexistent.jsonl'))!.message, /^cannot read task file \/nonexistent\.jsonl/);
});

test('answers match exactly after trimming, case folding and whitespace collapsing', (t) => {
  t.is(normalizeAnswer('  1 H   35 min. '), '1 h 35 min');
  t.true(isCorrect('1 h 35 min', '1 h 35 min'));
  t.true(isCorrect(' Ann\n', 'ann'));
  t.false(isCorrect('135', '1 h 35 min'));
  t.false(isCorrect('4711', '471'));
});

test('interleaving families makes every prefix cover all of them, keeping each family in order', (t) => {
  const task = (id: string, family: string) => ({ id, family, question: id, answer: '1' });
  const got = interleaveFamilies([task('a1', 'a'), task('a2', 'a'), task('a3', 'a'), task('b1', 'b'), task('c1', 'c'), task('c2', 'c')]);
  t.deepEqual(got.map((x) => x.id), ['a1', 'b1', 'c1', 'a2', 'c2', 'a3']);
});
