/**
 * The few file-system moves the update path relies on to survive a kill -9
 * or a power cut: write-to-temp + fsync + rename for files, rename over a
 * symlink for the active pointer, and an fsync of the folder after each
 * rename so the new name itself is on disk (ext4 does not promise it otherwise).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, symlink, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** `data` may come in pieces (a rewritten model's weights), written in order without joining them. */
export async function writeFileAtomic(path: string, data: string | Uint8Array | Uint8Array[]): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, 'w');
  try {
    if (Array.isArray(data)) for (const piece of data) await fh.write(piece);
    else await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

/** Points `link` at `target` in one rename: readers see the old or the new target, never none. */
export async function swapSymlink(link: string, target: string): Promise<void> {
  const tmp = join(dirname(link), `.${randomBytes(6).toString('hex')}.link`);
  await symlink(target, tmp);
  try {
    await rename(tmp, link);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fsyncDir(dirname(link));
}

export async function renameDurable(from: string, to: string): Promise<void> {
  await rename(from, to);
  await fsyncDir(dirname(to));
  if (dirname(from) !== dirname(to)) await fsyncDir(dirname(from));
}
