/**
 * The engine's public shapes. Generation options keep the Hugging Face names
 * (max_new_tokens, top_k, ...) and results are snake_case because they go on
 * the wire unchanged (see docs/API.md).
 */

export type GraphRewrites = 'all' | 'kv' | 'off';
export const GRAPH_REWRITES: readonly GraphRewrites[] = ['all', 'kv', 'off'];

export type Dtype = 'q4' | 'q4f16' | 'q8' | 'fp16' | 'fp32';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ReasoningOptions {
  /** Reasoning tokens after which the engine closes the thinking itself. */
  budget_tokens?: number;
  /** Whether the result carries the reasoning text (it is always counted). */
  include?: boolean;
}

export interface GenerationOptions {
  max_new_tokens?: number;
  /** 0 (or do_sample false) means greedy. */
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  seed?: number;
  stop?: string[];
  reasoning?: ReasoningOptions;
  /** Absolute deadline, epoch milliseconds. */
  deadline_at?: number;
  /** A pause after every decode step, so a hot board sheds heat while it answers (#5). */
  step_pause_ms?: number;
}

export interface GenerateRequest extends GenerationOptions {
  prompt?: string;
  messages?: ChatMessage[];
}

export type FinishReason = 'stop' | 'length' | 'budget' | 'cancelled' | 'deadline';

export interface Usage {
  prompt_tokens: number;
  reasoning_tokens: number;
  answer_tokens: number;
  /** Every token the model produced or the engine inserted (markers, eos included). */
  completion_tokens: number;
}

export interface Timing {
  first_token_ms: number;
  prefill_ms: number;
  total_ms: number;
  prefill_tokens_per_s: number;
  decode_tokens_per_s: number;
}

export interface ModelRef {
  name: string;
  version?: string;
  dtype: string;
  file: string;
}

export interface GenerationResult {
  answer: string;
  reasoning: string;
  finish_reason: FinishReason;
  usage: Usage;
  timing: Timing;
  model: ModelRef;
  /** Generated token ids (markers, inserted tokens and eos included), for tests and benchmarks. */
  tokens: number[];
}

export type Channel = 'reasoning' | 'answer';

export interface Delta {
  channel: Channel;
  text: string;
  /** 0-based, counts deltas across both channels. */
  seq: number;
}

export interface GenerateHooks {
  signal?: AbortSignal;
  onDelta?: (delta: Delta) => void;
}

export interface SessionSettings {
  /** Intra-op threads; 0 = the board's cores. */
  threads?: number;
  graph_optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Tried in order; CPU is always the logged fallback. */
  execution_providers?: string[];
}

export interface LoadOptions extends SessionSettings {
  dtype?: Dtype;
  /** Prompt tokens per forward pass (0 = the whole prompt in one); default DEFAULT_PREFILL_CHUNK. */
  prefill_chunk?: number;
  /** Positions (prompt + answer) the KV cache is allocated for, at most the model's own; 0 = the model's. */
  context_tokens?: number;
  /** Load-time graph rewrites, each variant held to its self-test: 'all' (default) adds MatMulNBits
   *  accuracy_level 4 to the KV rewrites, 'kv' only the KV rewrites (same numbers as the file), 'off' none. */
  graph_rewrites?: GraphRewrites;
  /** Where rewritten graphs are kept, keyed by the model file's sha256 (default ~/.cache/reasond/graphs). */
  graph_cache_dir?: string;
  /** Generations that share each forward pass (issue 14); default DEFAULT_MAX_BATCH. A plain graph runs one. */
  max_batch?: number;
  /** Memory the KV cache may take, in bytes (default: what the system has available at load); tests stand in a small board. */
  available_memory?: number;
}

/** Generations per pass by default: 4 rows gave 2.1-2.25x one row's aggregate decode rate on the 0.5B stand-in. */
export const DEFAULT_MAX_BATCH = 4;
export const MAX_BATCH_LIMIT = 64;

/**
 * The KV cache is allocated once for this many positions unless context_tokens says otherwise:
 * 100 MiB for Qwen2.5-0.5B in fp32 (24 layers x 2 x 2 heads x 64 x 4 bytes a position), where the
 * model's own 32,768 would take 805 MiB of a board's memory up front.
 */
export const DEFAULT_CONTEXT_TOKENS = 4096;

/**
 * A graph returns logits for every position it is fed: prompt tokens × vocabulary × 4 bytes, which
 * onnxruntime allocates and then copies into JavaScript (2.3 GiB each for 4096 tokens of Qwen's
 * 151,936-token vocabulary). Feeding the prompt 128 tokens at a time bounds that at ~74 MiB, and a
 * long prefill can be cancelled between passes.
 */
export const DEFAULT_PREFILL_CHUNK = 128;

export interface ModelInfo extends ModelRef {
  dir: string;
  /** The graph onnxruntime runs: the model's file or its rewritten copy in the graph cache. */
  graph: string;
  /** Load-time rewrites in that graph (issue 13). */
  rewrites: string[];
  /** Why that graph: what the self-test found, or why no rewrite is served. */
  graph_note: string;
  /** Bytes the engine reserved for the KV cache: max_batch rows of context_length positions (0 for a plain
   *  graph, whose cache comes from its outputs). */
  kv_cache_bytes: number;
  /** Generations that share a forward pass: the configured max_batch, or 1 for a graph that cannot batch (and why in batch_note). */
  max_batch: number;
  batch_note?: string;
  layout: 'hf' | 'genai';
  context_length: number;
  eos_token_ids: number[];
  execution_provider: string;
  threads: number;
  /** Set when the chat template opens <think> itself (DeepSeek-R1-Distill style). */
  template_opens_thinking: boolean;
  /** Whether the tokenizer has <think>/</think> as single tokens. */
  supports_reasoning: boolean;
}
