import test from 'ava';
import { canonicalJson, parseManifest } from '../../../src/package/manifest.js';
import { compareSemver } from '../../../src/package/semver.js';
import { hasReason } from '../../../src/package/errors.js';
import { parseRange } from '../../../src/package/range.js';
import { checkRelativePath, externalDataPath } from '../../../src/package/path-rules.js';

const good = {
  name: 'tiny', version: '1.0.0', format: 'onnx-community', dtype: 'q8', min_agent_version: '0.1.0',
  files: [{ path: 'config.json', size: 3, sha256: 'a'.repeat(64) }],
  smoke: { prompts: [], min_tokens_per_s: 0, max_rss_mb: 0 },
};

test('canonical JSON sorts keys at every level and drops undefined', (t) => {
  t.is(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 'x' }], c: undefined } }), '{"a":{"d":[2,{"y":"x","z":1}]},"b":1}');
});

test('semver order, prereleases before their release', (t) => {
  t.true(compareSemver('1.10.0', '1.9.9') > 0);
  t.true(compareSemver('1.0.0-rc.1', '1.0.0') < 0);
  t.is(compareSemver('2.0.0', '2.0.0'), 0);
});

test('a good manifest parses; each bad field is named', (t) => {
  t.is(parseManifest(JSON.stringify(good)).name, 'tiny');
  const bad = (patch: object, words: string) => {
    const e = t.throws(() => parseManifest(JSON.stringify({ ...good, ...patch })));
    t.true(hasReason(e, 'manifest_invalid'));
    t.true(e!.message.includes(words), e!.message);
  };
  bad({ version: '1.0' }, 'version must be semver');
  bad({ name: 'Bad Name' }, 'name must be');
  bad({ files: [{ path: 'x', size: -1, sha256: 'a'.repeat(64) }] }, 'each file needs');
  bad({ files: [good.files[0], good.files[0]] }, 'listed twice');
  bad({ signature: { alg: 'rsa', key_id: 'x', value: 'y' } }, 'signature must be');
  t.true(hasReason(t.throws(() => parseManifest('{nope')), 'manifest_invalid'));
});

test('paths: absolute, .., backslash and empty segments are unsafe', (t) => {
  t.notThrows(() => checkRelativePath('onnx/model.onnx', 'p'));
  for (const p of ['/etc/passwd', '../x', 'a/../../b', 'a\\b', 'a//b', './a', 'C:/x', '']) {
    t.true(hasReason(t.throws(() => checkRelativePath(p, 'p')), 'unsafe_path'), p);
  }
});

test('external-data locations resolve against the ONNX file folder and may not leave the package', (t) => {
  t.is(externalDataPath('onnx/model.onnx', 'model.onnx_data'), 'onnx/model.onnx_data');
  t.is(externalDataPath('onnx/model.onnx', '../weights.bin'), 'weights.bin');
  for (const loc of ['../../etc/passwd', '/etc/passwd', '..\\x']) {
    t.true(hasReason(t.throws(() => externalDataPath('onnx/model.onnx', loc)), 'external_data_escape'), loc);
  }
});

test('HTTP Range: open, closed, suffix, unsatisfiable, ignored', (t) => {
  t.deepEqual(parseRange('bytes=10-', 100), { start: 10, end: 99 });
  t.deepEqual(parseRange('bytes=10-19', 100), { start: 10, end: 19 });
  t.deepEqual(parseRange('bytes=-5', 100), { start: 95, end: 99 });
  t.deepEqual(parseRange('bytes=0-500', 100), { start: 0, end: 99 });
  t.is(parseRange('bytes=100-', 100), 'unsatisfiable');
  t.is(parseRange('bytes=1-2,4-5', 100), 'none');
  t.is(parseRange(undefined, 100), 'none');
});
