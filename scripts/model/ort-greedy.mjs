// Greedy decoding with onnxruntime-node, used by the model build to check exports (issue 3).
// There is no Python onnxruntime here, so every ONNX file is verified through this script.
//
//   node scripts/model/ort-greedy.mjs ref  <model_dir> <onnx_file> <reference.json> [write_ort_outputs.json]
//   node scripts/model/ort-greedy.mjs eval <model_dir> <onnx_file> <tasks.jsonl> [limit] [out.json]
//   node scripts/model/ort-greedy.mjs tok  <model_dir> <python_ids.json>
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { Tokenizer } from '@huggingface/tokenizers';
import { Template } from '@huggingface/jinja';

const [mode, dir, file, data, limitArg, outFile] = process.argv.slice(2);
const readJson = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

function loadTokenizer(d) {
  const tj = readJson(path.join(d, 'tokenizer.json'));
  const tc = readJson(path.join(d, 'tokenizer_config.json'));
  return { tok: new Tokenizer(tj, tc), tpl: new Template(tc.chat_template), tc };
}

async function openModel(d, f) {
  const genaiPath = path.join(d, 'genai_config.json');
  const genai = fs.existsSync(genaiPath) ? readJson(genaiPath).model : null;
  const sess = await ort.InferenceSession.create(path.join(d, f), { intraOpNumThreads: 1 });
  let L, kv, hd, names, kvType, idType, hasPos;
  if (genai) {
    const dec = genai.decoder;
    L = dec.num_hidden_layers; kv = dec.num_key_value_heads; hd = dec.head_size;
    names = (i) => [dec.inputs.past_key_names.replace('%d', i), dec.inputs.past_value_names.replace('%d', i),
      dec.outputs.present_key_names.replace('%d', i), dec.outputs.present_value_names.replace('%d', i)];
    kvType = 'float16'; idType = 'int32'; hasPos = false;
  } else {
    const c = readJson(path.join(d, 'config.json'));
    L = c.num_hidden_layers; kv = c.num_key_value_heads; hd = c.head_dim;
    names = (i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`, `present.${i}.key`, `present.${i}.value`];
    kvType = 'float32'; idType = 'int64'; hasPos = sess.inputNames.includes('position_ids');
  }
  const ints = (arr) => idType === 'int64'
    ? new ort.Tensor('int64', BigInt64Array.from(arr.map(BigInt)), [1, arr.length])
    : new ort.Tensor('int32', Int32Array.from(arr), [1, arr.length]);
  const empty = () => new ort.Tensor(kvType, kvType === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, kv, 0, hd]);
  return async function greedy(prompt, maxNew, stop) {
    let past = [];
    for (let i = 0; i < L; i++) past.push([empty(), empty()]);
    let cur = prompt.slice();
    let total = 0;
    const out = [];
    for (let step = 0; step < maxNew; step++) {
      const feeds = { input_ids: ints(cur), attention_mask: ints(new Array(total + cur.length).fill(1)) };
      if (hasPos) feeds.position_ids = ints(cur.map((_, j) => total + j));
      for (let i = 0; i < L; i++) { const n = names(i); feeds[n[0]] = past[i][0]; feeds[n[1]] = past[i][1]; }
      const r = await sess.run(feeds);
      const lg = r.logits.data; const V = r.logits.dims[2]; const off = (cur.length - 1) * V;
      let best = 0; for (let v = 1; v < V; v++) if (lg[off + v] > lg[off + best]) best = v;
      out.push(best);
      total += cur.length;
      past = []; for (let i = 0; i < L; i++) { const n = names(i); past.push([r[n[2]], r[n[3]]]); }
      cur = [best];
      if (stop && stop.includes(best)) break;
    }
    return out;
  };
}

function extractAnswer(text) {
  const i = text.lastIndexOf('</think>');
  let a = i >= 0 ? text.slice(i + '</think>'.length) : text;
  return a.replace('<|im_end|>', '').replace('<|endoftext|>', '').trim();
}

if (mode === 'tok') {
  // python_ids.json: [{text, ids, messages?, prompt_ids?}] -> check encode/decode/template agree with Python
  const { tok, tpl, tc } = loadTokenizer(dir);
  let bad = 0;
  for (const c of readJson(file)) {
    const ids = tok.encode(c.text, { add_special_tokens: false }).ids;
    const back = tok.decode(ids, { skip_special_tokens: false });
    if (JSON.stringify(ids) !== JSON.stringify(c.ids) || back !== c.text) { bad++; console.log('MISMATCH', JSON.stringify(c.text), ids.slice(0, 20), back); }
    if (c.messages) {
      const s = tpl.render({ messages: c.messages, add_generation_prompt: true, bos_token: tc.bos_token, eos_token: tc.eos_token });
      if (s !== c.prompt) { bad++; console.log('TEMPLATE MISMATCH', JSON.stringify(s), JSON.stringify(c.prompt)); }
      const pids = tok.encode(s, { add_special_tokens: false }).ids;
      if (JSON.stringify(pids) !== JSON.stringify(c.prompt_ids)) { bad++; console.log('PROMPT IDS MISMATCH', c.prompt); }
    }
  }
  console.log(JSON.stringify({ tokenizer_ok: bad === 0, mismatches: bad }));
  process.exit(bad ? 1 : 0);
} else if (mode === 'ref') {
  const greedy = await openModel(dir, file);
  const ref = readJson(data);
  let same = 0; const diffs = [];
  for (const [k, c] of ref.cases.entries()) {
    const stop = ref.stop_at_eos ? ref.eos_token_id : null;
    const got = await greedy(c.input_ids, ref.max_new_tokens ?? c.output_ids.length, stop);
    if (JSON.stringify(got) === JSON.stringify(c.output_ids)) same++;
    else diffs.push({ case: k, want: c.output_ids, got });
  }
  console.log(JSON.stringify({ file, cases: ref.cases.length, exact: same, diffs: diffs.slice(0, 3) }));
  if (limitArg) { // write what onnxruntime produced (for graphs that are not expected to match PyTorch bit-for-bit)
    const out = { ...ref, cases: [] };
    for (const c of ref.cases) out.cases.push({ ...c, output_ids: await greedy(c.input_ids, ref.max_new_tokens ?? c.output_ids.length, ref.stop_at_eos ? ref.eos_token_id : null) });
    fs.writeFileSync(limitArg, JSON.stringify(out, null, 1) + '\n');
  }
} else if (mode === 'eval') {
  const { tok, tpl, tc } = loadTokenizer(dir);
  const gen = readJson(path.join(dir, 'generation_config.json'));
  const stop = [].concat(gen.eos_token_id);
  const greedy = await openModel(dir, file);
  let items = fs.readFileSync(data, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  if (limitArg) items = items.slice(0, Number(limitArg));
  // the same answer match as `reasond eval` (src/eval/task-file.ts normalizeAnswer)
  const norm = (x) => x.trim().toLowerCase().replace(/\s+/g, ' ').replace(/\.$/, '');
  const maxNew = gen.max_new_tokens ?? 320;
  const fam = {}; let ok = 0, toks = 0; const t0 = Date.now(); const rows = [];
  const refusal = { ood: 0, ood_refused: 0, in_domain: 0, in_domain_refused: 0 };
  for (const it of items) {
    const s = tpl.render({ messages: [{ role: 'user', content: it.question }], add_generation_prompt: true, bos_token: tc.bos_token, eos_token: tc.eos_token });
    const ids = tok.encode(s, { add_special_tokens: false }).ids;
    const out = await greedy(ids, maxNew, stop);
    toks += out.length;
    const ans = extractAnswer(tok.decode(out, { skip_special_tokens: false }));
    const good = norm(ans) === norm(it.answer);
    const isOod = norm(it.answer) === 'unsupported', refused = norm(ans) === 'unsupported';
    if (isOod) { refusal.ood++; refusal.ood_refused += refused; } else { refusal.in_domain++; refusal.in_domain_refused += refused; }
    ok += good; fam[it.family] ??= [0, 0]; fam[it.family][0] += good; fam[it.family][1]++;
    rows.push({ id: it.id, good, answer: ans, out_ids: out });
  }
  const secs = (Date.now() - t0) / 1000;
  const res = { file, n: items.length, accuracy: ok / items.length,
    per_family: Object.fromEntries(Object.entries(fam).map(([k, [a, n]]) => [k, a / n])),
    correct: ok, per_family_correct: Object.fromEntries(Object.entries(fam).map(([k, [a, n]]) => [k, [a, n]])), refusal,
    generated_tokens: toks, seconds: secs, tokens_per_s_incl_prefill: toks / secs,
    bytes: fs.statSync(path.join(dir, file)).size };
  if (outFile) fs.writeFileSync(outFile, JSON.stringify({ ...res, rows }));
  console.log(JSON.stringify(res));
}
