/**
 * Fetches a package's files into a staging folder (issue 6). Resumable: a
 * file in progress is `<path>.part`; on the next attempt (after a dropped
 * connection or a restart) the download asks for `Range: bytes=<have>-` and
 * appends, or starts over if the server answers 200. Sizes are checked here,
 * hashes by verify.ts once everything is in.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fsyncFile } from '../core/atomic-fs.js';
import { describeFetchError } from '../core/errors.js';
import { PackageError } from '../package/errors.js';
import { parseManifest, type Manifest, MANIFEST_FILE } from '../package/manifest.js';

export type Fetch = typeof fetch;

const MANIFEST_TIMEOUT_MS = 30000;
/** A connection that sends nothing for this long is dropped (and the download can resume later). */
export const STALL_MS = 60000;

export interface Progress {
  done: number;
  total: number;
  percent: number;
}

export const fileUrl = (base: string, path: string) =>
  new URL(path.split('/').map(encodeURIComponent).join('/'), base.endsWith('/') ? base : `${base}/`).href;

export async function fetchManifest(base: string, fetchFn: Fetch, signal?: AbortSignal): Promise<{ manifest: Manifest; text: string }> {
  const url = fileUrl(base, MANIFEST_FILE);
  // the admin handler waits for this, and MQTT reads nothing meanwhile: never wait long
  const res = await fetchFn(url, { signal: signal ?? AbortSignal.timeout(MANIFEST_TIMEOUT_MS) }).catch((e) => {
    throw new PackageError('download_failed', `cannot fetch ${url}: ${(e as Error).message}`);
  });
  if (!res.ok) throw new PackageError('download_failed', `GET ${url} answered ${res.status}`);
  const text = await res.text();
  return { manifest: parseManifest(text, url), text };
}

async function sizeOf(path: string): Promise<number | undefined> {
  return (await stat(path).catch(() => undefined))?.size;
}

/** What the download needs of a file list: a package manifest, or a hub model's files (`reasond model pull`). */
export interface FileList {
  files: readonly { path: string; size: number }[];
}

export interface DownloadOptions {
  base: string;
  manifest: FileList;
  dir: string;
  fetch: Fetch;
  signal?: AbortSignal;
  /** Called at most once a second (and at the start and end): a slow link must not flood the outbox. */
  onProgress?: (p: Progress) => void;
  stallMs?: number;
  /** What the sizes come from, for messages (default: the signed manifest). */
  listName?: string;
  /** The clock progress is paced by (tests). */
  now?: () => number;
}

/** Progress is reported at most this often. */
export const PROGRESS_EVERY_MS = 1000;

/** Bytes already in the staging folder (complete files plus .part files). */
export async function bytesPresent(dir: string, m: FileList): Promise<number> {
  let n = 0;
  for (const f of m.files) n += (await sizeOf(join(dir, f.path))) === f.size ? f.size : ((await sizeOf(join(dir, `${f.path}.part`))) ?? 0);
  return n;
}

export async function downloadFiles(o: DownloadOptions): Promise<void> {
  const total = o.manifest.files.reduce((s, f) => s + f.size, 0);
  let done = await bytesPresent(o.dir, o.manifest);
  let lastPercent = -1;
  let lastAt = -Infinity;
  const now = o.now ?? Date.now;
  const report = (final = false) => {
    const percent = total === 0 ? 100 : Math.floor((done * 100) / total);
    if (percent === lastPercent || (!final && now() - lastAt < PROGRESS_EVERY_MS)) return;
    o.onProgress?.({ done, total, percent });
    lastPercent = percent;
    lastAt = now();
  };
  report(true);
  for (const f of o.manifest.files) {
    const dest = join(o.dir, f.path);
    if ((await sizeOf(dest)) === f.size) continue;
    const part = `${dest}.part`;
    await mkdir(dirname(dest), { recursive: true });
    let have = (await sizeOf(part)) ?? 0;
    if (have > f.size) have = 0;
    if (have < f.size || f.size === 0) {
      const url = fileUrl(o.base, f.path);
      const stall = new AbortController();
      let timer = setTimeout(() => stall.abort(new Error(`no data for ${o.stallMs ?? STALL_MS} ms`)), o.stallMs ?? STALL_MS);
      const alive = () => {
        clearTimeout(timer);
        timer = setTimeout(() => stall.abort(new Error(`no data for ${o.stallMs ?? STALL_MS} ms`)), o.stallMs ?? STALL_MS);
      };
      const signal = o.signal ? AbortSignal.any([o.signal, stall.signal]) : stall.signal;
      const res = await o.fetch(url, { signal, headers: have > 0 ? { range: `bytes=${have}-` } : {} }).catch((e) => {
        clearTimeout(timer);
        throw new PackageError('download_failed', `cannot fetch ${url}: ${describeFetchError(e)}`, { cause: e });
      });
      if (res.status !== 200 && res.status !== 206) {
        clearTimeout(timer);
        throw new PackageError('download_failed', `GET ${url} answered ${res.status}`);
      }
      if (res.status === 200 && have > 0) {
        done -= have; // the server ignored Range: start this file over
        have = 0;
      }
      const tooBig = () => new PackageError('size_mismatch', `${url} sent more than the ${f.size} bytes ${o.listName ?? 'the signed manifest'} gives ${f.path}; stopped there and removed the partial file`);
      const announced = Number(res.headers.get('content-length') ?? NaN);
      if (announced > f.size - have) {
        clearTimeout(timer);
        await res.body?.cancel().catch(() => {});
        await rm(part, { force: true });
        throw tooBig();
      }
      // Each chunk is written before the next is read, so a cut connection keeps every byte received;
      // nothing past the signed size is ever written.
      const out = await open(part, have > 0 ? 'a' : 'w');
      let written = have;
      let overflow = false;
      try {
        for await (const chunk of Readable.fromWeb(res.body as never)) {
          alive();
          const bytes = chunk as Buffer;
          const room = f.size - written;
          await out.write(bytes.length > room ? bytes.subarray(0, room) : bytes);
          written += Math.min(bytes.length, room);
          done += Math.min(bytes.length, room);
          if (bytes.length > room) {
            overflow = true;
            break; // leaving the loop cancels the response body
          }
          report();
        }
      } catch (e) {
        throw new PackageError('download_failed', `download of ${url} stopped after ${(await out.stat()).size} of ${f.size} bytes: ${describeFetchError(e)}`, { cause: e });
      } finally {
        clearTimeout(timer);
        await out.close();
      }
      if (overflow) {
        await rm(part, { force: true });
        throw tooBig();
      }
    }
    const got = (await sizeOf(part)) ?? 0;
    if (got !== f.size) throw new PackageError('size_mismatch', `${f.path} arrived as ${got} bytes; ${o.listName ?? 'the manifest'} says ${f.size}`);
    await fsyncFile(part);
    await rename(part, dest);
  }
  if (!existsSync(o.dir)) await mkdir(o.dir, { recursive: true });
  report(true);
}
