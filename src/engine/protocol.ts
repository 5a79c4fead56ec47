/** Messages between the engine (main thread) and its worker thread. */
import type { Delta, GenerateRequest, GenerationResult, LoadOptions, ModelInfo } from './types.js';

export type ToWorker =
  | { type: 'load'; dir: string; options: LoadOptions; passes: SharedArrayBuffer }
  /** stream: someone listens for deltas (otherwise none are posted: a message per token costs a step ~0.1 ms). */
  | { type: 'generate'; id: number; req: GenerateRequest; cancel: SharedArrayBuffer; useCache: boolean; stream: boolean }
  /** Answered between forward passes, not after the generations queued before it. */
  | { type: 'count'; id: number; req: GenerateRequest }
  | { type: 'unload' };

export interface WireError {
  code: string;
  message: string;
}

export type FromWorker =
  /** anyText: the tokenizer can encode any text (see TextTokenizer.anyText); tokenizerConfig: for the main thread's chat template. */
  | { type: 'loaded'; info: ModelInfo; anyText: boolean; tokenizerConfig: Record<string, unknown> }
  | { type: 'load_failed'; error: WireError }
  | { type: 'delta'; id: number; delta: Delta }
  | { type: 'result'; id: number; result: GenerationResult }
  | { type: 'failed'; id: number; error: WireError }
  | { type: 'counted'; id: number; tokens: number }
  | { type: 'count_failed'; id: number; error: WireError }
  | { type: 'log'; line: string }
  | { type: 'unloaded' };
