/**
 * `reasond model pack`: lists every file of a model folder with its size and
 * sha256, adds the smoke checks, signs, and writes reasond-model.json. With
 * `out` the folder is copied first (the source stays untouched).
 */
import { cp, lstat, readdir, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readModelFolder } from '../engine/model-folder.js';
import { agentVersion } from '../core/paths.js';
import { PackageError } from './errors.js';
import { sha256File } from '../core/hash.js';
import { MANIFEST_FILE, parseManifest, type Manifest, type SmokeChecks } from './manifest.js';
import { checkRelativePath } from './path-rules.js';
import { signManifest } from './signing.js';
import type { KeyObject } from 'node:crypto';

export interface PackOptions {
  dir: string;
  name: string;
  version: string;
  key: KeyObject;
  out?: string;
  /** The smoke checks; absent: those of the folder's existing reasond-model.json (a re-pack keeps them); `null`: none. */
  smoke?: Partial<SmokeChecks> | null;
  minAgentVersion?: string;
  dtype?: string;
}

async function files(root: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(join(root, sub), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (rel === MANIFEST_FILE) continue;
    if (e.isSymbolicLink()) throw new PackageError('symlink', `${join(root, rel)} is a symlink; copy the file into the folder instead`);
    if (e.isDirectory()) out.push(...(await files(root, rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

/** The smoke checks of a folder's existing manifest (read, not trusted: pack signs them anew), if any. */
function existingSmoke(dir: string): SmokeChecks | undefined {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return parseManifest(readFileSync(path, 'utf8')).smoke;
  } catch (e) {
    throw new PackageError('manifest_invalid', `${path} is there but cannot be read for its smoke checks (${(e as Error).message}); pass --smoke <file> or --smoke none`);
  }
}

export async function packModel(o: PackOptions): Promise<{ dir: string; manifest: Manifest; smokeFrom: 'given' | 'kept' | 'none' }> {
  const kept = o.smoke === undefined ? existingSmoke(o.dir) : undefined;
  const smoke = o.smoke === null ? undefined : (o.smoke ?? kept);
  const dir = o.out ?? o.dir;
  if (o.out) {
    if (existsSync(o.out)) throw new PackageError('manifest_invalid', `${o.out} already exists; pack writes a new folder`);
    await cp(o.dir, o.out, { recursive: true, verbatimSymlinks: true });
  }
  const spec = readModelFolder(dir, o.dtype as never);
  const list = [];
  for (const path of await files(dir)) {
    checkRelativePath(path, dir);
    list.push({ path, size: (await lstat(join(dir, path))).size, sha256: await sha256File(join(dir, path)) });
  }
  const draft: Manifest = {
    name: o.name,
    version: o.version,
    format: spec.layout === 'genai' ? 'genai' : 'onnx-community',
    dtype: spec.dtype,
    min_agent_version: o.minAgentVersion ?? agentVersion,
    files: list,
    smoke: { prompts: smoke?.prompts ?? [], min_tokens_per_s: smoke?.min_tokens_per_s ?? 0, max_rss_mb: smoke?.max_rss_mb ?? 0 },
  };
  // parse what we wrote, so pack never signs a manifest the agent would refuse
  const manifest = parseManifest(JSON.stringify(signManifest(draft, o.key)));
  await writeFile(join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return { dir, manifest, smokeFrom: o.smoke ? 'given' : kept ? 'kept' : 'none' };
}
