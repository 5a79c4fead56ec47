/** Signed packages of the tiny-random fixture in temp dirs, for the update tests (issue 6). */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packModel } from '../../src/package/pack.js';
import { generateKeyPair, readTrustedKey, type TrustedKey } from '../../src/package/signing.js';
import type { Manifest, SmokeChecks } from '../../src/package/manifest.js';
import { tempDir, tinyRandom } from './models.js';

/** tiny-random's greedy q8 answer to "Hello" in 8 tokens (random weights: bytes, not words). */
export const HELLO_ANSWER = '\ufffd\ufffdG\ufffd\tF\ufffd\ufffd';
export const SMOKE: Partial<SmokeChecks> = { prompts: [{ prompt: 'Hello', expect: HELLO_ANSWER, max_new_tokens: 8 }] };

export interface Keys {
  dir: string;
  key: KeyObject;
  pubPath: string;
  trusted: TrustedKey;
}

export function makeKeys(name = 'operator'): Keys {
  const dir = tempDir('reasond-keys-');
  const k = generateKeyPair();
  writeFileSync(join(dir, `${name}.key`), k.privatePem);
  writeFileSync(join(dir, `${name}.pub`), k.publicPem);
  return { dir, key: createPrivateKey(k.privatePem), pubPath: join(dir, `${name}.pub`), trusted: readTrustedKey(join(dir, `${name}.pub`)) };
}

export interface PackageSpec {
  keys: Keys;
  version: string;
  name?: string;
  /** Folder the package goes in (a server root's `<name>/<version>` by default a new temp dir). */
  out?: string;
  /** Changes the model folder before it is signed. */
  edit?: (dir: string) => void;
  smoke?: Partial<SmokeChecks>;
  minAgentVersion?: string;
}

export async function makePackage(s: PackageSpec): Promise<{ dir: string; manifest: Manifest }> {
  const src = join(tempDir('reasond-src-'), 'model');
  cpSync(tinyRandom, src, { recursive: true });
  s.edit?.(src);
  const out = s.out ?? join(tempDir('reasond-pkg-'), 'pkg');
  mkdirSync(join(out, '..'), { recursive: true });
  return packModel({ dir: src, out, name: s.name ?? 'tiny', version: s.version, key: s.keys.key, smoke: s.smoke ?? SMOKE, minAgentVersion: s.minAgentVersion ?? '0.0.1' });
}
