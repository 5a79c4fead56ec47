/** Which files of a hub repo a dtype needs (issue 20): the engine's JSON files, one ONNX file and its external data. */
import test from 'ava';
import { pickFiles } from '../../../src/update/hub/files.js';
import type { HubTreeEntry } from '../../../src/update/hub/api.js';
import { hasCode } from '../../../src/core/errors.js';

const entry = (path: string, lfs = path.includes('.onnx')): HubTreeEntry => ({ type: 'file', path, size: 10, oid: '0'.repeat(40), ...(lfs ? { lfs: { oid: 'a'.repeat(64), size: 10 } } : {}) });

// the layout of onnx-community/DeepSeek-R1-Distill-Qwen-1.5B-ONNX (weights split past 2 GB)
const tree = [
  '.gitattributes', 'README.md', 'config.json', 'generation_config.json', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json',
  'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1', 'onnx/model_fp16.onnx', 'onnx/model_fp16.onnx_data',
  'onnx/model_q4.onnx', 'onnx/model_q4.onnx_data', 'onnx/model_q4f16.onnx', 'onnx/model_quantized.onnx', 'onnx/model_bnb4.onnx',
].map((p) => entry(p));

test('q4: the JSON files the engine reads, model_q4.onnx and its data; not model_q4f16', (t) => {
  const p = pickFiles(tree, 'o/r', 'q4');
  t.is(p.onnx, 'onnx/model_q4.onnx');
  t.deepEqual(p.files.map((f) => f.path), ['config.json', 'tokenizer.json', 'generation_config.json', 'tokenizer_config.json', 'onnx/model_q4.onnx', 'onnx/model_q4.onnx_data']);
});

test('fp32: model.onnx with both external data files, in order', (t) => {
  t.deepEqual(pickFiles(tree, 'o/r', 'fp32').files.slice(4).map((f) => f.path), ['onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1']);
});

test('no dtype: the engine order (q4 first); q8 means model_quantized.onnx', (t) => {
  t.is(pickFiles(tree, 'o/r').dtype, 'q4');
  t.is(pickFiles(tree, 'o/r', 'q8').onnx, 'onnx/model_quantized.onnx');
  t.is(pickFiles(tree.filter((e) => !e.path.startsWith('onnx/model_q4')), 'o/r').dtype, 'q8');
});

test('a repo without config.json, or without weights, is refused saying what it lacks', (t) => {
  const genai = [entry('genai_config.json'), entry('tokenizer.json'), entry('model.onnx')];
  const e = t.throws(() => pickFiles(genai, 'o/r'));
  t.is(e?.message, 'o/r is not an onnx-community layout model: it has no config.json at its top (it is in the onnxruntime-genai layout: copy that folder onto the board instead)');
  const none = t.throws(() => pickFiles([entry('config.json'), entry('tokenizer.json')], 'o/r'));
  t.true(hasCode(none, 'model_not_found'));
  t.is(none?.message, 'o/r has no ONNX weights (looked for onnx/model_q4.onnx, onnx/model_quantized.onnx, onnx/model_int8.onnx, onnx/model_uint8.onnx, onnx/model.onnx, onnx/model_q4f16.onnx, onnx/model_fp16.onnx); it has no ONNX weights reasond can load');
});
