/** Free bytes on the file system holding a folder; injected so tests can pretend a disk is full. */
import { statfs } from 'node:fs/promises';

export type FreeSpaceReader = (dir: string) => Promise<number>;

export const freeSpace: FreeSpaceReader = async (dir) => {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
};
