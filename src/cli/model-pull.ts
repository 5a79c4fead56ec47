/**
 * `reasond model pull <repo>` (issue 20): an onnx-community model from a Hugging Face hub (or a mirror
 * that speaks its API: --endpoint, HF_ENDPOINT) into the agent's models folder, only the files one
 * dtype needs, resumable, every file checked against the hub's digests. Serve it with --model <repo>.
 */
import type { CommandModule } from 'yargs';
import { parseDtype } from '../engine/index.js';
import { DEFAULT_HUB_ENDPOINT } from '../update/hub/api.js';
import { pullModel } from '../update/hub/pull.js';
import { modelsDirFromArgs, modelsDirOptions } from './models-dir.js';
import { reportError } from './output.js';
import { formatBytes, progressBar, type Bar } from './progress-bar.js';

type Args = Record<string, any>;

export const pullCommand: CommandModule<object, Args> = {
  command: 'pull <repo>',
  describe: 'Download an onnx-community model from the Hugging Face hub (one dtype, resumable, sha256-checked) into the models folder',
  builder: (y) =>
    modelsDirOptions(y)
      .positional('repo', { type: 'string', demandOption: true, describe: 'The hub repo, owner/name (e.g. onnx-community/Qwen2.5-0.5B-Instruct)' })
      .option('revision', { type: 'string', default: 'main', describe: 'Branch, tag or commit to pull' })
      .option('dtype', { type: 'string', describe: 'Weights to pull: q4, q4f16, q8 (quantized), fp16, fp32', defaultDescription: 'first of q4, q8, fp32, q4f16, fp16 the repo has' })
      .option('endpoint', { type: 'string', describe: 'The hub (or a mirror of its API)', defaultDescription: `HF_ENDPOINT, else ${DEFAULT_HUB_ENDPOINT}` }),
  handler: async (a) => {
    const abort = new AbortController();
    const onSigint = () => abort.abort(new Error('interrupted'));
    process.once('SIGINT', onSigint);
    let bar: Bar | undefined;
    try {
      // a dtype the engine does not know is refused before anything goes on the network
      const dtype = a.dtype === undefined ? undefined : parseDtype(String(a.dtype));
      const endpoint = String(a.endpoint || process.env.HF_ENDPOINT || DEFAULT_HUB_ENDPOINT);
      const result = await pullModel({
        repo: String(a.repo), revision: a.revision, dtype, modelsDir: modelsDirFromArgs(a)(), endpoint,
        token: process.env.HF_TOKEN || undefined, signal: abort.signal,
        onStart: (s) => {
          const here = s.present ? `, ${formatBytes(s.present)} already here` : '';
          process.stderr.write(`[reasond] ${a.repo} at ${a.revision} (commit ${s.commit.slice(0, 12)}): ${s.dtype}, ${s.files} files, ${formatBytes(s.total)}${here}\n`);
          bar = progressBar('pull [{bar}] {percentage}% {done} of {size}, {eta_formatted} left', s.total, s.present, { done: formatBytes(s.present), size: formatBytes(s.total) });
        },
        onProgress: (p) => bar?.update(p.done, { done: formatBytes(p.done) }),
      });
      bar?.stop();
      bar = undefined;
      process.stdout.write(`${result.repo} ${result.dtype} (commit ${result.commit.slice(0, 12)}, ${result.files.length} files, ${formatBytes(result.fetched)} fetched) in ${result.dir}\n`);
      process.stderr.write(`[reasond] serve it with --model ${result.repo} (reasond run, reasond start) or "model": "${result.repo}" in the config\n`);
    } catch (e) {
      bar?.stop();
      reportError(e);
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
