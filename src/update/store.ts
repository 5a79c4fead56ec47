/**
 * The versions on this board (issue 6), under models_dir:
 *
 *   <name>/<version>/          installed packages, complete and verified
 *   active -> <name>/<version> the one the agent loads (relative symlink, swapped by rename)
 *   .staging/<name>@<version>/ a download in progress (resumable; never loaded)
 *   boots/<name>@<version>     start-ups since the version last proved stable
 *   state.json                 activation history (for rollback), bad versions, the desired deploy
 *
 * A version folder appears by one rename of a fully verified staging folder,
 * so `active` can only ever name a complete package. The store only reads
 * and writes; the update runner decides (runner.ts).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { renameDurable, swapSymlink, writeFileAtomic } from '../core/atomic-fs.js';
import { PackageError } from '../package/errors.js';
import { identity } from '../package/manifest.js';
import { compareSemver } from '../package/semver.js';

export interface VersionRef {
  name: string;
  version: string;
}

export interface DeployRequest extends VersionRef {
  url: string;
  allow_downgrade?: boolean;
}

export interface StoreState {
  /** Activations, oldest first; the last is the active one. */
  history: string[];
  bad: string[];
  /** Versions that served stable_after_ms on this board: a crash loop never rolls them back (issue 16). */
  committed?: string[];
  /** A deploy accepted but not finished: resumed after a restart (reconciliation). */
  desired?: DeployRequest;
}

const parseId = (id: string): VersionRef => {
  const at = id.lastIndexOf('@');
  return { name: id.slice(0, at), version: id.slice(at + 1) };
};

export class VersionStore {
  private state: StoreState = { history: [], bad: [] };

  constructor(readonly root: string) {}

  async start(): Promise<void> {
    await mkdir(join(this.root, '.staging'), { recursive: true });
    await mkdir(join(this.root, 'boots'), { recursive: true });
    const text = await readFile(join(this.root, 'state.json'), 'utf8').catch(() => undefined);
    if (text) this.state = { history: [], bad: [], ...JSON.parse(text) };
    // The link is the truth after a crash (issue 16): a kill between activate()'s swap and its save left
    // the serving version out of the history, where a later prune would delete it and a rollback skip it.
    const active = await this.active();
    if (active && this.isInstalled(active) && this.state.history.at(-1) !== identity(active)) {
      this.state.history = [...this.state.history.filter((h) => h !== identity(active)), identity(active)];
      await this.save();
    }
  }

  get snapshot(): Readonly<StoreState> {
    return this.state;
  }

  versionDir(v: VersionRef): string {
    return join(this.root, v.name, v.version);
  }

  stagingDir(v: VersionRef): string {
    return join(this.root, '.staging', identity(v));
  }

  isInstalled(v: VersionRef): boolean {
    return existsSync(join(this.versionDir(v), 'reasond-model.json'));
  }

  isBad(v: VersionRef): boolean {
    return this.state.bad.includes(identity(v));
  }

  isCommitted(v: VersionRef): boolean {
    return (this.state.committed ?? []).includes(identity(v));
  }

  /** The version proved itself here: its boot count starts over and the crash-loop guard leaves it alone. */
  async commit(v: VersionRef): Promise<void> {
    await this.resetBoots(v);
    if (this.isCommitted(v)) return;
    this.state.committed = [...(this.state.committed ?? []), identity(v)];
    await this.save();
  }

  get badSet(): ReadonlySet<string> {
    return new Set(this.state.bad);
  }

  /** The active version, read from the symlink (the truth after a crash), or undefined. */
  async active(): Promise<(VersionRef & { dir: string }) | undefined> {
    const target = await readlink(join(this.root, 'active')).catch(() => undefined);
    if (!target) return undefined;
    const [name, version] = target.split('/');
    return { name, version, dir: join(this.root, name, version) };
  }

  async installed(): Promise<VersionRef[]> {
    const out: VersionRef[] = [];
    for (const name of await readdir(this.root).catch(() => [] as string[])) {
      if (name.startsWith('.') || name === 'boots' || name === 'active' || name === 'state.json') continue;
      for (const version of await readdir(join(this.root, name)).catch(() => [] as string[])) {
        if (this.isInstalled({ name, version })) out.push({ name, version });
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || compareSemver(a.version, b.version));
  }

  /** Moves a verified staging folder into place (one rename). */
  async install(v: VersionRef): Promise<void> {
    await mkdir(join(this.root, v.name), { recursive: true });
    if (existsSync(this.versionDir(v))) await rm(this.versionDir(v), { recursive: true, force: true });
    await renameDurable(this.stagingDir(v), this.versionDir(v));
  }

  async activate(v: VersionRef): Promise<void> {
    if (!this.isInstalled(v)) throw new PackageError('not_installed', `${identity(v)} is not installed in ${this.root}`);
    await swapSymlink(join(this.root, 'active'), `${v.name}/${v.version}`);
    this.state.history = [...this.state.history.filter((h) => h !== identity(v)), identity(v)];
    await this.save();
  }

  /** Removes the active link: the agent falls back to its configured model. */
  async deactivate(): Promise<void> {
    await rm(join(this.root, 'active'), { force: true });
    await this.save();
  }

  /** The newest earlier activation that is still installed and not bad. */
  async previous(): Promise<VersionRef | undefined> {
    const active = await this.active();
    const current = active && identity(active);
    for (const id of [...this.state.history].reverse()) {
      const v = parseId(id);
      if (id !== current && !this.isBad(v) && this.isInstalled(v)) return v;
    }
    return undefined;
  }

  async markBad(v: VersionRef): Promise<void> {
    if (!this.isBad(v)) this.state.bad.push(identity(v));
    this.state.history = this.state.history.filter((h) => h !== identity(v));
    await this.save();
  }

  async setDesired(d: DeployRequest | undefined): Promise<void> {
    this.state.desired = d;
    await this.save();
  }

  /** Keeps the active version and the `keep` most recent other activations; removes the rest and stale staging. */
  async prune(keep: number): Promise<string[]> {
    const active = await this.active();
    const recent = [...this.state.history].reverse().filter((id) => !active || id !== identity(active)).slice(0, keep);
    const keepIds = new Set([...(active ? [identity(active)] : []), ...recent]);
    const removed: string[] = [];
    for (const v of await this.installed()) {
      if (keepIds.has(identity(v))) continue;
      await rm(this.versionDir(v), { recursive: true, force: true });
      removed.push(identity(v));
    }
    const desired = this.state.desired && identity(this.state.desired);
    for (const s of await readdir(join(this.root, '.staging'))) {
      if (s !== desired) await rm(join(this.root, '.staging', s), { recursive: true, force: true });
    }
    this.state.history = this.state.history.filter((id) => keepIds.has(id));
    if (this.state.committed) this.state.committed = this.state.committed.filter((id) => !removed.includes(id));
    await this.save();
    return removed;
  }

  /**
   * Counts a start-up of a version under boot `boot` (core/boot.ts); returns the count including this
   * one. A count made under another boot is dropped: the start-up before this one ended with the
   * machine (a power cut, a reboot), which says nothing about the version.
   */
  async countBoot(v: VersionRef, boot = ''): Promise<number> {
    const path = join(this.root, 'boots', identity(v));
    const raw = (await readFile(path, 'utf8').catch(() => '')).trim();
    let n = 0;
    let last = '';
    try {
      const j = JSON.parse(raw || '0') as number | { count: number; boot?: string };
      if (typeof j === 'number') n = j; // written before the boot id was kept
      else ({ count: n, boot: last = '' } = j);
    } catch {
      n = 0;
    }
    if (boot && last && last !== boot) n = 0;
    await writeFileAtomic(path, JSON.stringify({ count: n + 1, boot }));
    return n + 1;
  }

  async resetBoots(v: VersionRef): Promise<void> {
    await rm(join(this.root, 'boots', identity(v)), { force: true });
  }

  private async save(): Promise<void> {
    await writeFileAtomic(join(this.root, 'state.json'), `${JSON.stringify(this.state, null, 2)}\n`);
  }
}
