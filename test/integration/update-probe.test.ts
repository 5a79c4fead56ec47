/** The probe: a staged package loaded in a separate node process, smoke checks run there (issue 6). */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasReason } from '../../src/package/errors.js';
import { probePackage } from '../../src/update/probe.js';
import { HELLO_ANSWER, makeKeys, makePackage } from '../helpers/packages.js';

const keys = makeKeys();

test('a good package passes its expected answer and reports what it measured', async (t) => {
  const { dir } = await makePackage({ keys, version: '1.0.0' });
  const r = await probePackage(dir, { threads: 1 });
  t.true(r.ok);
  t.deepEqual(r.answers, [{ prompt: 'Hello', expect: HELLO_ANSWER, answer: HELLO_ANSWER }]);
  t.true(r.rss_mb > 0);
});

test('a corrupt ONNX file (signed, hashes fine) is rejected as probe_crashed', async (t) => {
  const { dir } = await makePackage({ keys, version: '1.0.0', edit: (d) => writeFileSync(join(d, 'onnx/model_quantized.onnx'), Buffer.alloc(4096, 7)) });
  const e = await t.throwsAsync(probePackage(dir, { threads: 1 }));
  t.true(hasReason(e, 'probe_crashed'), e?.message);
  t.true(e!.message.includes('could not load tiny@1.0.0'), e?.message);
});

test('a wrong expected answer is smoke_failed, naming the prompt and both answers', async (t) => {
  const { dir } = await makePackage({ keys, version: '1.0.0', smoke: { prompts: [{ prompt: 'Hello', expect: 'Hi there', max_new_tokens: 8 }] } });
  const e = await t.throwsAsync(probePackage(dir, { threads: 1 }));
  t.true(hasReason(e, 'smoke_failed'));
  t.true(e!.message.includes('"Hi there"'));
});

test('a memory ceiling below what loading takes is too_big', async (t) => {
  const { dir } = await makePackage({ keys, version: '1.0.0', smoke: { prompts: [], max_rss_mb: 1, min_tokens_per_s: 0 } });
  t.true(hasReason(await t.throwsAsync(probePackage(dir, { threads: 1 })), 'too_big'));
});
