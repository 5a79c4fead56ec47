/** Paths to the test models and a way to make altered copies of one in a temp dir. */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const tinyRandom = join(repoRoot, 'test/fixtures/models/tiny-random');
export const tinyRandomGenai = join(repoRoot, 'test/fixtures/models/tiny-random-genai');
/** tiny-random's weights exported with transformers' repeat_kv attention (fp32 and q4 at accuracy_level 0). */
export const tinyRandomHf = join(repoRoot, 'test/fixtures/models/tiny-random-hf');
/** tiny-random's weights in the onnxruntime-genai layout with one combined past_%d/present_%d tensor per layer. */
export const tinyRandomCombined = join(repoRoot, 'test/fixtures/models/tiny-random-genai-combined');
export const shippedModel = join(repoRoot, 'models/reasond-tiny');

export function tempDir(prefix = 'reasond-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Copies a model folder to a temp dir and lets the test edit its JSON files. */
export function copyModel(src: string, edit: (dir: string) => void = () => {}): string {
  const dir = join(tempDir('reasond-model-'), 'model');
  cpSync(src, dir, { recursive: true });
  edit(dir);
  return dir;
}

export function editJson(path: string, edit: (json: any) => void): void {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  edit(json);
  writeFileSync(path, JSON.stringify(json, null, 1));
}

export function readJson<T = any>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** A copy whose chat template opens <think> after the assistant header, as DeepSeek-R1-Distill's does. */
export function thinkingCopy(src = tinyRandom): string {
  return copyModel(src, (dir) =>
    editJson(join(dir, 'tokenizer_config.json'), (c) => {
      c.chat_template = c.chat_template.replace("'<|im_start|>assistant\\n'", "'<|im_start|>assistant\\n<think>\\n'");
      if (!c.chat_template.includes('<think>')) throw new Error('could not add <think> to the fixture template');
    }),
  );
}
