/** A task accepted into the journal, as the queue and the runner see it. */
import type { GenerateRequest } from '../engine/index.js';
import type { Queued } from './queue.js';
import type { TaskRequest } from '../protocol/index.js';

/** Where a task's replies go: the MQTT 5 Response Topic (+ Correlation Data) or reply_to. */
export interface Route {
  topic: string;
  /** base64, so the route can be journaled as JSON. */
  correlation_data?: string;
}

export interface Job extends Queued {
  request: TaskRequest;
  route: Route;
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
