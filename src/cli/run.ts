/**
 * `reasond run`: one prompt through the engine on this machine, with the
 * reasoning streamed (dimmed) before the answer, or one JSON result.
 */
import type { CommandModule } from 'yargs';
import { DEFAULT_CONTEXT_TOKENS, DEFAULT_PREFILL_CHUNK, Engine, GRAPH_REWRITES, parseDtype, type Delta, type GenerateRequest, type GraphRewrites } from '../engine/index.js';
import { defaultModelDir } from '../core/paths.js';
import { ReasondError } from '../core/errors.js';
import { modelArg } from './models-dir.js';
import { dim, isColour, reportError } from './output.js';

/**
 * The numeric flags, read as typed so an error can quote them (`--threads abc`, `--threads -1`) and
 * checked before anything loads; the loaded model's own limits (its context) are checked after.
 */
const NUMERIC: Record<string, { integer: boolean; min: number; max?: number }> = {
  'max-new-tokens': { integer: true, min: 1 },
  temperature: { integer: false, min: 0 },
  'top-k': { integer: true, min: 0 },
  'top-p': { integer: false, min: 0 },
  'repetition-penalty': { integer: false, min: 0 },
  seed: { integer: true, min: 0 },
  budget: { integer: true, min: 0 },
  'deadline-ms': { integer: true, min: 1 },
  threads: { integer: true, min: 0, max: 256 },
  'prefill-chunk': { integer: true, min: 0 },
  'context-tokens': { integer: true, min: 0 },
};

function numericFlags(a: Record<string, unknown>): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const [flag, rule] of Object.entries(NUMERIC)) {
    const raw = a[flag];
    if (raw === undefined) continue;
    const text = String(Array.isArray(raw) ? raw.at(-1) : raw);
    const n = Number(text);
    const max = rule.max ?? Number.MAX_SAFE_INTEGER;
    if (text.trim() === '' || !Number.isFinite(n) || (rule.integer && !Number.isInteger(n)) || n < rule.min || n > max) {
      const range = rule.max === undefined ? `${rule.min} or more` : `from ${rule.min} to ${rule.max}`;
      throw new ReasondError('invalid_request', `--${flag} must be ${rule.integer ? 'a whole number' : 'a number'}, ${range}; got ${JSON.stringify(text)}`);
    }
    out[flag] = n;
  }
  return out;
}
const numeric = { type: 'string' as const, requiresArg: true };

interface RunArgs {
  prompt: string;
  model?: string;
  'models-dir'?: string;
  dtype?: string;
  'max-new-tokens'?: string;
  temperature?: string;
  'top-k'?: string;
  'top-p'?: string;
  'repetition-penalty'?: string;
  seed?: string;
  stop?: string[];
  budget?: string;
  reasoning: boolean;
  system?: string;
  'deadline-ms'?: string;
  threads?: string;
  'prefill-chunk'?: string;
  'graph-optimization'?: 'disabled' | 'basic' | 'extended' | 'all';
  'execution-provider'?: string[];
  json: boolean;
  verbose: boolean;
}

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run <prompt>',
  describe: 'Answer one prompt with a local model (no broker, no daemon)',
  builder: (y) =>
    y
      .positional('prompt', { type: 'string', demandOption: true, describe: 'The question or task' })
      .option('model', { type: 'string', describe: 'Model folder (onnx-community or onnxruntime-genai layout), or owner/name of a model pulled with reasond model pull', defaultDescription: 'the shipped models/reasond-tiny' })
      .option('models-dir', { type: 'string', describe: 'Where reasond model pull put the model named by --model owner/name', defaultDescription: "the agent's: <data_dir>/models" })
      .option('dtype', { type: 'string', describe: 'Weights file to use: q4, q4f16, q8 (quantized), fp16, fp32', defaultDescription: 'first of q4, q8, fp32, q4f16, fp16 present' })
      .option('max-new-tokens', { ...numeric, describe: 'Most tokens to generate (reasoning and answer), at most the context', defaultDescription: '1024' })
      .option('temperature', { ...numeric, describe: '0 = greedy', defaultDescription: "generation_config.json's if it samples, else 0" })
      .option('top-k', { ...numeric, describe: 'Sample from the k most likely tokens (0 = all)' })
      .option('top-p', { ...numeric, describe: 'Nucleus sampling mass (1 = off)' })
      .option('repetition-penalty', { ...numeric, describe: '1 = off' })
      .option('seed', { ...numeric, describe: 'Makes sampling reproducible' })
      .option('stop', { type: 'string', array: true, describe: 'Stop strings (any one ends the answer)' })
      .option('budget', { ...numeric, describe: 'Reasoning budget in tokens: the engine closes the thinking when it is reached' })
      .option('reasoning', { type: 'boolean', default: true, describe: 'Show the reasoning (--no-reasoning hides it)' })
      .option('system', { type: 'string', describe: 'A system message for the chat template' })
      .option('deadline-ms', { ...numeric, describe: 'Give up after this many milliseconds: what was generated is printed, with exit code 3' })
      .option('threads', { ...numeric, describe: 'onnxruntime intra-op threads (0 = all cores)', defaultDescription: 'all cores' })
      .option('prefill-chunk', { ...numeric, describe: 'Prompt tokens per forward pass (0 = all at once); bounds the memory for the prompt\'s logits', defaultDescription: String(DEFAULT_PREFILL_CHUNK) })
      .option('context-tokens', { ...numeric, describe: "Positions the KV cache is allocated for (0 = the model's own)", defaultDescription: String(DEFAULT_CONTEXT_TOKENS) })
      .option('graph-rewrites', { choices: [...GRAPH_REWRITES], describe: 'Load-time graph rewrites: all, kv (exact), off', defaultDescription: 'all' })
      .option('graph-optimization', { choices: ['disabled', 'basic', 'extended', 'all'] as const, describe: 'onnxruntime graph optimisation level', defaultDescription: 'all' })
      .option('execution-provider', { type: 'string', array: true, describe: 'Execution providers to try before cpu (e.g. cuda)' })
      .option('json', { type: 'boolean', default: false, describe: 'Print one JSON result instead of streaming text' })
      .option('verbose', { type: 'boolean', default: false, describe: 'Log which model file and settings were picked' }),
  handler: async (a) => {
    let engine: Engine | undefined;
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    try {
      if (a.prompt.trim() === '') throw new ReasondError('invalid_request', 'the prompt is empty: give the question or task to answer');
      const n = numericFlags(a as unknown as Record<string, unknown>);
      engine = new Engine({
        model: modelArg(a.model ?? defaultModelDir(), a as unknown as Record<string, unknown>),
        dtype: a.dtype === undefined ? undefined : parseDtype(a.dtype),
        threads: n.threads,
        prefill_chunk: n['prefill-chunk'],
        context_tokens: n['context-tokens'],
        graph_rewrites: a['graph-rewrites'] as GraphRewrites | undefined,
        graph_optimization: a['graph-optimization'],
        execution_providers: a['execution-provider'],
        log: (line) => (a.verbose || !a.json) && process.stderr.write(dim(`[reasond] ${line}`) + '\n'),
      });
      await engine.start();
      const req: GenerateRequest = {
        messages: [...(a.system ? [{ role: 'system' as const, content: a.system }] : []), { role: 'user', content: a.prompt }],
        max_new_tokens: n['max-new-tokens'],
        temperature: n.temperature,
        top_k: n['top-k'],
        top_p: n['top-p'],
        repetition_penalty: n['repetition-penalty'],
        seed: n.seed,
        stop: a.stop,
        reasoning: { budget_tokens: n.budget, include: a.reasoning },
        deadline_at: n['deadline-ms'] === undefined ? undefined : Date.now() + n['deadline-ms'],
      };
      let last: Delta['channel'] | undefined;
      const onDelta = (d: Delta) => {
        if (d.channel === 'answer' && last === 'reasoning') process.stdout.write(isColour ? '\n\n' : '\n[answer]\n');
        if (d.channel === 'reasoning' && last === undefined && !isColour) process.stdout.write('[reasoning]\n');
        last = d.channel;
        process.stdout.write(d.channel === 'reasoning' ? dim(d.text) : d.text);
      };
      const result = await engine.generate(req, { signal: abort.signal, onDelta: a.json ? undefined : onDelta });
      if (a.json) {
        const { tokens: _tokens, ...out } = result;
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
        if (result.finish_reason === 'deadline') process.exitCode = 3;
      } else {
        const u = result.usage;
        const t = result.timing;
        process.stdout.write('\n');
        if (result.finish_reason === 'deadline') process.exitCode = 3;
        process.stderr.write(
          dim(`[${result.finish_reason}] ${u.prompt_tokens} prompt, ${u.reasoning_tokens} reasoning, ${u.answer_tokens} answer tokens; ` +
            `first token ${t.first_token_ms} ms, prefill ${t.prefill_tokens_per_s} tok/s, decode ${t.decode_tokens_per_s} tok/s, ${t.total_ms} ms`) + '\n',
        );
      }
    } catch (e) {
      reportError(e);
    } finally {
      process.off('SIGINT', onSigint);
      await engine?.stop();
    }
  },
};
