/** SHA-256 of a file, streamed (model files are hundreds of MB). */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-fs.js';

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Entries an index keeps: a board has a handful of model versions. */
const INDEX_ENTRIES = 64;

type Index = Record<string, { key: string; sha256: string }>;

/**
 * The same digest, remembered in the JSON file `indexPath` under the file's identity (device, inode,
 * size, modification and change times): a start-up that names the same unchanged file reads it
 * back instead of reading the file again (2-3 s for a 433 MB model on a board's SD card). Only for
 * what the process derives from its own files (the graph cache key, the status message), never for
 * a package's signature check: a file changed in place gets a new change time, so a new digest.
 * An index that cannot be read or written is only a missed shortcut.
 */
export async function sha256FileIndexed(path: string, indexPath: string): Promise<string> {
  const st = await stat(path, { bigint: true });
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
  let index: Index = {};
  try {
    index = JSON.parse(readFileSync(indexPath, 'utf8')) as Index;
  } catch {
    index = {};
  }
  const hit = index[path];
  if (hit && hit.key === key) return hit.sha256;
  const sha256 = await sha256File(path);
  const entries = Object.entries(index).filter(([p]) => p !== path).slice(-(INDEX_ENTRIES - 1));
  await mkdir(dirname(indexPath), { recursive: true })
    .then(() => writeFileAtomic(indexPath, JSON.stringify(Object.fromEntries([...entries, [path, { key, sha256 }]]), null, 1)))
    .catch(() => {});
  return sha256;
}
