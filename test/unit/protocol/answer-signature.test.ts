/** Answers signed by the device that sent them (issue 16): what checkAnswer accepts and refuses. */
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { AnswerSigner, checkAnswer } from '../../../src/protocol/index.js';

const pi7 = new AnswerSigner(generateKeyPairSync('ed25519').privateKey);
const pi8 = new AnswerSigner(generateKeyPairSync('ed25519').privateKey);
const answer = { id: 't1', type: 'result', status: 'ok', answer: '42', device: 'pi-7', usage: { prompt_tokens: 9, completion_tokens: 2 }, created_at: 1 };

test('a signed answer checks against its device key, whatever the order of its fields', (t) => {
  const signed = pi7.sign(answer);
  t.is(signed.signature.key_id, pi7.keyId);
  t.is(checkAnswer(signed, pi7.answerKey), 'ok');
  t.is(checkAnswer(Object.fromEntries(Object.entries(JSON.parse(JSON.stringify(signed))).reverse()), pi7.answerKey), 'ok');
  // signing again replaces the signature (a replayed answer is signed as sent)
  const replayed = pi7.sign({ ...signed, replayed: true });
  t.is(checkAnswer(replayed, pi7.answerKey), 'ok');
});

test('changed, unsigned, signed by another device, or garbage: never ok', (t) => {
  const signed = pi7.sign(answer);
  t.is(checkAnswer({ ...signed, answer: '43' }, pi7.answerKey), 'bad');
  t.is(checkAnswer({ ...signed, usage: { prompt_tokens: 9, completion_tokens: 3 } }, pi7.answerKey), 'bad');
  t.is(checkAnswer(answer, pi7.answerKey), 'unsigned');
  t.is(checkAnswer(pi8.sign(answer), pi7.answerKey), 'bad');
  t.is(checkAnswer({ ...pi8.sign(answer), signature: { key_id: pi7.keyId, sig: pi8.sign(answer).signature.sig } }, pi7.answerKey), 'bad');
  t.is(checkAnswer({ ...answer, signature: 'x' }, pi7.answerKey), 'bad');
  t.is(checkAnswer(signed, 'not a key'), 'bad');
});
