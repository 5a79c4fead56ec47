/**
 * Reads sysfs/procfs files under a root folder: "/" on a board, a fixture tree in
 * tests or on a laptop (`sys_root`). Every reader answers `undefined` for a file
 * that is missing or unreadable, so a missing sensor is absent, never zero (#5).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function readText(root: string, path: string): Promise<string | undefined> {
  try {
    // device-tree strings end in NUL; sysfs attributes end in a newline
    return (await readFile(join(root, path), 'utf8')).replace(/\0+$/, '').trim();
  } catch {
    // ENOENT, EACCES, and EIO/ENODATA that some hwmon drivers return while a sensor is off
    return undefined;
  }
}

export async function readNumber(root: string, path: string): Promise<number | undefined> {
  const text = await readText(root, path);
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Entries of a folder whose names match, in natural order (thermal_zone2 before thermal_zone10). */
export async function listDir(root: string, path: string, pattern: RegExp): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(root, path));
  } catch {
    return [];
  }
  return names.filter((n) => pattern.test(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

export async function exists(root: string, path: string): Promise<boolean> {
  return (await readText(root, path)) !== undefined;
}
