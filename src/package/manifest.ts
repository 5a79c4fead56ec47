/**
 * The package manifest `reasond-model.json` (docs/packages.md): what a
 * model folder holds, file by file, and the Ed25519 signature over the
 * canonical JSON of everything else. parseManifest() checks shape only;
 * trust (signature) and content (hashes) are verify.ts's job.
 */
import { PackageError } from './errors.js';
import { isSemver } from './semver.js';

export const MANIFEST_FILE = 'reasond-model.json';

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

export interface SmokePrompt {
  prompt: string;
  /** The greedy answer must equal this after trimming whitespace. */
  expect: string;
  max_new_tokens?: number;
}

export interface SmokeChecks {
  prompts: SmokePrompt[];
  /** Decode speed floor for this class of board; 0 = not checked. */
  min_tokens_per_s: number;
  /** Resident memory ceiling of the probe process, MiB; 0 = not checked. */
  max_rss_mb: number;
}

export interface Signature {
  key_id: string;
  alg: 'ed25519';
  /** base64 */
  value: string;
}

export interface Manifest {
  name: string;
  version: string;
  format: 'onnx-community' | 'genai';
  dtype: string;
  min_agent_version: string;
  files: ManifestFile[];
  smoke: SmokeChecks;
  signature?: Signature;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/** JSON with keys sorted at every level and no whitespace: the bytes that are signed. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The signed payload: the manifest without its signature. */
export function signedBytes(m: Manifest): Buffer {
  const { signature: _s, ...rest } = m;
  return Buffer.from(canonicalJson(rest), 'utf8');
}

const bad = (what: string): never => {
  throw new PackageError('manifest_invalid', what);
};

export function parseManifest(text: string, where = MANIFEST_FILE): Manifest {
  let m: any;
  try {
    m = JSON.parse(text);
  } catch (e) {
    bad(`${where} is not JSON: ${(e as Error).message}`);
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) bad(`${where} must hold one JSON object`);
  if (typeof m.name !== 'string' || !NAME.test(m.name)) bad(`${where}: name must be lower-case letters, digits, . _ -; got ${JSON.stringify(m.name)}`);
  if (!isSemver(m.version)) bad(`${where}: version must be semver (1.2.3); got ${JSON.stringify(m.version)}`);
  if (!isSemver(m.min_agent_version)) bad(`${where}: min_agent_version must be semver; got ${JSON.stringify(m.min_agent_version)}`);
  if (m.format !== 'onnx-community' && m.format !== 'genai') bad(`${where}: format must be onnx-community or genai; got ${JSON.stringify(m.format)}`);
  if (typeof m.dtype !== 'string') bad(`${where}: dtype must be a string; got ${JSON.stringify(m.dtype)}`);
  if (!Array.isArray(m.files) || m.files.length === 0) bad(`${where}: files must be a non-empty list`);
  const seen = new Set<string>();
  for (const f of m.files) {
    if (typeof f?.path !== 'string' || !Number.isSafeInteger(f.size) || f.size < 0 || typeof f.sha256 !== 'string' || !HEX64.test(f.sha256)) {
      bad(`${where}: each file needs path, size (bytes) and sha256 (64 hex digits); got ${JSON.stringify(f)}`);
    }
    if (seen.has(f.path)) bad(`${where}: ${f.path} is listed twice`);
    seen.add(f.path);
  }
  const s = m.smoke;
  if (s === null || typeof s !== 'object' || !Array.isArray(s.prompts)) bad(`${where}: smoke must have a prompts list`);
  for (const p of s.prompts) {
    if (typeof p?.prompt !== 'string' || typeof p.expect !== 'string') bad(`${where}: each smoke prompt needs prompt and expect strings; got ${JSON.stringify(p)}`);
  }
  for (const k of ['min_tokens_per_s', 'max_rss_mb']) {
    if (typeof s[k] !== 'number' || s[k] < 0) bad(`${where}: smoke.${k} must be a number >= 0; got ${JSON.stringify(s[k])}`);
  }
  if (m.signature !== undefined) {
    const g = m.signature;
    if (g?.alg !== 'ed25519' || typeof g.key_id !== 'string' || typeof g.value !== 'string') {
      bad(`${where}: signature must be {key_id, alg: "ed25519", value}; got ${JSON.stringify(g)}`);
    }
  }
  return m as Manifest;
}

export function identity(m: Pick<Manifest, 'name' | 'version'>): string {
  return `${m.name}@${m.version}`;
}
