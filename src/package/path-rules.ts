/**
 * Which file paths a package may hold (issue 6): relative, forward slashes,
 * no `.`/`..`/empty segments, and no symlink anywhere on the way, so no
 * file the manifest lists can resolve outside the package folder.
 */
import { lstat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { PackageError } from './errors.js';

export function checkRelativePath(path: string, where: string): void {
  const why =
    path.length === 0 ? 'is empty'
    : path.includes('\0') ? 'contains a NUL byte'
    : path.includes('\\') ? 'contains a backslash'
    : path.startsWith('/') || /^[A-Za-z]:/.test(path) ? 'is absolute'
    : path.split('/').some((s) => s === '..') ? 'contains ..'
    : path.split('/').some((s) => s === '' || s === '.') ? 'has an empty or . segment'
    : undefined;
  if (why) throw new PackageError('unsafe_path', `${where}: path ${JSON.stringify(path)} ${why}`);
}

/** Throws symlink if any component of root/path is a symlink (root itself is trusted). */
export async function checkNoSymlink(root: string, path: string): Promise<void> {
  const parts = path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const sub = parts.slice(0, i).join('/');
    const st = await lstat(join(root, sub)).catch(() => undefined);
    if (st?.isSymbolicLink()) throw new PackageError('symlink', `${sub} in ${root} is a symlink; packages may not contain symlinks`);
  }
}

/**
 * An ONNX external-data location, resolved against the ONNX file's folder:
 * returns the package-relative path it names, or throws external_data_escape.
 */
export function externalDataPath(onnxPath: string, location: string): string {
  const escape = (why: string): never => {
    throw new PackageError('external_data_escape', `${onnxPath} keeps tensor data at ${JSON.stringify(location)}, which ${why}`);
  };
  if (location.startsWith('/') || /^[A-Za-z]:/.test(location) || location.includes('\\')) escape('is not a relative path inside the package');
  const joined = posix.normalize(posix.join(posix.dirname(onnxPath), location));
  if (joined === '..' || joined.startsWith('../') || joined.startsWith('/')) escape('leaves the package folder');
  return joined;
}
