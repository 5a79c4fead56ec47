/** Where the package's own files are, whether run from src/ (tsx) or dist/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// this file is src/core/paths.ts (or dist/core/paths.js): the package root is two levels up
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The model the project ships and trains itself (issue 3). */
export const shippedModelDir = join(packageRoot, 'models', 'reasond-tiny');
/** Random-weight test model, the default only until the shipped model exists. */
export const fixtureModelDir = join(packageRoot, 'test', 'fixtures', 'models', 'tiny-random');

export function defaultModelDir(): string {
  return existsSync(join(shippedModelDir, 'config.json')) ? shippedModelDir : fixtureModelDir;
}

export const agentVersion: string = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version;
