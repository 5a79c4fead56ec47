/**
 * The shipped model's skill beyond its own generator (issue 15): the
 * hand-written wording-shift set (never generated, never trained on) through
 * `reasond eval`, the same set with instructions appended that training never saw,
 * and every example question in README.md and docs/API.md.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../../src/engine/generate.js';
import { loadModel } from '../../src/engine/load-model.js';
import { repoRoot, shippedModel } from '../helpers/models.js';

const wsFile = join(shippedModel, 'wording-shift.jsonl');
const ws = readFileSync(wsFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; family: string; question: string; answer: string });

/** `reasond eval --json --threads 1 --tasks <file>` on the shipped model, as a user runs it. */
function evalReport(tasksFile: string): any {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), 'eval', '--json', '--threads', '1', '--tasks', tasksFile], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(out);
}

test('the wording-shift set has at least 150 in-family questions over the four families and 50 out-of-domain ones', (t) => {
  const count = (f: string) => ws.filter((x) => x.family === f).length;
  t.deepEqual([...new Set(ws.map((x) => x.family))].sort(), ['arithmetic', 'logic', 'ood', 'site', 'time']);
  t.true(ws.length - count('ood') >= 150);
  t.true(count('ood') >= 50);
  for (const f of ['arithmetic', 'logic', 'site', 'time']) t.true(count(f) >= 35, f);
  t.true(ws.filter((x) => x.family === 'ood').every((x) => x.answer === 'unsupported'));
  t.is(new Set(ws.map((x) => x.question)).size, ws.length);
});

test('no wording-shift question is produced by the training generator (train with its instructions, the wider stories, held-out, reward or validation sets)', (t) => {
  // exact and case/space-folded match against every question the build generates
  const py = `
import json, sys
sys.path.insert(0, 'scripts/model')
import tasks, train
norm = lambda q: ' '.join(q.lower().split())
tr, _ = tasks.make_set(1, train.train_counts())
tri = tasks.with_instructions(tr, train.INSTRUCTION_SEED)  # what SFT trains on, with the wider questions
held, _ = tasks.make_set(2, 100, exclude=frozenset(x['question'] for x in tr))
st = tasks.make_stories(train.STORY_SEED, train.STORY_COUNTS, exclude=frozenset(x['question'] for x in held))
rw, _ = tasks.make_set(101, 181)
val, _ = tasks.make_set(4, 100)
gen = frozenset(norm(x['question']) for s in (tr, tri, st, held, rw, val) for x in s)
ws = [json.loads(l)['question'] for l in open('models/reasond-tiny/wording-shift.jsonl')]
print(json.dumps({'train': len(tr), 'stories': len(st), 'held': len(held), 'ws': len(ws), 'overlap': [q for q in ws if norm(q) in gen]}))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { train: 300000, stories: 43000, held: 500, ws: ws.length, overlap: [] });
});

test('wording-shift accuracy of the shipped (q4) model through reasond eval, greedy: the exact figures', (t) => {
  const report = evalReport(wsFile);
  t.is(report.tasks, ws.length);
  t.log(`wording-shift accuracy ${report.accuracy}% (${report.correct}/${report.tasks}): ${report.families.map((f: any) => `${f.family} ${f.accuracy}%`).join(', ')}`);
  t.log(`refusals ${JSON.stringify(report.refusals)}`);
  t.deepEqual(report.families.map((f: any) => [f.family, f.tasks, f.correct]), EXPECTED_WS_FAMILIES);
  t.deepEqual(report.refusals, EXPECTED_WS_REFUSALS);
});

test('the wording-shift set with held-out instructions appended ("Explain your reasoning." ...) through reasond eval: the exact figures', (t) => {
  // the variant the build measures (package.py): tasks.with_heldout_instructions, phrasings kept out of training
  const py = `
import json, sys
sys.path.insert(0, 'scripts/model')
import tasks
items = [json.loads(l) for l in open('models/reasond-tiny/wording-shift.jsonl', encoding='utf-8')]
print(json.dumps(tasks.with_heldout_instructions(items)))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { cwd: repoRoot, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  const items = JSON.parse(r.stdout) as { id: string; question: string }[];
  t.is(items.length, ws.length);
  t.is(items[1].question, `${ws[1].question} Explain your reasoning.`);
  const dir = mkdtempSync(join(tmpdir(), 'reasond-wsi-'));
  try {
    const file = join(dir, 'wsi.jsonl');
    writeFileSync(file, items.map((x) => JSON.stringify(x)).join('\n') + '\n');
    const report = evalReport(file);
    t.log(`with instructions: ${report.accuracy}% (${report.correct}/${report.tasks})`);
    t.deepEqual(report.families.map((f: any) => [f.family, f.tasks, f.correct]), EXPECTED_WSI_FAMILIES);
    t.deepEqual([report.refusals.out_of_domain_refused, report.refusals.in_domain_refused], [47, 0]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Every question the docs show being asked: `reasond run|ask "..."`, `"prompt":"..."`, `"content":"..."`. */
function docQuestions(): string[] {
  const qs = new Set<string>();
  for (const f of ['README.md', 'docs/API.md']) {
    const text = readFileSync(join(repoRoot, f), 'utf8');
    for (const m of text.matchAll(/reasond (?:run|ask)(?: --?[\w-]+(?: [^\s"-][^\s"]*)?)* "([^"]+)"/g)) qs.add(m[1]);
    // a prompt, or a user's message (an assistant's content in an example reply is an answer, not a question)
    for (const m of text.matchAll(/"(?:prompt":"|role":"user","content":")([^"]+)"/g)) qs.add(m[1]);
  }
  return [...qs].filter((q) => q.replace(/[.…]/g, '').trim() !== ''); // "..." is a placeholder, not a question
}

// The answers in the shipped model's documented formats (docs/models.md).
const DOC_ANSWERS: Record<string, string> = {
  'A train leaves at 9:40 and arrives at 11:15. How long is the trip?': '1 h 35 min',
  'What is 170 + 8 * 69?': '722',
  'What is 17 * 23? Think step by step.': '391',
  '2+2?': '4',
  'What is 17 + 25?': '42',
  hi: 'unsupported',
};

// "What is 17 * 23? Think step by step." was refused by the eighth training run's model: no training
// question then carried an instruction. Since the ninth run 8% of them do (tasks.with_instructions).
test('every example question in README.md and docs/API.md is answered correctly by the shipped model', async (t) => {
  const qs = docQuestions();
  t.deepEqual(qs.filter((q) => !(q in DOC_ANSWERS)), [], 'a new example in the docs needs its expected answer here');
  t.true(qs.length >= 5);
  const model = await loadModel(shippedModel, { threads: 1 });
  try {
    for (const q of qs) {
      const r = await generate(model, { prompt: q, max_new_tokens: 384 });
      t.is(r.answer, DOC_ANSWERS[q], q);
      t.is(r.finish_reason, 'stop', q);
    }
  } finally {
    await model.session.release();
  }
});

// Measured with `reasond eval --tasks models/reasond-tiny/wording-shift.jsonl` on the committed model_q4.onnx.
const EXPECTED_WS_FAMILIES: [string, number, number][] = [
  ['arithmetic', 45, 43],
  ['logic', 41, 41],
  ['ood', 53, 51],
  ['site', 41, 39],
  ['time', 44, 40],
] // 214/224 (the eleventh run's model: 209/224; the tenth's: 211/224; the ninth's: 200/224);
// 204/224 (the eleventh run's model: 202/224; the tenth's: 204/224; the ninth's: 188/224); the eighth run's model (no instructions in training) scored 142/224 (63.4%) on it, refusing 31 of the 53 out-of-domain prompts
const EXPECTED_WSI_FAMILIES: [string, number, number][] = [
  ['arithmetic', 45, 41],
  ['logic', 41, 41],
  ['ood', 53, 47],
  ['site', 41, 36],
  ['time', 44, 39],
];
const EXPECTED_WS_REFUSALS = {
  out_of_domain_tasks: 53,
  out_of_domain_refused: 51,
  out_of_domain_refusal_rate: 96.23,
  in_domain_tasks: 171,
  in_domain_refused: 0,
  in_domain_refusal_rate: 0,
};
