/**
 * What the task pipeline tells the rest of the agent (#19): telemetry, the update
 * path's error-rate watch and, later, jobs subscribe here instead of being called
 * from callbacks wired into the pipeline. Listeners run synchronously, in the order
 * they subscribed; one that throws is logged and the others still run.
 */
import type { ReasondError } from '../core/errors.js';
import type { GenerationResult } from '../engine/index.js';
import type { Job } from './job.js';

export interface TaskEventMap {
  /** Journaled and queued: the task will get exactly one final reply. */
  accepted: { job: Job };
  /** The engine starts on it. */
  started: { job: Job; at: number };
  /** Answered ok; `startedAt` is when the engine started on it. */
  finished: { job: Job; result: GenerationResult; startedAt: number };
  /** Journaled, then answered with an error (it ran and failed, was cancelled, or its deadline passed). */
  failed: { job: Job; error: ReasondError; startedAt?: number };
  /** Answered with an error before it was journaled (busy, invalid, thermal_throttled...). */
  rejected: { id?: string; error: ReasondError };
}

export type TaskEventName = keyof TaskEventMap;
type Listener<K extends TaskEventName> = (e: TaskEventMap[K]) => void;

export class TaskEvents {
  private readonly listeners: { [K in TaskEventName]: Listener<K>[] } = { accepted: [], started: [], finished: [], failed: [], rejected: [] };

  constructor(private readonly log: (line: string) => void = () => {}) {}

  /** Returns a function that unsubscribes. */
  on<K extends TaskEventName>(name: K, fn: Listener<K>): () => void {
    const list = this.listeners[name] as Listener<K>[];
    list.push(fn);
    return () => void list.splice(list.indexOf(fn), 1);
  }

  emit<K extends TaskEventName>(name: K, e: TaskEventMap[K]): void {
    for (const fn of this.listeners[name] as Listener<K>[]) {
      try {
        fn(e);
      } catch (err) {
        this.log(`a ${name} listener failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
