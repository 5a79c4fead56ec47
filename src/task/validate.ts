/**
 * Turns a raw payload into a TaskRequest or a ReasondError whose message
 * names the field and the value. Never throws anything else: the daemon
 * must survive any input (issue 4).
 */
import { ReasondError } from '../core/errors.js';
import { checker, MAX_ID_LENGTH, taskSchemaWith, type Checker, type TaskLimits, type TaskRequest } from '../protocol/index.js';
import { show } from '../protocol/validate.js';

export interface ParsedPayload {
  /** The id when one could be read, so even an invalid task's error carries it. */
  id?: string;
  /** reply_to when it could be read. */
  replyTo?: string;
  task?: TaskRequest;
  error?: ReasondError;
}

const READ_ROUTE_LIMIT = 1 << 20;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The offset where `b` stops being valid UTF-8 (it is known not to be). */
function firstInvalidUtf8(b: Buffer): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i];
    const n = c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (n === 0) return i;
    for (let k = 1; k < n; k++) if (i + k >= b.length || (b[i + k] & 0xc0) !== 0x80) return i;
    try {
      UTF8.decode(b.subarray(i, i + n)); // overlong forms and surrogates
    } catch {
      return i;
    }
    i += n;
  }
  return b.length - 1;
}

function tryObject(payload: Buffer): Record<string, unknown> | undefined {
  try {
    const json = JSON.parse(payload.toString('utf8'));
    return json !== null && typeof json === 'object' && !Array.isArray(json) ? json : undefined;
  } catch {
    return undefined;
  }
}

const idOf = (o?: Record<string, unknown>) => (typeof o?.id === 'string' && o.id.length > 0 && o.id.length <= MAX_ID_LENGTH ? o.id : undefined);
const replyToOf = (o?: Record<string, unknown>) => (typeof o?.reply_to === 'string' ? o.reply_to : undefined);

export class TaskValidator {
  private check?: Checker<TaskRequest>;

  constructor(private readonly limits: TaskLimits & { max_payload_bytes: number }) {}

  start(): void {
    this.check = checker<TaskRequest>(taskSchemaWith(this.limits), 'the task');
  }

  parse(payload: Buffer): ParsedPayload {
    if (payload.length > this.limits.max_payload_bytes) {
      const error = new ReasondError('payload_too_large', `the payload is ${payload.length} bytes; the limit is ${this.limits.max_payload_bytes}`);
      // Still read id and reply_to when that is cheap, so the sender hears why.
      const o = payload.length <= READ_ROUTE_LIMIT ? tryObject(payload) : undefined;
      return { id: idOf(o), replyTo: replyToOf(o), error };
    }
    let text: string;
    try {
      text = UTF8.decode(payload);
    } catch {
      // Decoded leniently, a bad byte would become U+FFFD and reply_to a topic nobody asked for.
      const at = firstInvalidUtf8(payload);
      return { error: new ReasondError('invalid_request', `the payload is not valid UTF-8 (byte ${at} is 0x${payload[at].toString(16).padStart(2, '0')}); it is neither run nor answered on its reply_to`) };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      return { error: new ReasondError('invalid_request', `the payload is not JSON: ${(e as Error).message}; got ${show(payload.toString('utf8', 0, 60))}`) };
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      return { error: new ReasondError('invalid_request', `the payload must be a JSON object; got ${show(json)}`) };
    }
    const o = json as Record<string, unknown>;
    const id = idOf(o);
    const replyTo = replyToOf(o);
    if (!this.check!(json)) {
      const message = this.check!.problems().join('; ');
      return { id, replyTo, error: new ReasondError('invalid_request', message) };
    }
    if ((o.prompt === undefined) === (o.messages === undefined)) {
      return { id, replyTo, error: new ReasondError('invalid_request', 'the task needs exactly one of prompt or messages') };
    }
    return { id, replyTo, task: json as TaskRequest };
  }
}
