/**
 * The controller's package store (issue 7): `<root>/<name>/<version>/`,
 * served to the agents by src/update's PackageServer (GET/HEAD with Range).
 * An upload arrives in chunks into `<staging>/<name>@<version>/` (outside
 * the served root) and enters the store only after the same checks an
 * agent makes (signature by a trusted key, paths, sizes, hashes), then by
 * one rename, so the server never offers half a package.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ReasondError } from '../core/errors.js';
import type { Database } from '../store/index.js';
import { MANIFEST_FILE } from '../package/manifest.js';
import { checkRelativePath } from '../package/path-rules.js';
import { isSemver } from '../package/semver.js';
import type { TrustedKey } from '../package/signing.js';
import { checkFiles, checkManifest, readManifest } from '../package/verify.js';

export interface PackageRow {
  name: string;
  version: string;
  bytes: number;
  key_id: string;
  uploaded_at: number;
  /** The operator who committed the upload (issue 16). */
  uploaded_by: string | null;
}

export interface Chunk {
  name: string;
  version: string;
  path: string;
  offset: number;
  data: Buffer;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

function checkRef(name: unknown, version: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME.test(name)) throw new ReasondError('invalid_request', `name must be a package name (letters, digits, . _ -); got ${JSON.stringify(name)}`);
  if (!isSemver(version)) throw new ReasondError('invalid_request', `version must be semver (1.2.3); got ${JSON.stringify(version)}`);
}

export class PackageStore {
  constructor(
    private readonly db: Database,
    readonly root: string,
    private readonly staging: string,
    private readonly trusted: TrustedKey[],
    private readonly now: () => number,
  ) {}

  async start(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await mkdir(this.staging, { recursive: true });
  }

  list(): Promise<PackageRow[]> {
    return this.db.all<PackageRow>('SELECT * FROM packages ORDER BY name, uploaded_at');
  }

  async has(name: string, version: string): Promise<boolean> {
    return !!(await this.db.get('SELECT 1 FROM packages WHERE name = ? AND version = ?', [name, version])) && existsSync(join(this.root, name, version, MANIFEST_FILE));
  }

  /** How many smoke checks name@version's manifest lists; undefined when the store does not have it. */
  async smokeChecks(name: string, version: string): Promise<number | undefined> {
    if (!(await this.has(name, version))) return undefined;
    return (await readManifest(join(this.root, name, version))).smoke.prompts.length;
  }

  /** Writes one chunk of one file of an upload; offset 0 starts the file over. */
  async write(c: Chunk): Promise<void> {
    checkRef(c.name, c.version);
    checkRelativePath(c.path, `${c.name}@${c.version}`);
    if (!Number.isInteger(c.offset) || c.offset < 0) throw new ReasondError('invalid_request', `offset must be a byte offset; got ${c.offset}`);
    const file = join(this.staging, `${c.name}@${c.version}`, c.path);
    await mkdir(dirname(file), { recursive: true });
    const fh = await open(file, c.offset === 0 ? 'w' : 'r+');
    try {
      await fh.write(c.data, 0, c.data.length, c.offset);
    } finally {
      await fh.close();
    }
  }

  /** Checks the staged upload like an agent would and moves it into the store. */
  async commit(name: string, version: string, by: string | null = null): Promise<PackageRow> {
    checkRef(name, version);
    const dir = join(this.staging, `${name}@${version}`);
    if (!existsSync(dir)) throw new ReasondError('invalid_request', `nothing was uploaded for ${name}@${version}`);
    try {
      const m = await readManifest(dir);
      if (m.name !== name || m.version !== version) throw new ReasondError('invalid_request', `the upload holds ${m.name}@${m.version}, not ${name}@${version}`);
      // the controller installs nothing itself: the agent's version is each agent's own check
      checkManifest(m, { trusted: this.trusted, agentVersion: m.min_agent_version });
      await checkFiles(dir, m);
      const dest = join(this.root, name, version);
      if (existsSync(dest)) throw new ReasondError('invalid_request', `${name}@${version} is already in the package store; versions are immutable`);
      await mkdir(dirname(dest), { recursive: true });
      await rename(dir, dest);
      const row: PackageRow = { name, version, bytes: m.files.reduce((n, f) => n + f.size, 0), key_id: m.signature!.key_id, uploaded_at: this.now(), uploaded_by: by };
      await this.db.run('INSERT INTO packages (name, version, bytes, key_id, uploaded_at, uploaded_by) VALUES (?, ?, ?, ?, ?, ?)', [row.name, row.version, row.bytes, row.key_id, row.uploaded_at, row.uploaded_by]);
      return row;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
