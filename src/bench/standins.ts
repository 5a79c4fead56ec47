/**
 * Real-size stand-ins (issue 9): random-weight models with the shapes of
 * Qwen2.5-0.5B-Instruct and DeepSeek-R1-Distill-Qwen-1.5B, made by
 * scripts/model/make-standin.py on first use and cached outside git.
 * Generating one takes minutes of CPU, so it runs at the lowest priority.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ReasondError } from '../core/errors.js';
import { packageRoot } from '../core/paths.js';

export const STANDINS = ['qwen2.5-0.5b', 'r1-distill-1.5b'] as const;
export type StandinName = (typeof STANDINS)[number];

export const standinCache = (): string => process.env.REASOND_STANDIN_DIR ?? join(os.homedir(), '.cache', 'reasond', 'standins');

/** Part of the cache folder's name: bump it whenever make-standin.py's output changes, so no stale stand-in
 *  is measured. 2: the int8 embedding is gathered before it is scaled (no whole-table DequantizeLinear).
 *  3: transformers' eager attention (repeat_kv) and MatMulNBits accuracy_level 0, as onnx-community files are. */
const FORMAT = 3;

export const standinDir = (name: StandinName): string => join(standinCache(), `${name}-v${FORMAT}`);

export async function ensureStandin(name: StandinName, dtype: 'q4' | 'q8', progress: (l: string) => void): Promise<string> {
  const dir = standinDir(name);
  const file = join(dir, 'onnx', dtype === 'q4' ? 'model_q4.onnx' : 'model_quantized.onnx');
  if (existsSync(file)) return dir;
  const python = process.env.PYTHON ?? '/usr/bin/python3';
  progress(`stand-in ${name} (${dtype}) is not in ${standinCache()}: generating it (several minutes, nice 19)`);
  const script = join(packageRoot, 'scripts', 'model', 'make-standin.py');
  const child = spawn('nice', ['-n', '19', python, script, name, dir, dtype], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stdout.on('data', (b) => progress(`stand-in ${name}: ${String(b).trim()}`));
  child.stderr.on('data', (b) => (err += b));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0 || !existsSync(file)) {
    throw new ReasondError('model_unavailable', `could not generate the ${name} stand-in (exit ${code}): ${err.trim().split('\n').slice(-3).join(' ')}`);
  }
  return dir;
}
