/**
 * A Hugging Face hub in the test process (issue 20): serves a model folder as the repo
 * `<owner>/<name>` in the hub's shapes, so `reasond model pull` runs its real code against it.
 *
 *   GET /api/models/<repo>/revision/<rev>            {id, sha, siblings}; 404 + X-Error-Code RepoNotFound / RevisionNotFound
 *   GET /api/models/<repo>/tree/<rev>?recursive=true  [{type, oid, size, path, lfs?: {oid, size, pointerSize}}], paged by Link rel="next"
 *   GET /<repo>/resolve/<rev>/<path>                  small files straight away; LFS files (*.onnx*) a 302 to /cdn/<sha256>
 *   GET /cdn/<sha256>                                 the bytes, with Range (206)
 *
 * As on the hub, an LFS entry's `oid` is its pointer file's git blob id and `lfs.oid` the content's
 * sha256; a small file's `oid` is its git blob id. Faults: cut one file's connection half way once,
 * or serve wrong bytes for a file.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';

export interface HubFile {
  path: string;
  bytes: Buffer;
  sha256: string;
  /** git blob id of the content (small files) or of the LFS pointer (LFS files) */
  oid: string;
  lfs: boolean;
}

export interface Logged {
  url: string;
  range?: string;
  authorization?: string;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
export const gitBlobId = (b: Buffer) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

function walk(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n), root) : [relative(root, join(dir, n))]));
}

export class HubServer {
  readonly files: HubFile[];
  readonly commit: string;
  readonly log: Logged[] = [];
  /** Cut the connection of the next download of this path half way through (then serve it whole). */
  cutOnce?: string;
  /** Serve these paths with one byte changed. */
  corrupt = new Set<string>();
  private server?: Server;

  constructor(readonly repo: string, dir: string, readonly pageSize = 1000) {
    this.files = walk(dir).sort().map((path) => {
      const bytes = readFileSync(join(dir, path));
      const lfs = /\.onnx(_data(_\d+)?)?$/.test(path);
      const hash = sha256(bytes);
      const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${hash}\nsize ${bytes.length}\n`);
      return { path, bytes, sha256: hash, oid: gitBlobId(lfs ? pointer : bytes), lfs };
    });
    this.commit = createHash('sha1').update(this.files.map((f) => `${f.path}:${f.oid}`).join('\n')).digest('hex');
  }

  file(path: string): HubFile {
    return this.files.find((f) => f.path === path)!;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  private treeEntries() {
    const dirs = [...new Set(this.files.flatMap((f) => (f.path.includes('/') ? [f.path.slice(0, f.path.lastIndexOf('/'))] : [])))];
    return [
      ...dirs.map((path) => ({ type: 'directory', oid: gitBlobId(Buffer.from(path)), size: 0, path })),
      ...this.files.map((f) => ({
        type: 'file', oid: f.oid, size: f.bytes.length, path: f.path,
        ...(f.lfs ? { lfs: { oid: f.sha256, size: f.bytes.length, pointerSize: 130 } } : {}),
      })),
    ].sort((a, b) => a.path.localeCompare(b.path));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url!, 'http://x');
    this.log.push({ url: req.url!, ...(req.headers.range ? { range: req.headers.range } : {}), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const notFound = (code: string, message: string) => json(404, { error: message }, { 'x-error-code': code, 'x-error-message': message });
    const known = (rev: string) => rev === 'main' || rev === this.commit;

    const api = /^\/api\/models\/([^/]+\/[^/]+)\/(revision|tree)\/([^/]+)$/.exec(url.pathname);
    if (api) {
      const [, repo, kind, rev] = api;
      if (repo !== this.repo) return notFound('RepoNotFound', 'Repository not found');
      if (!known(decodeURIComponent(rev))) return notFound('RevisionNotFound', `Invalid rev id: ${decodeURIComponent(rev)}`);
      if (kind === 'revision') return json(200, { id: this.repo, sha: this.commit, siblings: this.files.map((f) => ({ rfilename: f.path })) });
      const all = this.treeEntries();
      const from = Number(url.searchParams.get('cursor') ?? 0);
      const next: Record<string, string> = from + this.pageSize < all.length ? { link: `<${this.url}${url.pathname}?recursive=true&cursor=${from + this.pageSize}>; rel="next"` } : {};
      return json(200, all.slice(from, from + this.pageSize), next);
    }

    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (resolve) {
      const [, repo, rev, path] = resolve;
      if (repo !== this.repo) return notFound('RepoNotFound', 'Repository not found');
      if (!known(decodeURIComponent(rev))) return notFound('RevisionNotFound', `Invalid rev id: ${decodeURIComponent(rev)}`);
      const f = this.files.find((x) => x.path === decodeURIComponent(path));
      if (!f) return notFound('EntryNotFound', `${path} does not exist on "${rev}"`);
      if (f.lfs) {
        res.writeHead(302, { location: `/cdn/${f.sha256}`, 'x-repo-commit': this.commit, 'x-linked-etag': `"${f.sha256}"`, 'x-linked-size': String(f.bytes.length) });
        return void res.end();
      }
      return this.send(req, res, f, { 'x-repo-commit': this.commit, etag: `"${f.oid}"` });
    }

    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    const f = cdn && this.files.find((x) => x.sha256 === cdn[1]);
    if (f) return this.send(req, res, f, { etag: `"${f.sha256}"` });
    res.writeHead(404).end();
  }

  private send(req: IncomingMessage, res: ServerResponse, f: HubFile, headers: Record<string, string>): void {
    let bytes = f.bytes;
    if (this.corrupt.has(f.path)) {
      bytes = Buffer.from(bytes);
      bytes[bytes.length >> 1] ^= 0xff;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    const body = bytes.subarray(start);
    res.writeHead(m ? 206 : 200, {
      ...headers, 'accept-ranges': 'bytes', 'content-length': String(body.length), 'content-type': 'application/octet-stream',
      ...(m ? { 'content-range': `bytes ${start}-${bytes.length - 1}/${bytes.length}` } : {}),
    });
    if (this.cutOnce === f.path) {
      this.cutOnce = undefined;
      // half the bytes reach the client, then the connection drops, as a flaky link does
      return void res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
    }
    res.end(body);
  }
}
