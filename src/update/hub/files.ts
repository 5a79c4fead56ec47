/**
 * Which files of a hub repo one dtype needs: what engine/model-folder.ts reads (config.json,
 * generation_config.json, tokenizer.json, tokenizer_config.json for the chat template) and the one
 * ONNX file for the dtype with its external data (`model_q4.onnx_data`, `model_q4.onnx_data_1`, ...,
 * as onnx-community splits weights past 2 GB). An onnx-community repo holds every dtype (1.5B
 * parameters: 1 GB q4 beside 7 GB fp32), so taking only these is the point of the pull.
 */
import { ReasondError } from '../../core/errors.js';
import { DEFAULT_DTYPE_ORDER, DTYPE_FILES, type Dtype } from '../../engine/index.js';
import type { HubTreeEntry } from './api.js';

const REQUIRED = ['config.json', 'tokenizer.json'];
const OPTIONAL = ['generation_config.json', 'tokenizer_config.json'];

export interface Picked {
  dtype: Dtype;
  /** The ONNX file for the dtype, e.g. onnx/model_q4.onnx. */
  onnx: string;
  files: HubTreeEntry[];
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function onnxFor(byPath: Map<string, HubTreeEntry>, d: Dtype): string | undefined {
  return DTYPE_FILES[d].map((f) => `onnx/${f}`).find((p) => byPath.has(p));
}

/** The dtypes the repo has weights for, in the engine's order of preference. */
export function dtypesIn(tree: HubTreeEntry[]): Dtype[] {
  const byPath = new Map(tree.map((e) => [e.path, e]));
  return DEFAULT_DTYPE_ORDER.filter((d) => onnxFor(byPath, d));
}

export function pickFiles(tree: HubTreeEntry[], repo: string, dtype?: Dtype): Picked {
  const byPath = new Map(tree.map((e) => [e.path, e]));
  const missing = REQUIRED.filter((p) => !byPath.has(p));
  if (missing.length) {
    const genai = byPath.has('genai_config.json') ? ' (it is in the onnxruntime-genai layout: copy that folder onto the board instead)' : '';
    throw new ReasondError('model_invalid', `${repo} is not an onnx-community layout model: it has no ${missing.join(', ')} at its top${genai}`);
  }
  const have = dtypesIn(tree);
  const chosen = dtype ?? have[0];
  const onnx = chosen && onnxFor(byPath, chosen);
  if (!chosen || !onnx) {
    const wanted = (dtype ? DTYPE_FILES[dtype] : DEFAULT_DTYPE_ORDER.flatMap((d) => DTYPE_FILES[d])).map((f) => `onnx/${f}`).join(', ');
    const offer = have.length ? `it has ${have.join(', ')}: pick one with --dtype` : 'it has no ONNX weights reasond can load';
    throw new ReasondError('model_not_found', `${repo} has no ${dtype ?? 'ONNX'} weights (looked for ${wanted}); ${offer}`);
  }
  const data = new RegExp(`^${escape(onnx)}_data(_\\d+)?$`);
  const paths = [...REQUIRED, ...OPTIONAL.filter((p) => byPath.has(p)), onnx, ...tree.map((e) => e.path).filter((p) => data.test(p)).sort()];
  return { dtype: chosen, onnx, files: paths.map((p) => byPath.get(p)!) };
}
