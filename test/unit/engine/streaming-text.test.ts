/** UTF-8-safe incremental detokenization and the stop-string/trim rules of one channel. */
import test from 'ava';
import { join } from 'node:path';
import { ChannelText } from '../../../src/engine/channel-text.js';
import { IncrementalDecoder } from '../../../src/engine/detokenizer.js';
import { loadTokenizer } from '../../../src/engine/tokenizer.js';
import { readJson, tinyRandom } from '../../helpers/models.js';

const tokenizer = loadTokenizer(readJson(join(tinyRandom, 'tokenizer.json')), readJson(join(tinyRandom, 'tokenizer_config.json')));
const samples = ['Grüße — 東京 🙂', 'Ünïcödé ñ 日本語 ✓ 🚀🚀', 'plain ascii, 12 * 7 = 84', '🙂'];

test('the byte-level tokenizer round-trips multi-byte text exactly', (t) => {
  for (const s of samples) t.is(tokenizer.decode(tokenizer.encode(s)), s);
  t.is(tokenizer.encode('🙂').length, 4, 'one token per UTF-8 byte');
});

test('multi-byte characters split across tokens never come out broken', (t) => {
  for (const s of samples) {
    const dec = new IncrementalDecoder((ids) => tokenizer.decode(ids));
    const parts = tokenizer.encode(s).map((id) => dec.push(id));
    parts.push(dec.flush());
    t.is(parts.join(''), s);
    for (const p of parts) t.false(p.includes('\uFFFD'), JSON.stringify(p));
    // the emoji's four byte-tokens yield nothing until the last one
    if (s === '🙂') t.deepEqual(parts, ['', '', '', '🙂', '']);
  }
});

test('a truncated character is released as U+FFFD at the end, exactly as a full decode shows it', (t) => {
  const ids = tokenizer.encode('ab🙂').slice(0, -1);
  const dec = new IncrementalDecoder((x) => tokenizer.decode(x));
  const text = ids.map((id) => dec.push(id)).join('') + dec.flush();
  t.is(text, tokenizer.decode(ids));
  t.is(text, 'ab\uFFFD');
});

function feed(stops: string[], chunks: string[]) {
  const c = new ChannelText(stops);
  const out = chunks.map((x) => c.append(x));
  out.push(c.finish());
  return { c, out };
}

test('channel text trims leading and trailing whitespace and the stream matches it', (t) => {
  const { c, out } = feed([], ['\n\n', ' 4', '2 ', '\n', 'ok', '\n\n']);
  t.is(c.text, '42 \nok');
  t.is(out.join(''), '42 \nok');
  t.deepEqual(out, ['', '4', '2', '', ' \nok', '', '']); // six chunks, then finish()
});

test('a stop string split across chunks is never streamed and cuts the text', (t) => {
  const { c, out } = feed(['</s>'], ['Answer: 4', '2<', '/s', '> trailing']);
  t.true(c.stopped);
  t.is(c.text, 'Answer: 42');
  t.is(out.join(''), 'Answer: 42');
  t.false(out.join('').includes('<'));
});

test('the earliest of several stop strings wins', (t) => {
  const { c } = feed(['STOP', 'x'], ['abcSTOPdefx']);
  t.is(c.text, 'abc');
});

test('a surrogate pair is never split between two deltas', (t) => {
  const { out } = feed(['zzzz'], ['a🙂', 'b', 'c', 'd', 'e']);
  for (const p of out) t.false(/[\ud800-\udbff]$/.test(p) || /^[\udc00-\udfff]/.test(p), JSON.stringify(p));
  t.is(out.join(''), 'a🙂bcde');
});
