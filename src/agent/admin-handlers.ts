/** The admin action table (docs/API.md, "Admin requests"). Add an action = add an entry. */
import { ReasondError } from '../core/errors.js';
import type { RequestHandler } from '../mqtt/index.js';
import type { Outbox } from '../store/index.js';
import type { Journal } from '../task/index.js';
import type { AgentConfig } from './config.js';
import type { SiteJobs } from '../jobs/index.js';

/** What the actions read of the agent (Agent hands itself in; this file does not import agent.ts, so they form no cycle). */
export interface AdminView {
  readonly config: AgentConfig;
  readonly connected: boolean;
  readonly queue: { readonly size: number };
  /** Tasks running now, oldest first. */
  readonly runningTasks: string[];
  /** Tasks that run at once on the loaded model (0 before one is loaded). */
  readonly maxBatch: number;
  readonly journal: Pick<Journal, 'countByState'>;
  readonly outbox: Pick<Outbox, 'size'>;
  onlineStatus(): Record<string, unknown>;
  cancel(id: string): Promise<'queued' | 'running' | undefined>;
}

export function adminHandlers(agent: AdminView): Record<string, RequestHandler> {
  return {
    ping: async () => ({ pong: true, device: agent.config.device_id, ts: Date.now() }),
    status: async () => ({
      ...agent.onlineStatus(),
      connected: agent.connected,
      queue: { waiting: agent.queue.size, running: agent.runningTasks, max: agent.config.queue_max, max_batch: agent.maxBatch },
      journal: await agent.journal.countByState(),
      outbox: await agent.outbox.size(),
    }),
    'task/cancel': async (body) => {
      const taskId = body.task_id;
      if (typeof taskId !== 'string' || taskId.length === 0) {
        throw new ReasondError('invalid_request', `task_id must be a task id string; got ${JSON.stringify(taskId)}`);
      }
      const was = await agent.cancel(taskId);
      if (!was) throw new ReasondError('invalid_request', `no queued or running task has id ${JSON.stringify(taskId)}`);
      return { task_id: taskId, was };
    },
  };
}

/** `jobs/run` (issue 18): a run now, or with dry_run the prompt it would ask. */
export function jobHandlers(jobs: Pick<SiteJobs, 'runNow' | 'dryRun'>): Record<string, RequestHandler> {
  return {
    'jobs/run': async (body) => {
      const name = body.job;
      if (typeof name !== 'string' || name.length === 0) throw new ReasondError('invalid_request', `job must be a job's name; got ${JSON.stringify(name)}`);
      if (body.dry_run !== undefined && typeof body.dry_run !== 'boolean') throw new ReasondError('invalid_request', `dry_run must be true or false; got ${JSON.stringify(body.dry_run)}`);
      if (body.dry_run) return { ...(await jobs.dryRun(name)) };
      return { ...(await jobs.runNow(name)) };
    },
  };
}
