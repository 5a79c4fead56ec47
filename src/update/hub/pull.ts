/**
 * `reasond model pull <repo>` (issue 20): one dtype of an onnx-community model from a Hugging Face
 * hub into `<models_dir>/hub/<owner>/<name>`. The files come through the update path's downloader
 * (download.ts: `.part` files, Range resume, size cap), so a pull cut short resumes where it stopped
 * when run again. Every file is then checked against the hub's own digests: the sha256 (the LFS oid)
 * for weights, the git blob id for the small JSON files. A file that does not match is deleted and the
 * pull fails naming it and both digests. The record (pulled.ts) is written last.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../core/atomic-fs.js';
import { sha256File } from '../../core/hash.js';
import { ReasondError, networkErrorCode } from '../../core/errors.js';
import type { Dtype } from '../../engine/index.js';
import { PackageError, hasReason } from '../../package/errors.js';
import { externalDataOfFile } from '../../package/onnx-external.js';
import { downloadFiles, fileUrl, type Fetch, type Progress } from '../download.js';
import { HubClient, checkRepoId, type HubTreeEntry } from './api.js';
import { pickFiles } from './files.js';
import { PULL_RECORD, pulledDir, readPulled, type PullRecord, type Pulled } from './pulled.js';

/** Which commit the `.part` files in a folder belong to: a pull of another commit starts them over. */
const IN_PROGRESS = '.reasond-pull-partial.json';

export interface PullOptions {
  repo: string;
  revision?: string;
  dtype?: Dtype;
  modelsDir: string;
  endpoint: string;
  token?: string;
  fetch?: Fetch;
  signal?: AbortSignal;
  /** The plan, once the file list is known: bytes to fetch and bytes already here (a resumed pull). */
  onStart?: (s: { commit: string; dtype: Dtype; files: number; total: number; present: number }) => void;
  onProgress?: (p: Progress) => void;
  now?: () => number;
}

export interface PullResult extends Pulled {
  /** Bytes fetched by this run (0 when everything was already here). */
  fetched: number;
}

/** The git blob id of a file: sha1 of `blob <size>\0` and the bytes (what the hub lists as `oid`). */
async function gitBlobId(path: string, size: number): Promise<string> {
  const h = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** undefined when the file on disk is the hub's, else what is wrong with it. */
async function mismatch(dir: string, f: HubTreeEntry): Promise<string | undefined> {
  const path = join(dir, f.path);
  const size = (await stat(path)).size;
  const want = f.lfs ? f.lfs.size : f.size;
  if (size !== want) return `is ${size} bytes; the hub lists ${want}`;
  if (f.lfs) {
    const sha = await sha256File(path);
    return sha === f.lfs.oid ? undefined : `has sha256 ${sha}; the hub lists sha256 ${f.lfs.oid}`;
  }
  if (!/^[0-9a-f]{40}$/.test(f.oid ?? '')) return undefined; // no blob id given (a mirror): the size was the check
  const oid = await gitBlobId(path, size);
  return oid === f.oid ? undefined : `has git blob id ${oid}; the hub lists ${f.oid}`;
}

async function readInProgress(dir: string): Promise<{ commit?: string; earlier?: string[] }> {
  try {
    return JSON.parse(await readFile(join(dir, IN_PROGRESS), 'utf8')) as { commit?: string; earlier?: string[] };
  } catch {
    return {};
  }
}

const sizeOf = async (p: string) => (await stat(p).catch(() => undefined))?.size;

export async function pullModel(o: PullOptions): Promise<PullResult> {
  const repo = checkRepoId(o.repo);
  const revision = o.revision || 'main';
  const hub = new HubClient({ endpoint: o.endpoint, token: o.token, fetch: o.fetch });
  const commit = await hub.commitOf(repo, revision);
  const picked = pickFiles(await hub.tree(repo, commit), repo, o.dtype);
  const dir = pulledDir(o.modelsDir, repo);
  await mkdir(dir, { recursive: true });

  // From here the folder is a pull in progress: without the record it is neither listed nor served.
  const before = readPulled(dir);
  await rm(join(dir, PULL_RECORD), { force: true });
  const partial = await readInProgress(dir);
  if (partial.commit !== commit) {
    for (const f of picked.files) await rm(join(dir, `${f.path}.part`), { force: true });
  }
  // the files of the pull this one replaces, remembered until it completes (a run cut short forgets nothing)
  const earlier = [...new Set([...(partial.earlier ?? []), ...(before?.files.map((f) => f.path) ?? [])])];
  await writeFileAtomic(join(dir, IN_PROGRESS), JSON.stringify({ repo, commit, earlier }));

  // A whole file already here (an earlier pull, another revision) counts only if it is the hub's.
  const verified = new Set<string>();
  for (const f of picked.files) {
    if (!existsSync(join(dir, f.path))) continue;
    if (await mismatch(dir, f)) await rm(join(dir, f.path), { force: true });
    else verified.add(f.path);
  }

  const list = { files: picked.files.map((f) => ({ path: f.path, size: f.lfs?.size ?? f.size })) };
  const total = list.files.reduce((n, f) => n + f.size, 0);
  let present = 0;
  for (const f of list.files) present += verified.has(f.path) ? f.size : ((await sizeOf(join(dir, `${f.path}.part`))) ?? 0);
  o.onStart?.({ commit, dtype: picked.dtype, files: list.files.length, total, present });

  try {
    await downloadFiles({
      base: hub.resolveBase(repo, commit), manifest: list, dir, fetch: hub.fetch, signal: o.signal,
      onProgress: o.onProgress, now: o.now, listName: "the hub's file list",
    });
  } catch (e) {
    if (!hasReason(e, 'download_failed')) throw e;
    const said = `${(e as Error).message.replace(/^download_failed: /, '')}; run the same pull again to resume`;
    // the API answered a moment ago: a refusal now is the hub (or this machine's network) going away
    if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH'].includes(networkErrorCode(e) ?? '')) throw new ReasondError('hub_unreachable', said, { cause: e });
    throw new PackageError('download_failed', said, { cause: e });
  }

  for (const f of picked.files) {
    if (verified.has(f.path)) continue;
    const wrong = await mismatch(dir, f);
    if (wrong) {
      await rm(join(dir, f.path), { force: true });
      throw new PackageError('hash_mismatch', `${f.path} ${wrong} (downloaded from ${fileUrl(hub.resolveBase(repo, commit), f.path)}); removed it: run the pull again to fetch it anew`);
    }
  }

  // onnxruntime opens external data beside the graph: every location the graph names must have come too.
  const names = externalDataOfFile(join(dir, picked.onnx));
  const absent = names.filter((n) => !picked.files.some((f) => f.path === join(dirname(picked.onnx), n)));
  if (absent.length) throw new ReasondError('model_invalid', `${picked.onnx} in ${repo} names external data ${absent.join(', ')}, which the repo does not have`);

  // What an earlier pull left that this one does not list (another dtype's weights, renamed files) goes.
  const keep = new Set(picked.files.map((f) => f.path));
  for (const path of earlier) if (!keep.has(path)) await rm(join(dir, path), { force: true });

  const record: PullRecord = {
    repo, endpoint: hub.endpoint, revision, commit, dtype: picked.dtype,
    files: picked.files.map((f) => ({ path: f.path, size: f.lfs?.size ?? f.size, ...(f.lfs ? { sha256: f.lfs.oid } : {}), oid: f.oid })),
    pulled_at: new Date(o.now?.() ?? Date.now()).toISOString(),
  };
  await writeFileAtomic(join(dir, PULL_RECORD), JSON.stringify(record, null, 2) + '\n');
  await rm(join(dir, IN_PROGRESS), { force: true });
  return { ...record, dir, fetched: total - present };
}
