/**
 * Which graph the engine serves (issue 13): the model's own file, or a
 * rewritten copy (rewrites/) that passed the self-test against it. A rewrite
 * is made once per model file and kept in the graph cache under the file's
 * sha256 (never in the signed model folder), with a verdict.json saying which
 * variant passed on which onnxruntime version and why the others did not; a
 * later start reads the verdict and opens the chosen file directly.
 *
 * Variants, tried in order: every rewrite including accuracy_level 4 (if the
 * file is 4-bit without it) and merged 4-bit products, then the KV rewrites with last-position logits,
 * then the KV rewrites alone. None passing, or any rewrite failing, leaves the
 * plain graph, logged with the reason.
 */
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { writeFileAtomic } from '../core/atomic-fs.js';
import { sha256FileIndexed } from '../core/hash.js';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { mapDecoderIo, seqAxis, type DecoderIo } from './graph-io.js';
import { FeedbackKvCache, OwnedKvCache } from './kv-cache.js';
import type { ModelSpec } from './model-folder.js';
import { onnxRuntimeVersion, openSession, type OnnxSession } from './onnx-session.js';
import { rewriteModel, REWRITE_VERSION, type ActivationRounding, type RewriteName } from './rewrites/index.js';
import { compareTraces, probe, rewriteTolerance, type Tolerance, type Trace } from './self-test.js';
import type { GraphRewrites, SessionSettings } from './types.js';

export interface GraphChoice {
  session: OnnxSession;
  io: DecoderIo;
  /** Rewrites in the served graph; empty for the plain file. */
  rewrites: RewriteName[];
  /** How a rewritten graph rounds its activations at run time (the batch probe's tolerance follows it); unset for the plain file. */
  rounding?: ActivationRounding;
  /** The file onnxruntime loaded. */
  path: string;
  /** One line for the log and `doctor`: what is served and why. */
  note: string;
}

interface Verdict {
  onnxruntime: string;
  rewrite_version: number;
  /** The variant served, or null for the plain file. */
  served: { file: string; rewrites: RewriteName[]; rounding: ActivationRounding } | null;
  tried: { rewrites: RewriteName[]; result: string }[];
}

export const defaultGraphCache = (): string => process.env.REASOND_GRAPH_CACHE ?? join(os.homedir(), '.cache', 'reasond', 'graphs');

export interface PrepareOptions extends SessionSettings {
  /** Which variants may be served (config graph_rewrites); default 'all'. */
  rewrites?: GraphRewrites;
  cacheDir?: string;
  /** A test hook: corrupts the rewritten graph so the fallback can be shown. */
  sabotage?: (bytes: Uint8Array) => Uint8Array;
}

async function open(spec: ModelSpec, path: string, settings: SessionSettings, log: (l: string) => void): Promise<{ session: OnnxSession; io: DecoderIo }> {
  const session = await openSession(path, settings, log);
  try {
    return { session, io: mapDecoderIo({ ...spec, onnxPath: path }, session.inputs, session.outputs) };
  } catch (e) {
    await session.release();
    throw e;
  }
}

/**
 * Opens the graph to serve: see the file comment. `probeIds` is a short templated prompt for the
 * self-test. Whatever goes wrong on the way (a cache folder that cannot be written, a full disk, a
 * graph the decoder does not understand) is logged and the model's own file is served.
 */
export async function prepareGraph(spec: ModelSpec, probeIds: number[], options: PrepareOptions, log: (l: string) => void): Promise<GraphChoice> {
  const plainPath = spec.onnxPath;
  const mode0 = options.rewrites ?? 'all';
  // A verdict from an earlier start opens only the graph it chose: a session opened and released
  // again leaves its memory with the process's allocator (the 0.5B stand-in's agent idled at
  // 800 MB after opening the plain graph first, 530 MB without).
  if (mode0 !== 'off' && !options.sabotage) {
    const cached = await fromCache(spec, options, mode0, log).catch((e) => {
      log(`graph cache not used: ${(e as Error).message.split('\n')[0]}`);
      return undefined;
    });
    if (cached) return cached;
  }
  const plain = await open(spec, plainPath, options, log);
  // Later sessions use the provider that loaded (a failing one is logged once, not once per variant).
  options = { ...options, execution_providers: [plain.session.executionProvider] };
  const mode = options.rewrites ?? 'all';
  if (mode === 'off') return { ...plain, rewrites: [], path: plainPath, note: 'plain graph (graph_rewrites off)' };
  const state = { plainOpen: true };
  try {
    return await chooseGraph(spec, probeIds, options, mode, plain, state, log);
  } catch (e) {
    const why = `graph rewrites skipped: ${(e as Error).message.split('\n')[0]}`;
    log(why);
    const served = state.plainOpen ? plain : await open(spec, plainPath, options, log);
    return { ...served, rewrites: [], path: plainPath, note: `plain graph (${why})` };
  }
}

async function chooseGraph(
  spec: ModelSpec,
  probeIds: number[],
  options: PrepareOptions,
  mode: GraphRewrites,
  plain: { session: OnnxSession; io: DecoderIo },
  state: { plainOpen: boolean },
  log: (l: string) => void,
): Promise<GraphChoice> {
  const plainPath = spec.onnxPath;
  const root = options.cacheDir ?? defaultGraphCache();
  const folder = join(root, await graphKey(plainPath, root));
  const verdictPath = join(folder, `verdict-${mode}.json`);
  const ort = onnxRuntimeVersion();

  // The reference: the plain graph's greedy run, fed as the onnx-community contract says.
  const reference = await probe(plain.session, plain.io, new FeedbackKvCache(plain.io), probeIds);
  state.plainOpen = false;
  await plain.session.release();
  const original = readFileSync(plainPath);
  const heads = { heads: spec.numHeads ?? 0, kvHeads: plain.io.numKvHeads, headDim: plain.io.headDim };
  const cache = plain.io.cache.map((c) => ({ ...c, seqAxis: seqAxis(plain.io) }));
  const verdict: Verdict = { onnxruntime: ort, rewrite_version: REWRITE_VERSION, served: null, tried: [] };
  mkdirSync(folder, { recursive: true });
  pruneGraphCache(root, folder);
  // Variants are written and tried in a private folder and moved into the shared one only when done:
  // another process preparing the same file (two agents, `reasond run` beside the daemon) never sees,
  // overwrites or deletes a half-written graph of ours. Same names give the same bytes, so a rename over
  // a file another process published is harmless.
  const staging = mkdtempSync(join(root, `${STAGING}${basename(folder)}-`));
  try {
    return await tryVariants();
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }

  async function tryVariants(): Promise<GraphChoice> {
    const variants = [
      ...(mode === 'all' ? [{ accuracyLevel4: true, mergeMatMul: true, lastLogits: true }] : []),
      { accuracyLevel4: false, mergeMatMul: false, lastLogits: true },
      { accuracyLevel4: false, mergeMatMul: false, lastLogits: false },
    ];
    const seen = new Set<string>();
    for (const variant of variants) {
      let result;
      const name = `rewritten-${variant.accuracyLevel4 ? 'al4' : 'kv'}${variant.lastLogits ? '-last' : ''}`;
      try {
        result = rewriteModel(original, { cache, logits: plain.io.logits, heads, ...variant }, `${name}.onnx_data`);
      } catch (e) {
        verdict.tried.push({ rewrites: [], result: `rewrite failed: ${(e as Error).message}` });
        break;
      }
      if (seen.has(result.applied.join())) continue; // a rewrite that did not apply made it the same graph as one tried
      seen.add(result.applied.join());
      if (!result.applied.includes('delta_kv')) {
        verdict.tried.push({ rewrites: result.applied, result: `no delta outputs: ${result.skipped.find((s) => s.name === 'delta_kv')?.why}` });
        break;
      }
      const file = `${name}.onnx`;
      const unlinkable = linkExternalData(result.externalFiles, dirname(plainPath), staging);
      if (unlinkable) {
        verdict.tried.push({ rewrites: result.applied, result: unlinkable });
        break;
      }
      const written = [...result.externalFiles];
      if (result.data.length) {
        await writeFileAtomic(join(staging, `${name}.onnx_data`), result.data);
        written.push(`${name}.onnx_data`);
      }
      await writeFileAtomic(join(staging, file), options.sabotage ? options.sabotage(result.bytes) : result.bytes);
      written.push(file); // last: the graph is published after the data it names
      const outcome = await tryVariant(spec, join(staging, file), probeIds, reference, rewriteTolerance(result.applied, result.rounding), options, log);
      const label = result.applied.join(', ');
      if ('choice' in outcome) {
        verdict.tried.push({ rewrites: result.applied, result: `passed (largest logit difference ${(100 * outcome.worst).toFixed(3)}% of range)` });
        verdict.served = { file, rewrites: result.applied, rounding: result.rounding };
        // onnxruntime has read the graph, so its files can move; the verdict goes last, naming files already there.
        for (const f of written) renameSync(join(staging, f), join(folder, f));
        if (!options.sabotage) await writeFileAtomic(verdictPath, JSON.stringify(verdict, null, 1));
        const skipped = result.skipped.length ? `; not applied: ${result.skipped.map((s) => `${s.name} (${s.why})`).join(', ')}` : '';
        return { ...outcome.choice, rewrites: result.applied, rounding: result.rounding, path: join(folder, file), note: `rewritten graph (${label}; self-test passed, largest logit difference ${(100 * outcome.worst).toFixed(3)}% of range${skipped})` };
      }
      verdict.tried.push({ rewrites: result.applied, result: `${label}: ${outcome.why}` });
      log(`graph rewrite (${label}) not used: ${outcome.why}`);
      for (const f of written.slice(result.externalFiles.length)) rmSync(join(staging, f), { force: true });
    }
    if (!options.sabotage) await writeFileAtomic(verdictPath, JSON.stringify(verdict, null, 1));
    const again = await open(spec, plainPath, options, log);
    return { ...again, rewrites: [], path: plainPath, note: `plain graph (${verdict.tried.map((t) => t.result).join('; ') || 'no rewrite applies'})` };
  }
}

/** The graph an earlier start's verdict chose (for this file, mode and onnxruntime), opened; undefined without one. */
async function fromCache(spec: ModelSpec, options: PrepareOptions, mode: GraphRewrites, log: (l: string) => void): Promise<GraphChoice | undefined> {
  const root = options.cacheDir ?? defaultGraphCache();
  const folder = join(root, await graphKey(spec.onnxPath, root));
  const verdictPath = join(folder, `verdict-${mode}.json`);
  if (!existsSync(verdictPath)) return undefined;
  const verdict = JSON.parse(readFileSync(verdictPath, 'utf8')) as Verdict;
  if (verdict.onnxruntime !== onnxRuntimeVersion()) return undefined;
  if (!verdict.served) {
    const plain = await open(spec, spec.onnxPath, options, log);
    return { ...plain, rewrites: [], path: spec.onnxPath, note: `plain graph (rewrites failed their self-test before: ${verdict.tried.map((t) => t.result).join('; ')})` };
  }
  const path = join(folder, verdict.served.file);
  if (!existsSync(path)) return undefined;
  touch(folder);
  const chosen = await open(spec, path, options, log);
  return { ...chosen, rewrites: verdict.served.rewrites, rounding: verdict.served.rounding, path, note: `rewritten graph (${verdict.served.rewrites.join(', ')}; self-test passed, cached in ${folder})` };
}

/** Rewritten graphs kept besides the one in use: older model versions, most recently used first. */
const KEEP_OTHERS = 2;
/** Nor is a graph used this recently removed: another process may be opening it. */
const IN_USE_MS = 10 * 60_000;
/** Private folders where a process writes and tries its variants (left behind only by a crash). */
const STAGING = '.staging-';
const STAGING_STALE_MS = 24 * 3600_000;

const touch = (folder: string) => {
  const now = new Date();
  utimesSync(folder, now, now);
};

/** Removes all but the most recently used rewritten graphs: an update leaves its predecessor's behind. */
function pruneGraphCache(root: string, current: string): void {
  const now = Date.now();
  const entries = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && join(root, d.name) !== current)
    .map((d) => ({ name: d.name, path: join(root, d.name), used: statSync(join(root, d.name)).mtimeMs }));
  const graphs = entries.filter((e) => !e.name.startsWith(STAGING) && /-r\d+$/.test(e.name)).sort((a, b) => b.used - a.used);
  const stale = [
    ...graphs.slice(KEEP_OTHERS).filter((g) => now - g.used > IN_USE_MS),
    ...entries.filter((e) => e.name.startsWith(STAGING) && now - e.used > STAGING_STALE_MS),
  ];
  for (const old of stale) rmSync(old.path, { recursive: true, force: true });
}

/**
 * onnxruntime only reads external data from inside the model's own folder (symbolic links resolved), so
 * the rewritten graph gets hard links to the original weights: no copy, and the same bytes.
 */
function linkExternalData(files: string[], from: string, to: string): string | undefined {
  for (const f of files) {
    const target = join(to, f);
    if (existsSync(target)) continue;
    try {
      linkSync(resolve(from, f), target);
    } catch (e) {
      return `cannot link the external data ${f} into ${to} (${(e as NodeJS.ErrnoException).code}); the graph cache must be on the model's file system`;
    }
  }
  return undefined;
}

/**
 * The graph cache key: the file's sha256, the rewrite version, and the size and time of the external data
 * files next to it (onnx-community names them model.onnx_data; not hashed, they run to gigabytes).
 */
async function graphKey(path: string, cacheDir: string): Promise<string> {
  const h = createHash('sha256').update(await sha256FileIndexed(path, join(cacheDir, 'sha256-index.json')));
  for (const ext of [`${path}_data`, `${path}.data`]) {
    if (existsSync(ext)) {
      const st = statSync(ext);
      h.update(`${ext}:${st.size}:${st.mtimeMs}`);
    }
  }
  return `${h.digest('hex').slice(0, 40)}-r${REWRITE_VERSION}`;
}

async function tryVariant(
  spec: ModelSpec,
  path: string,
  probeIds: number[],
  reference: Trace,
  tol: Tolerance,
  settings: SessionSettings,
  log: (l: string) => void,
): Promise<{ choice: { session: OnnxSession; io: DecoderIo }; worst: number } | { why: string }> {
  let opened;
  try {
    opened = await open(spec, path, settings, log);
  } catch (e) {
    return { why: `onnxruntime refused it: ${(e as Error).message.split('\n')[0]}` };
  }
  try {
    const cache = new OwnedKvCache(opened.io, probeIds.length + 16);
    const got = await probe(opened.session, opened.io, cache, probeIds, reference.tokens);
    const cmp = compareTraces(reference, got, tol);
    if (cmp.why === undefined) return { choice: opened, worst: cmp.worst };
    await opened.session.release();
    return { why: cmp.why };
  } catch (e) {
    await opened.session.release();
    return { why: `it failed to run: ${(e as Error).message.split('\n')[0]}` };
  }
}

