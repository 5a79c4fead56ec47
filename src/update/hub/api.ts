/**
 * The few Hugging Face hub calls `reasond model pull` makes (issue 20), in the hub's own shapes, so a
 * mirror that speaks them (HF_ENDPOINT, as the official tools read it) works too:
 *
 *   GET <endpoint>/api/models/<repo>/revision/<revision>        -> { sha: <commit>, ... }
 *   GET <endpoint>/api/models/<repo>/tree/<commit>?recursive=true -> [{ type, path, size, oid, lfs?: { oid, size } }]
 *       (paged: a `Link: <url>; rel="next"` header names the next page)
 *   GET <endpoint>/<repo>/resolve/<commit>/<path>                 -> the file (often a 302 to a CDN; Range honoured)
 *
 * The revision is resolved to its commit first and every later call names that commit, so a branch
 * that moves during a pull cannot mix two versions of the model. The hub says why it refused in an
 * `X-Error-Code` header (RepoNotFound, RevisionNotFound, GatedRepo); an unknown repo is a 401 when no
 * token is sent, since the hub does not tell strangers which private repos exist.
 */
import { describeFetchError, networkErrorCode, ReasondError } from '../../core/errors.js';
import type { Fetch } from '../download.js';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

/** An API call that gets no answer for this long gives up: offline must fail fast, not hang. */
const API_TIMEOUT_MS = 30_000;

/** One entry of the tree listing, as the hub sends it. */
export interface HubTreeEntry {
  type: 'file' | 'directory' | string;
  path: string;
  size: number;
  /** The git blob id (sha1 of `blob <size>\0<bytes>`); for an LFS file, that of its pointer. */
  oid: string;
  /** Present for files stored in LFS (weights): oid is the sha256 of the content. */
  lfs?: { oid: string; size: number; pointerSize?: number };
}

/** `owner/name`: the hub's repo ids; no `..`, so the id can name a folder under the models dir. */
const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

export const isRepoId = (s: string): boolean => REPO_ID.test(s) && !s.includes('..');

export function checkRepoId(repo: string): string {
  if (!isRepoId(repo)) throw new ReasondError('invalid_request', `"${repo}" is not a hub repo id: write it as owner/name, e.g. onnx-community/Qwen2.5-0.5B-Instruct`);
  return repo;
}

export interface HubClientOptions {
  endpoint: string;
  token?: string;
  fetch?: Fetch;
}

export class HubClient {
  readonly endpoint: string;
  /** fetch with the token on requests to the endpoint only (fetch drops it on a redirect to another host). */
  readonly fetch: Fetch;

  constructor(o: HubClientOptions) {
    this.endpoint = o.endpoint.replace(/\/+$/, '');
    const base = o.fetch ?? fetch;
    if (!/^https?:\/\/[^/]/.test(this.endpoint) || !URL.canParse(this.endpoint)) {
      throw new ReasondError('invalid_request', `the hub endpoint "${o.endpoint}" is not an http(s) URL (--endpoint, HF_ENDPOINT); the hub is ${DEFAULT_HUB_ENDPOINT}`);
    }
    const origin = new URL(this.endpoint).origin;
    this.fetch = o.token
      ? (input, init) => {
          const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
          if (new URL(url).origin !== origin) return base(input, init);
          return base(input, { ...init, headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${o.token}` } });
        }
      : base;
  }

  /** The folder URL files resolve under: `<endpoint>/<repo>/resolve/<commit>/`. */
  resolveBase(repo: string, commit: string): string {
    return `${this.endpoint}/${repo}/resolve/${encodeURIComponent(commit)}/`;
  }

  /** The commit a revision (branch, tag or commit) names today. */
  async commitOf(repo: string, revision: string): Promise<string> {
    const { body } = await this.getJson(`${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}`, repo, revision);
    const sha = (body as { sha?: unknown })?.sha;
    if (typeof sha !== 'string' || !/^[0-9a-f]{7,64}$/.test(sha)) {
      throw new ReasondError('model_invalid', `${this.endpoint} answered ${repo}'s revision ${revision} without a commit sha: is ${this.endpoint} a Hugging Face hub?`);
    }
    return sha;
  }

  /** Every file of the repo at a commit, all pages. */
  async tree(repo: string, commit: string): Promise<HubTreeEntry[]> {
    const out: HubTreeEntry[] = [];
    let url: string | undefined = `${this.endpoint}/api/models/${repo}/tree/${encodeURIComponent(commit)}?recursive=true`;
    for (let page = 0; url && page < 1000; page++) {
      const { body, res } = await this.getJson(url, repo, commit);
      if (!Array.isArray(body)) throw new ReasondError('model_invalid', `${url} did not answer a file list: is ${this.endpoint} a Hugging Face hub?`);
      for (const e of body as HubTreeEntry[]) {
        if (e?.type === 'file' && typeof e.path === 'string' && Number.isSafeInteger(e.size)) out.push(e);
      }
      url = nextLink(res.headers.get('link'), url);
    }
    return out;
  }

  private async getJson(url: string, repo: string, revision: string): Promise<{ body: unknown; res: Response }> {
    const res = await this.fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(API_TIMEOUT_MS) }).catch((e) => {
      throw unreachable(this.endpoint, e);
    });
    if (!res.ok) throw await refusal(res, this.endpoint, repo, revision);
    const text = await res.text();
    try {
      return { body: JSON.parse(text), res };
    } catch {
      throw new ReasondError('model_invalid', `${url} answered ${res.status} with something other than JSON: is ${this.endpoint} a Hugging Face hub?`);
    }
  }
}

function unreachable(endpoint: string, e: unknown): ReasondError {
  const code = networkErrorCode(e);
  const timeout = (e as Error)?.name === 'TimeoutError';
  const why = timeout ? `no answer within ${API_TIMEOUT_MS / 1000} s` : describeFetchError(e);
  return new ReasondError(
    'hub_unreachable',
    `cannot reach the hub at ${endpoint}: ${why}${code && !why.includes(code) ? ` (${code})` : ''}; this machine may be offline: check the network, or point --endpoint (HF_ENDPOINT) at a reachable mirror`,
    { cause: e },
  );
}

async function refusal(res: Response, endpoint: string, repo: string, revision: string): Promise<ReasondError> {
  const code = res.headers.get('x-error-code') ?? '';
  const said = (res.headers.get('x-error-message') ?? (await res.text().catch(() => '')).slice(0, 200)).trim();
  const detail = `${res.status}${code ? ` ${code}` : ''}${said ? `: ${said}` : ''}`;
  if (code === 'RevisionNotFound') return new ReasondError('model_not_found', `${repo} has no revision "${revision}" on ${endpoint} (${detail})`);
  if (code === 'GatedRepo' || res.status === 403) return new ReasondError('unauthorized', `${repo} on ${endpoint} needs access: accept its terms on the hub and set HF_TOKEN to a token that may read it (${detail})`);
  if (code === 'RepoNotFound' || res.status === 404 || res.status === 401) {
    return new ReasondError('model_not_found', `${repo} was not found on ${endpoint}: check the spelling (owner/name); a private repo needs HF_TOKEN (${detail})`);
  }
  return new ReasondError(res.status >= 500 ? 'hub_unreachable' : 'model_invalid', `${endpoint} answered ${detail} for ${repo} at ${revision}`);
}

/** The `rel="next"` URL of a Link header (RFC 8288), resolved against the page it came with. */
function nextLink(header: string | null, current: string): string | undefined {
  for (const part of header?.split(',') ?? []) {
    const m = /<([^>]+)>\s*;(.*)/.exec(part.trim());
    if (m && /rel="?next"?/.test(m[2])) return new URL(m[1], current).href;
  }
  return undefined;
}
