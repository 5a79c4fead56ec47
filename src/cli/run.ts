/**
 * `reasond run`: one prompt through the engine on this machine, with the
 * reasoning streamed (dimmed) before the answer, or one JSON result.
 */
import type { CommandModule } from 'yargs';
import { DEFAULT_CONTEXT_TOKENS, DEFAULT_PREFILL_CHUNK, Engine, GRAPH_REWRITES, parseDtype, type Delta, type GenerateRequest, type GraphRewrites } from '../engine/index.js';
import { defaultModelDir } from '../core/paths.js';
import { dim, isColour, reportError } from './output.js';

interface RunArgs {
  prompt: string;
  model?: string;
  dtype?: string;
  'max-new-tokens'?: number;
  temperature?: number;
  'top-k'?: number;
  'top-p'?: number;
  'repetition-penalty'?: number;
  seed?: number;
  stop?: string[];
  budget?: number;
  reasoning: boolean;
  system?: string;
  'deadline-ms'?: number;
  threads?: number;
  'prefill-chunk'?: number;
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
      .option('model', { type: 'string', describe: 'Model folder (onnx-community or onnxruntime-genai layout)', defaultDescription: 'the shipped models/reasond-tiny' })
      .option('dtype', { type: 'string', describe: 'Weights file to use: q4, q4f16, q8 (quantized), fp16, fp32', defaultDescription: 'first of q4, q8, fp32, q4f16, fp16 present' })
      .option('max-new-tokens', { type: 'number', describe: 'Most tokens to generate (reasoning and answer)', defaultDescription: '1024' })
      .option('temperature', { type: 'number', describe: '0 = greedy', defaultDescription: "generation_config.json's if it samples, else 0" })
      .option('top-k', { type: 'number', describe: 'Sample from the k most likely tokens (0 = all)' })
      .option('top-p', { type: 'number', describe: 'Nucleus sampling mass (1 = off)' })
      .option('repetition-penalty', { type: 'number', describe: '1 = off' })
      .option('seed', { type: 'number', describe: 'Makes sampling reproducible' })
      .option('stop', { type: 'string', array: true, describe: 'Stop strings (any one ends the answer)' })
      .option('budget', { type: 'number', describe: 'Reasoning budget in tokens: the engine closes the thinking when it is reached' })
      .option('reasoning', { type: 'boolean', default: true, describe: 'Show the reasoning (--no-reasoning hides it)' })
      .option('system', { type: 'string', describe: 'A system message for the chat template' })
      .option('deadline-ms', { type: 'number', describe: 'Give up after this many milliseconds (finish_reason "deadline")' })
      .option('threads', { type: 'number', describe: 'onnxruntime intra-op threads', defaultDescription: 'all cores' })
      .option('prefill-chunk', { type: 'number', describe: 'Prompt tokens per forward pass (0 = all at once); bounds the memory for the prompt\'s logits', defaultDescription: String(DEFAULT_PREFILL_CHUNK) })
      .option('context-tokens', { type: 'number', describe: "Positions the KV cache is allocated for (0 = the model's own)", defaultDescription: String(DEFAULT_CONTEXT_TOKENS) })
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
      engine = new Engine({
        model: a.model ?? defaultModelDir(),
        dtype: a.dtype === undefined ? undefined : parseDtype(a.dtype),
        threads: a.threads,
        prefill_chunk: a['prefill-chunk'],
        context_tokens: a['context-tokens'] as number | undefined,
        graph_rewrites: a['graph-rewrites'] as GraphRewrites | undefined,
        graph_optimization: a['graph-optimization'],
        execution_providers: a['execution-provider'],
        log: (line) => (a.verbose || !a.json) && process.stderr.write(dim(`[reasond] ${line}`) + '\n'),
      });
      await engine.start();
      const req: GenerateRequest = {
        messages: [...(a.system ? [{ role: 'system' as const, content: a.system }] : []), { role: 'user', content: a.prompt }],
        max_new_tokens: a['max-new-tokens'],
        temperature: a.temperature,
        top_k: a['top-k'],
        top_p: a['top-p'],
        repetition_penalty: a['repetition-penalty'],
        seed: a.seed,
        stop: a.stop,
        reasoning: { budget_tokens: a.budget, include: a.reasoning },
        deadline_at: a['deadline-ms'] === undefined ? undefined : Date.now() + a['deadline-ms'],
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
      } else {
        const u = result.usage;
        const t = result.timing;
        process.stdout.write('\n');
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
