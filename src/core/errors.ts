/**
 * Typed errors with stable codes. The code is what goes on the wire and what
 * tests assert; the message names the offending value.
 */
export type ErrorCode =
  | 'invalid_request'
  | 'payload_too_large'
  | 'context_overflow'
  | 'busy'
  | 'thermal_throttled'
  | 'deadline_exceeded'
  | 'cancelled'
  | 'model_unavailable'
  | 'internal'
  // model loading (engine) errors: never on the task wire, but stable for the CLI and tests
  | 'model_not_found'
  | 'model_invalid'
  // `reasond start` configuration errors (issue 4): never on the task wire
  | 'invalid_config'
  // a client command (ask, fleet) that cannot reach its broker (issue 17): never on the task wire
  | 'broker_unreachable'
  // `reasond model pull` that cannot reach the Hugging Face hub (offline, DNS, refused; issue 20): never on the task wire
  | 'hub_unreachable'
  // a server whose port is taken (the embedded broker, metrics, dashboard, package server): never on the task wire
  | 'port_in_use'
  // a fleet-changing request to the controller without a valid operator signature (issue 16)
  | 'unauthorized'
  // model packages and updates (issue 6): the stable reason is PackageError.reason
  | 'package_rejected';

export class ReasondError extends Error {
  readonly code: ErrorCode;
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, options: { retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ReasondError';
    this.code = code;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export const isReasondError = (e: unknown): e is ReasondError => e instanceof ReasondError;
export const hasCode = (e: unknown, code: ErrorCode): boolean => isReasondError(e) && e.code === code;

/** Rebuilds an error that crossed a thread or process boundary as a plain object. */
export function reviveError(raw: { code?: string; message?: string; retryAfterMs?: number }): ReasondError {
  return new ReasondError((raw.code as ErrorCode) ?? 'internal', raw.message ?? 'unknown error', {
    retryAfterMs: raw.retryAfterMs,
  });
}

export function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The system error behind a failed fetch (ECONNREFUSED, ENOTFOUND, ...), or undefined when there is none. */
export function networkErrorCode(e: unknown): string | undefined {
  for (let c: unknown = e, depth = 0; c && depth < 4; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$|^UND_ERR_/.test(code)) return code;
  }
  return undefined;
}

/**
 * fetch's own message is only "fetch failed"; the reason (connect ECONNREFUSED 127.0.0.1:9,
 * getaddrinfo ENOTFOUND huggingface.co, a timeout) is in its cause.
 */
export function describeFetchError(e: unknown): string {
  const cause = (e as { cause?: unknown })?.cause;
  const own = describeError(e);
  return cause instanceof Error && cause.message && !own.includes(cause.message) ? `${own} (${cause.message})` : own;
}
