/** A task accepted into the journal, as the queue and the runner see it. */
import type { ReasondError } from '../core/errors.js';
import type { GenerateRequest, GenerationResult } from '../engine/index.js';
import type { Queued } from './queue.js';
import type { TaskRequest } from '../protocol/index.js';

/** Where a task's replies go: the MQTT 5 Response Topic (+ Correlation Data) or reply_to. */
export interface Route {
  topic: string;
  /** base64, so the route can be journaled as JSON. */
  correlation_data?: string;
}

/**
 * Where the agent's own tasks end (a scheduled job's run, issue 18): they are not journaled as tasks
 * and get no reply message; the job's run table records them.
 */
export interface LocalSink {
  finished(result: GenerationResult, startedAt: number): Promise<void>;
  failed(error: ReasondError): Promise<void>;
}

/** The priority of the agent's own tasks: below every task from outside (0-9), so none waits behind them. */
export const BACKGROUND_PRIORITY = -1;

export interface Job extends Queued {
  request: TaskRequest;
  route: Route;
  /** Present on the agent's own tasks (issue 18): their end goes here, not to a reply topic. */
  sink?: LocalSink;
  received_at: number;
  /** Absolute, epoch ms: from deadline_ms and MQTT 5 Message Expiry, whichever ends first. */
  deadline_at?: number;
}

/** The engine request for a task: wire names are the engine's names. */
export function engineRequest(job: Job, defaultMaxNewTokens: number): GenerateRequest {
  const r = job.request;
  return {
    prompt: r.prompt,
    messages: r.messages,
    max_new_tokens: r.max_new_tokens ?? defaultMaxNewTokens,
    temperature: r.temperature,
    top_k: r.top_k,
    top_p: r.top_p,
    repetition_penalty: r.repetition_penalty,
    seed: r.seed,
    stop: r.stop,
    reasoning: r.reasoning,
    deadline_at: job.deadline_at,
  };
}
