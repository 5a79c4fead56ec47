/**
 * Requests to a handler table (<base>/<device>/request/<action>, and the
 * controller's <base>/controller/request/<action>) and their replies: every
 * reply echoes the request's `id` and says `status: ok|error`.
 */
import type { FromSchema } from 'json-schema-to-ts';

const id = { type: ['string', 'number', 'null'], description: "the request's id, echoed in the reply" } as const;
const semver = '^\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?(\\+[0-9A-Za-z.-]+)?$';

export const replyOkSchema = {
  title: 'Reply (ok)',
  type: 'object', additionalProperties: false, required: ['id', 'status', 'data'],
  properties: { id, status: { const: 'ok' }, data: { type: 'object', description: "the action's answer" } },
} as const;

export const replyErrorSchema = {
  title: 'Reply (error)',
  type: 'object', additionalProperties: false, required: ['id', 'status', 'error'],
  properties: {
    id,
    status: { const: 'error' },
    error: { type: 'object', additionalProperties: false, required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

/** The agent's actions: their request bodies (beyond `id`) and what `data` holds. */
export const agentActions = {
  ping: { request: {}, reply: '`{pong: true, device, ts}`' },
  status: { request: {}, reply: 'the status message plus `connected`, `queue: {waiting, running, max, max_batch}` (`running`: the ids of the tasks running now, oldest first, at most `max_batch` of them), `journal` (task counts by state), `outbox` (messages not yet delivered)' },
  'task/cancel': {
    request: { task_id: { type: 'string', minLength: 1, description: 'the task to cancel' } },
    reply: '`{task_id, was: "queued" | "running"}`; the task itself is answered `cancelled`. Error `invalid_request` when no queued or running task has that id',
  },
  'model/deploy': {
    request: {
      name: { type: 'string', minLength: 1, description: 'the package name' },
      version: { type: 'string', pattern: semver, description: 'semver' },
      url: { type: 'string', pattern: '^https?://', description: "the package folder's http(s) URL" },
      allow_downgrade: { type: 'boolean', description: 'install a version below the active one' },
    },
    reply: '`{name, version, state: "accepted" | "active", steps}` once the manifest passed its checks; progress follows as `model_update` events',
  },
  'model/activate': {
    request: { name: { type: 'string', minLength: 1 }, version: { type: 'string', pattern: semver } },
    reply: '`{active: "<name>@<version>"}`',
  },
  'model/rollback': { request: { reason: { type: 'string', description: 'recorded with the rollback' } }, reply: 'the version now serving' },
  'model/list': { request: {}, reply: 'installed versions, the active one, the previous one, the bad ones and the committed ones (served `stable_after_ms` here)' },
  'jobs/run': {
    request: {
      job: { type: 'string', minLength: 1, description: "a job's name (config `jobs`)" },
      dry_run: { type: 'boolean', description: 'render the prompt from the input now, without asking the model or storing a run' },
    },
    reply: 'the job result message once the run ended (it is also stored and published); with `dry_run`: `{job, prompt, rows, input}`, the rendered prompt and the rows it used. Error `invalid_request` for an unknown job',
  },
} as const;

export type ReplyOk = FromSchema<typeof replyOkSchema>;
export type ReplyError = FromSchema<typeof replyErrorSchema>;
export type Reply = ReplyOk | ReplyError;
