/**
 * Model folders the benchmark measures: the file size, and a copy whose eos
 * id is one the model never emits, so every generation runs its full length
 * (a trained model stops after a few dozen tokens; a timed 1024-token
 * generation needs it not to). The weights are symlinked, not copied.
 */
import { mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export function modelBytes(onnxFile: string): number {
  const data = onnxFile + '_data';
  return statSync(onnxFile).size + (existsSync(data) ? statSync(data).size : 0);
}

export function noEosCopy(dir: string): string {
  const out = mkdtempSync(join(tmpdir(), 'reasond-bench-model-'));
  const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  // One past the last row of the logits: argmax can never pick it (the last row itself can be a
  // real special token: </think> is the shipped model's last id).
  const never = config.vocab_size;
  for (const name of readdirSync(dir)) {
    if (name === 'config.json' || name === 'generation_config.json') continue;
    symlinkSync(resolve(dir, name), join(out, name));
  }
  writeFileSync(join(out, 'config.json'), JSON.stringify({ ...config, eos_token_id: never }));
  const genPath = join(dir, 'generation_config.json');
  const gen = existsSync(genPath) ? JSON.parse(readFileSync(genPath, 'utf8')) : {};
  writeFileSync(join(out, 'generation_config.json'), JSON.stringify({ ...gen, eos_token_id: [never], do_sample: false }));
  return out;
}
