/**
 * The shipped model (issues 3, 15) through the TypeScript engine: exactly the
 * PyTorch greedy tokens, its held-out accuracy through `reasond eval`, and a
 * held-out set that shares no question with what it was trained on.
 * The hand-written wording-shift set and the docs' examples are in
 * shipped-model-skills.test.ts.
 */
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from '../../src/engine/generate.js';
import { loadModel } from '../../src/engine/load-model.js';
import { readModelFolder } from '../../src/engine/model-folder.js';
import { readJson, repoRoot, shippedModel } from '../helpers/models.js';

interface RefCase { id: string; messages: { role: 'user'; content: string }[]; input_ids: number[]; output_ids: number[]; answer: string }
const reference = readJson<{ cases: RefCase[] }>(join(shippedModel, 'reference.json')).cases;
const heldout = readFileSync(join(shippedModel, 'heldout.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

test('the shipped model is the default and loads its 4-bit file first', (t) => {
  const spec = readModelFolder(shippedModel);
  t.is(spec.dtype, 'q4');
  t.is(spec.onnxPath, join(shippedModel, 'onnx', 'model_q4.onnx'));
  t.is(spec.name, 'reasond-tiny');
});

test('the fp32 export through the TypeScript engine gives exactly the PyTorch greedy tokens for 20 held-out prompts', async (t) => {
  t.is(reference.length, 20);
  const model = await loadModel(shippedModel, { dtype: 'fp32', threads: 1 });
  try {
    for (const c of reference) {
      const r = await generate(model, { messages: c.messages, max_new_tokens: 320 });
      t.is(r.usage.prompt_tokens, c.input_ids.length, c.id);
      t.deepEqual(r.tokens, c.output_ids, c.id);
      t.is(r.finish_reason, 'stop');
    }
  } finally {
    await model.session.release();
  }
});

test('the shipped model reasons inside <think> and answers after it', async (t) => {
  const model = await loadModel(shippedModel, { threads: 1 });
  try {
    t.true(model.info.template_opens_thinking);
    const r = await generate(model, { prompt: 'A train leaves at 9:40 and arrives at 11:15. How long is the trip?' });
    t.is(r.answer, '1 h 35 min');
    t.true(r.usage.reasoning_tokens > 0);
    t.is(r.finish_reason, 'stop');
    // a budget of 3 tokens cuts the reasoning short; the model still answers, and says why it stopped
    const short = await generate(model, { prompt: 'A train leaves at 9:40 and arrives at 11:15. How long is the trip?', reasoning: { budget_tokens: 3 } });
    t.is(short.usage.reasoning_tokens, 3);
    t.is(short.finish_reason, 'budget');
    t.true(short.answer.length > 0);
  } finally {
    await model.session.release();
  }
});

test('held-out accuracy of the shipped (q4) model through reasond eval, greedy: the exact figure', (t) => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/index.ts'), 'eval', '--json', '--threads', '1'], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 16 * 1024 * 1024,
  });
  const report = JSON.parse(out);
  t.is(report.tasks, 500);
  t.is(report.model.dtype, 'q4');
  t.log(`held-out accuracy ${report.accuracy}% (${report.correct}/500): ${report.families.map((f: any) => `${f.family} ${f.accuracy}%`).join(', ')}`);
  // Deterministic greedy decoding: these are exact, and a change that costs accuracy shows here.
  t.deepEqual(
    report.families.map((f: any) => [f.family, f.tasks, f.correct]),
    EXPECTED_FAMILIES,
  );
  t.deepEqual(report.refusals, EXPECTED_REFUSALS);
});

test('the held-out set shares no question with the training (first grammar and wider stories) or reward-stage questions', (t) => {
  t.is(heldout.length, 500);
  const py = `
import json, sys
sys.path.insert(0, 'scripts/model')
import tasks, train
tr, _ = tasks.make_set(1, train.train_counts())
train_q = frozenset(x['question'] for x in tr)
held = [json.loads(l)['question'] for l in open('models/reasond-tiny/heldout.jsonl')]
rw, _ = tasks.make_set(101, 181, exclude=train_q | frozenset(held))
rw_q = frozenset(x['question'] for x in rw)
st_q = frozenset(x['question'] for x in tasks.make_stories(train.STORY_SEED, train.STORY_COUNTS, exclude=frozenset(held)))
print(json.dumps({'train': len(train_q), 'reward': len(rw_q), 'held': len(set(held)),
  'overlap_train': sum(q in train_q for q in held), 'overlap_reward': sum(q in rw_q for q in held),
  'overlap_stories': sum(q in st_q for q in held)}))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { train: 300000, reward: 905, held: 500, overlap_train: 0, overlap_reward: 0, overlap_stories: 0 });
});

test('the wider training stories (fam_story.py) restate what their question says: every number of the first trace line is in the question, and the answer is its value', (t) => {
  // An arithmetic story's first trace line is the canonical expression the rest computes; a number
  // the question does not contain (in digits or as a word, "Four friends") would teach the model to
  // invent one. Time stories: each clock time or duration the trace writes first comes from the question.
  const py = `
import json, re, sys
sys.path.insert(0, 'scripts/model')
import tasks, train, fam_story
words_ = {v: k for k, v in fam_story.NUMW.items()}
st = tasks.make_stories(train.STORY_SEED, {'arithmetic': 3000, 'time': 1000, 'logic': 500, 'site': 500}, exclude=frozenset())
bad, fams = [], {}
for x in st:
    fams[x['family']] = fams.get(x['family'], 0) + 1
    q, first = x['question'], x['trace'].split('\\n')[0]
    if x['family'] == 'arithmetic':
        qnums = set(int(n) for n in re.findall(r'\\d+', q)) | set(words_[w] for w in re.findall(r'[a-z]+', q.lower()) if w in words_)
        if not all(int(n) in qnums for n in re.findall(r'\\d+', first)) or eval(first) != int(x['answer']):
            bad.append(x['id'])
    elif x['family'] == 'time':
        if not re.fullmatch(r'\\d+ h \\d+ min|\\d+:\\d\\d', x['answer']):
            bad.append(x['id'])
    elif x['family'] == 'logic':
        if x['answer'] not in ('yes', 'no') and x['answer'] not in q[:1].upper() + q[1:]:  # vary_case may lower the first letter
            bad.append(x['id'])
print(json.dumps({'families': fams, 'bad': bad[:10]}))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { families: { arithmetic: 3000, time: 1000, logic: 500, site: 500 }, bad: [] });
});

test('a site mean divides digit by digit and writes every product: each step is right, and the steps give the answer', (t) => {
  // "98970/7: 9:1*7=7r2 28:4*7=28r0 ..." : brought-down value, quotient digit, the product, the remainder.
  // Read on the ninth and tenth models, a wrong step (25 / 7 written "3r0") was the commonest site
  // miss; the product puts the divisor next to every step, so no step is taken from memory alone.
  const py = `
import json, random, re, sys
sys.path.insert(0, 'scripts/model')
import fam_site
rng = random.Random(5)
n_ok, bad = 0, []
for i in range(400):
    q, trace, ans = fam_site.site(rng, kind='mean')
    line = next(l for l in trace.split('\\n') if re.match(r'\\d+/\\d+: ', l))
    total, n = map(int, re.match(r'(\\d+)/(\\d+): ', line).groups())
    steps, cur, qd = re.findall(r'(\\d+):(\\d)\\*(\\d+)=(\\d+)r(\\d+)', line), 0, ''
    for dg, (c, qq, nn, prod, r) in zip(str(total), steps):
        cur = cur * 10 + int(dg)
        ok = int(c) == cur and int(nn) == n and int(prod) == int(qq) * n and int(r) == cur - int(prod) and 0 <= int(r) < n
        if not ok: bad.append(line); break
        qd, cur = qd + qq, int(r)
    else:
        up = 2 * cur >= n
        want = (int(qd) + up) / 10
        if len(steps) == len(str(total)) and line.endswith(f' ={int(qd)}r{cur}') and ans == f'{want:.1f}' and abs(want - total / n / 10) <= 0.05 + 1e-9:
            n_ok += 1
        else:
            bad.append(line)
print(json.dumps({'ok': n_ok, 'bad': bad[:5]}))
`;
  const r = spawnSync('/usr/bin/python3', ['-c', py], { cwd: repoRoot, encoding: 'utf8' });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), { ok: 400, bad: [] });
});

// Measured with `reasond eval` on the committed model_q4.onnx (see docs/models.md).
const EXPECTED_FAMILIES: [string, number, number][] = [
  ['arithmetic', 100, 99],
  ['logic', 100, 95],
  ['ood', 100, 100],
  ['site', 100, 95],
  ['time', 100, 100],
] // 489/500 (the eleventh run's model: 484/500; the tenth's: 474/500);
const EXPECTED_REFUSALS = {
  out_of_domain_tasks: 100,
  out_of_domain_refused: 100,
  out_of_domain_refusal_rate: 100,
  in_domain_tasks: 400,
  in_domain_refused: 0,
  in_domain_refusal_rate: 0,
};
