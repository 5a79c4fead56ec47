/**
 * Operators' signatures on the requests that change the fleet (issue 16). The broker's ACL says who
 * may publish on the controller's request topics; an anonymous or shared broker (every embedded one)
 * says nothing, so the controller checks each fleet-changing request itself: signed with an Ed25519
 * operator key it lists in `operator_keys`, stamped with a time within `operator_clock_skew_s` of its
 * clock and a nonce it has not seen, over the action and the request's every field. The key's name
 * (its .pub file's) and id are what the rollout history and the dashboard record.
 *
 * The signed text: `reasond-operator/1 \n action \n key_id \n at \n nonce \n sha256(canonical body)`,
 * where the body is the request without `auth`, its keys sorted at every level.
 */
import { createHash, createPublicKey, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { basename } from 'node:path';
import { canonicalJson } from '../protocol/canonical-json.js';
import { describeError, ReasondError } from '../core/errors.js';
import { keyIdOf, readTrustedKey, type TrustedKey } from '../package/signing.js';
import type { Database } from '../store/index.js';

/** The controller actions that change the fleet; every other one only reads. */
export const FLEET_CHANGING = ['device/labels', 'package/upload', 'package/commit', 'rollout/create', 'rollout/abort', 'fleet/rollback'] as const;

export interface RequestAuth {
  key_id: string;
  /** The signer's clock, ms since the epoch. */
  at: number;
  nonce: string;
  /** base64 Ed25519 signature of the signed text. */
  sig: string;
}

function signedText(action: string, body: Record<string, unknown>, a: Omit<RequestAuth, 'sig'>): Buffer {
  const { auth: _auth, ...rest } = body;
  const digest = createHash('sha256').update(canonicalJson(rest)).digest('hex');
  return Buffer.from(`reasond-operator/1\n${action}\n${a.key_id}\n${a.at}\n${a.nonce}\n${digest}`);
}

/** The request with its `auth` field: what `reasond fleet` sends when it has an operator key. */
export function signRequest(action: string, body: Record<string, unknown>, key: KeyObject, at: number): Record<string, unknown> {
  const unsigned = { key_id: keyIdOf(createPublicKey(key)), at, nonce: randomBytes(16).toString('hex') };
  const sig = sign(null, signedText(action, body, unsigned), key).toString('base64');
  return { ...body, auth: { ...unsigned, sig } };
}

/** An operator key the controller lists: its id and the name operators know it by (the file's). */
export interface OperatorKey extends TrustedKey {
  name: string;
}

/** Reads every .pub an operator_keys value lists; a file that cannot be read is an invalid_config naming it. */
export function readOperatorKeys(list: string): OperatorKey[] {
  return list.split(',').map((s) => s.trim()).filter(Boolean).map((path) => {
    try {
      return { ...readTrustedKey(path), name: basename(path).replace(/\.pub$/, '') };
    } catch (e) {
      throw new ReasondError('invalid_config', `operator_keys: cannot read the public key ${path}: ${describeError(e)}`);
    }
  });
}

/** What the history records for an unsigned request when operator_auth is off. */
export const UNAUTHENTICATED = 'unauthenticated';

export const describeOperator = (k: { name: string; keyId: string }) => `${k.name} (key ${k.keyId})`;

export interface OperatorGateOptions {
  keys: OperatorKey[];
  /** false (operator_auth off): unsigned requests pass, recorded as `unauthenticated`; signed ones are still checked. */
  required: boolean;
  skewMs: number;
  db: Database;
  now: () => number;
}

/** Who may change the fleet: checks a request's `auth` and remembers nonces (in controller.db, so a restart forgets none). */
export class OperatorGate {
  constructor(private readonly o: OperatorGateOptions) {}

  /** The operator who signed `body` for `action`, as the history records it; throws `unauthorized`. */
  async check(action: string, body: Record<string, unknown>): Promise<string> {
    const auth = body.auth as Partial<RequestAuth> | undefined;
    if (auth === undefined) {
      if (!this.o.required) return UNAUTHENTICATED;
      const listed = this.o.keys.length ? '' : ' (it lists none yet)';
      throw new ReasondError('unauthorized', `${action} changes the fleet and must be signed by an operator key in the controller's operator_keys${listed}: pass --operator-key to reasond fleet (reasond fleet keygen makes a pair)`);
    }
    if (!auth || typeof auth !== 'object' || typeof auth.key_id !== 'string' || typeof auth.nonce !== 'string' || !/^[0-9a-f]{16,64}$/.test(auth.nonce)
      || typeof auth.sig !== 'string' || typeof auth.at !== 'number' || !Number.isFinite(auth.at)) {
      throw new ReasondError('unauthorized', `auth must be {key_id, at, nonce (hex), sig}; got ${JSON.stringify(auth)}`);
    }
    const key = this.o.keys.find((k) => k.keyId === auth.key_id);
    if (!key) throw new ReasondError('unauthorized', `${action} is signed by key ${auth.key_id}, which is not in the controller's operator_keys (${this.o.keys.map(describeOperator).join(', ') || 'none'})`);
    const now = this.o.now();
    const skew = auth.at - now;
    if (Math.abs(skew) > this.o.skewMs) {
      throw new ReasondError('unauthorized', `${action} is stamped ${new Date(auth.at).toISOString()}, ${Math.round(Math.abs(skew) / 1000)} s ${skew < 0 ? 'behind' : 'ahead of'} the controller's clock (allowed: ${this.o.skewMs / 1000} s): check both clocks`);
    }
    if (!verify(null, signedText(action, body, auth as RequestAuth), key.key, Buffer.from(auth.sig, 'base64'))) {
      throw new ReasondError('unauthorized', `${action}: the signature of key ${key.keyId} (${key.name}) does not match the request; it was changed after signing, or signed for another action`);
    }
    // a nonce outlives the window its time stamp is accepted in, so a copy replayed later is refused either way
    await this.o.db.run('DELETE FROM operator_nonces WHERE at < ?', [now - 2 * this.o.skewMs]);
    const fresh = await this.o.db.run('INSERT OR IGNORE INTO operator_nonces (nonce, key_id, at) VALUES (?, ?, ?)', [auth.nonce, key.keyId, now]);
    if (fresh.changes !== 1) throw new ReasondError('unauthorized', `${action}: nonce ${auth.nonce} was used before; a signed request runs once (replayed?)`);
    return describeOperator(key);
  }
}
