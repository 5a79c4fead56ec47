/**
 * Engines the benchmark hands to the agent (issue 9): a borrowed real engine
 * (so direct calls and MQTT tasks share one loaded model), and an instant one
 * that answers at once, so the pipeline's own cost is all that is measured.
 */
import type { Engine, GenerateHooks, GenerateRequest, GenerationResult, ModelInfo } from '../engine/index.js';
import type { TaskEngine } from '../engine/index.js';

export class BorrowedEngine implements TaskEngine {
  constructor(protected readonly engine: Engine) {}
  async start(): Promise<ModelInfo> {
    return this.engine.info;
  }
  async stop(): Promise<void> {}
  get info(): ModelInfo {
    return this.engine.info;
  }
  checkPrompt(req: GenerateRequest): Promise<void> {
    return this.engine.checkPrompt(req);
  }
  countPromptTokens(req: GenerateRequest): Promise<number> {
    return this.engine.countPromptTokens(req);
  }
  generate(req: GenerateRequest, hooks?: GenerateHooks): Promise<GenerationResult> {
    return this.engine.generate(req, hooks);
  }
}

export class InstantEngine implements TaskEngine {
  /** file must exist: the agent's birth message carries its sha256. */
  constructor(private readonly file: string) {}
  async start(): Promise<ModelInfo> {
    return this.info;
  }
  async stop(): Promise<void> {}
  get info(): ModelInfo {
    return {
      name: 'instant', dtype: 'fp32', file: this.file, graph: this.file, rewrites: [], graph_note: 'plain graph', kv_cache_bytes: 0, max_batch: 1, dir: '.', layout: 'hf', context_length: 4096, eos_token_ids: [0],
      execution_provider: 'cpu', threads: 1, template_opens_thinking: false, supports_reasoning: false,
    };
  }
  async checkPrompt(): Promise<void> {}
  /** One token a character: the instant engine has no tokenizer. */
  async countPromptTokens(req: GenerateRequest): Promise<number> {
    return (req.prompt ?? req.messages?.map((m) => m.content).join('') ?? '').length;
  }
  async generate(): Promise<GenerationResult> {
    return {
      answer: '5', reasoning: '', finish_reason: 'stop', tokens: [1, 0],
      usage: { prompt_tokens: 8, reasoning_tokens: 0, answer_tokens: 1, completion_tokens: 2 },
      timing: { first_token_ms: 0, prefill_ms: 0, total_ms: 0, prefill_tokens_per_s: 0, decode_tokens_per_s: 0 },
      model: { name: 'instant', dtype: 'fp32', file: this.file },
    };
  }
}
