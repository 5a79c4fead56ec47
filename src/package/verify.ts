/**
 * Proves a package is what its operator signed (issue 6). Two halves:
 * checkManifest() needs only the manifest, so the agent runs it before it
 * downloads a byte; checkFiles() runs on the downloaded folder, before
 * anything is handed to onnxruntime. Order matters: the signature first, so
 * no other field of an untrusted manifest is believed.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PackageError } from './errors.js';
import { sha256File } from '../core/hash.js';
import { MANIFEST_FILE, parseManifest, type Manifest } from './manifest.js';
import { externalDataOfFile } from './onnx-external.js';
import { checkNoSymlink, checkRelativePath, externalDataPath } from './path-rules.js';
import { compareSemver } from './semver.js';
import { checkSignature, type TrustedKey } from './signing.js';

export interface ManifestPolicy {
  trusted: TrustedKey[];
  agentVersion: string;
  /** What the board serves now, whatever its package name: a package below its version is a downgrade. */
  serving?: { name?: string; version?: string };
  allowDowngrade?: boolean;
  /** name@version strings marked bad after a rollback. */
  bad?: ReadonlySet<string>;
}

export function checkManifest(m: Manifest, p: ManifestPolicy): void {
  checkSignature(m, p.trusted);
  for (const f of m.files) checkRelativePath(f.path, `${m.name}@${m.version}`);
  if (m.files.some((f) => f.path === MANIFEST_FILE)) throw new PackageError('unsafe_path', `${m.name}@${m.version} lists ${MANIFEST_FILE} among its files`);
  if (compareSemver(m.min_agent_version, p.agentVersion) > 0) {
    throw new PackageError('agent_too_old', `${m.name}@${m.version} needs agent ${m.min_agent_version} or newer; this agent is ${p.agentVersion}`);
  }
  if (p.bad?.has(`${m.name}@${m.version}`)) throw new PackageError('marked_bad', `${m.name}@${m.version} was rolled back on this device and is marked bad`);
  const serving = p.serving?.version ? p.serving as { name?: string; version: string } : undefined;
  if (serving && !p.allowDowngrade && compareSemver(m.version, serving.version) < 0) {
    throw new PackageError('downgrade', `${m.name}@${m.version} is older than the active ${serving.name ?? 'model'}@${serving.version}; set allow_downgrade to install it`);
  }
}

async function listTree(root: string, sub = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(root, sub), { withFileTypes: true })) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.isSymbolicLink()) throw new PackageError('symlink', `${rel} in ${root} is a symlink; packages may not contain symlinks`);
    if (e.isDirectory()) out.push(...(await listTree(root, rel)));
    else if (e.isFile()) out.push(rel);
    else throw new PackageError('unlisted_file', `${rel} in ${root} is not a regular file`);
  }
  return out;
}

/** Every listed file present with its size and hash, nothing else, no symlink, no escaping external data. */
export async function checkFiles(dir: string, m: Manifest): Promise<void> {
  const listed = new Set(m.files.map((f) => f.path));
  for (const rel of await listTree(dir)) {
    if (rel !== MANIFEST_FILE && !listed.has(rel)) throw new PackageError('unlisted_file', `${rel} is in ${dir} but not in the manifest`);
  }
  for (const f of m.files) {
    await checkNoSymlink(dir, f.path);
    const st = await lstat(join(dir, f.path)).catch(() => undefined);
    if (!st) throw new PackageError('size_mismatch', `${f.path} is missing from ${dir}`);
    if (st.size !== f.size) throw new PackageError('size_mismatch', `${f.path} is ${st.size} bytes; the manifest says ${f.size}`);
    const sha = await sha256File(join(dir, f.path));
    if (sha !== f.sha256) throw new PackageError('hash_mismatch', `${f.path} has sha256 ${sha}; the manifest says ${f.sha256}`);
  }
  for (const f of m.files.filter((x) => x.path.endsWith('.onnx'))) {
    for (const loc of externalDataOfFile(join(dir, f.path))) {
      const target = externalDataPath(f.path, loc);
      if (!listed.has(target)) throw new PackageError('external_data_escape', `${f.path} keeps tensor data in ${target}, which the manifest does not list`);
    }
  }
}

export async function readManifest(dir: string): Promise<Manifest> {
  const text = await readFile(join(dir, MANIFEST_FILE), 'utf8').catch(() => {
    throw new PackageError('unsigned', `${dir} has no ${MANIFEST_FILE}`);
  });
  return parseManifest(text, join(dir, MANIFEST_FILE));
}

/** The whole check on a folder: `reasond model verify` and the agent's staging step. */
export async function verifyPackage(dir: string, p: ManifestPolicy): Promise<Manifest> {
  const m = await readManifest(dir);
  checkManifest(m, p);
  await checkFiles(dir, m);
  return m;
}

/**
 * The check at each start-up of an installed version: the signature (a key
 * removed from trusted_keys stops its packages) and every file's size (a
 * truncated file). Hashes were checked before install; re-hashing a large
 * model at every boot would cost minutes on a Pi.
 */
export async function checkInstalled(dir: string, trusted: TrustedKey[]): Promise<Manifest> {
  const m = await readManifest(dir);
  checkSignature(m, trusted);
  for (const f of m.files) {
    const st = await lstat(join(dir, f.path)).catch(() => undefined);
    if (!st?.isFile() || st.size !== f.size) throw new PackageError('size_mismatch', `${f.path} in ${dir} is ${st ? `${st.size} bytes` : 'missing'}; the manifest says ${f.size}`);
  }
  return m;
}
