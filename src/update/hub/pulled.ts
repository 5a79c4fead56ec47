/**
 * Models pulled from a hub (issue 20), under the agent's models dir:
 *
 *   hub/<owner>/<name>/                  the model folder, in the hub's layout
 *   hub/<owner>/<name>/reasond-pull.json what was pulled: repo, revision, commit, dtype, files (written last)
 *
 * They sit in `hub/`, not beside the installed packages' `<name>/<version>` folders, so a repo owner
 * called `active` or `boots` cannot land in the package store's own names. The record is written only
 * once every file is in and verified, so a folder without it is a pull in progress (a re-run resumes
 * it) and is never listed or served.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ReasondError } from '../../core/errors.js';
import { isRepoId } from './api.js';

export const PULL_RECORD = 'reasond-pull.json';
export const HUB_FOLDER = 'hub';

export interface PulledFile {
  path: string;
  size: number;
  /** sha256 of the content, for the files the hub keeps in LFS. */
  sha256?: string;
  /** The git blob id the hub gives. */
  oid: string;
}

export interface PullRecord {
  repo: string;
  endpoint: string;
  /** What was asked for (a branch, a tag, a commit). */
  revision: string;
  /** The commit that revision named when it was pulled. */
  commit: string;
  dtype: string;
  files: PulledFile[];
  pulled_at: string;
}

export interface Pulled extends PullRecord {
  dir: string;
}

export const pulledDir = (modelsDir: string, repo: string): string => join(modelsDir, HUB_FOLDER, ...repo.split('/'));

export function readPulled(dir: string): Pulled | undefined {
  try {
    const r = JSON.parse(readFileSync(join(dir, PULL_RECORD), 'utf8')) as PullRecord;
    return typeof r.repo === 'string' && Array.isArray(r.files) ? { ...r, dir } : undefined;
  } catch {
    return undefined;
  }
}

/** The complete pulls in a models dir, by repo id. */
export function listPulled(modelsDir: string): Pulled[] {
  const root = join(modelsDir, HUB_FOLDER);
  const out: Pulled[] = [];
  const dirs = (p: string) => (existsSync(p) ? readdirSync(p).filter((n) => !n.startsWith('.') && statSync(join(p, n)).isDirectory()).sort() : []);
  for (const owner of dirs(root)) {
    for (const name of dirs(join(root, owner))) {
      const p = readPulled(join(root, owner, name));
      if (p) out.push(p);
    }
  }
  return out;
}

/**
 * What `--model` (or the `model` key) names: a folder that exists is that folder; else an
 * `owner/name` is the pulled model of that repo. A folder wins, so a relative path that happens to
 * look like a repo id keeps working.
 */
export function resolveModel(model: string, modelsDir: () => string): string {
  if (existsSync(model) || !isRepoId(model)) return model;
  const dir = modelsDir();
  const pulled = readPulled(pulledDir(dir, model));
  if (pulled) return pulled.dir;
  const partial = existsSync(pulledDir(dir, model)) ? ' (a pull of it was started but not finished: run it again to resume)' : '';
  throw new ReasondError('model_not_found', `${model} is neither a model folder nor a model pulled into ${resolve(dir)}${partial}: run reasond model pull ${model}`);
}
