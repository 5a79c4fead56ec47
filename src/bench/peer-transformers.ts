/**
 * The peer (issue 9): transformers.js text generation from the same local
 * folder and onnx file, greedy, remote models off, the same session options.
 * The one file that imports @huggingface/transformers (a dev dependency:
 * only the benchmark uses it). It is given the prompt's token ids, so the
 * comparison is of generation, not of two tokenizers.
 */
import { basename, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AutoModelForCausalLM, BaseStreamer, env, Tensor } from '@huggingface/transformers';

import type { PeerRun } from './peer.js';

/** Records when each generated token arrives; the first put() is the prompt. */
class Clock extends BaseStreamer {
  times: number[] = [];
  private seenPrompt = false;
  override put(): void {
    if (!this.seenPrompt) this.seenPrompt = true;
    else this.times.push(performance.now());
  }
  override end(): void {}
}

export class TransformersPeer {
  private model?: any;

  constructor(private readonly dir: string, private readonly dtype: string, private readonly threads: number) {}

  static version(): string {
    return (env as any).version ?? 'unknown';
  }

  async start(): Promise<void> {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = dirname(this.dir) + '/';
    this.model = await AutoModelForCausalLM.from_pretrained(basename(this.dir), {
      dtype: this.dtype === 'fp32' ? 'fp32' : (this.dtype as any),
      device: 'cpu',
      session_options: { intraOpNumThreads: this.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' },
    } as any);
  }

  async stop(): Promise<void> {
    await this.model?.dispose();
    this.model = undefined;
  }

  async generate(promptIds: number[], maxNew: number): Promise<PeerRun> {
    const n = promptIds.length;
    const clock = new Clock();
    const t0 = performance.now();
    const out = await this.model.generate({
      input_ids: new Tensor('int64', BigInt64Array.from(promptIds, (v) => BigInt(v)), [1, n]),
      attention_mask: new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
      max_new_tokens: maxNew,
      do_sample: false,
      streamer: clock,
    });
    const end = performance.now();
    const all = Array.from(out.data as BigInt64Array, (v) => Number(v));
    const first = clock.times[0] ?? end;
    return { tokens: all.slice(n), first_token_ms: first - t0, decode_ms: end - first };
  }
}
