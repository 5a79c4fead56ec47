/**
 * Answers signed by the device that sent them (issue 16). Every final reply carries
 * `signature: {key_id, sig}`: the device's Ed25519 signature of the reply without that field, as
 * JSON with keys sorted at every level. The device publishes its public key as `answer_key` in its
 * retained status, which under the shipped ACL only that device can write: a requester (reasond ask)
 * checks an answer against the key of the device it names, so no board can answer as another.
 */
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

export interface AnswerSignature {
  key_id: string;
  /** base64 Ed25519 signature */
  sig: string;
}

/** A public key as the status carries it: its SPKI DER, base64. */
export const answerKeyOf = (key: KeyObject): string => createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');

const keyIdOf = (answerKey: string) => createHash('sha256').update(Buffer.from(answerKey, 'base64')).digest('hex').slice(0, 16);

const unsigned = (reply: Record<string, unknown>) => {
  const { signature: _s, ...rest } = reply;
  return Buffer.from(canonicalJson(rest));
};

export class AnswerSigner {
  readonly answerKey: string;
  readonly keyId: string;

  constructor(private readonly key: KeyObject) {
    this.answerKey = answerKeyOf(key);
    this.keyId = keyIdOf(this.answerKey);
  }

  /** The reply with its signature (one it had is replaced). */
  sign<T extends object>(reply: T): T & { signature: AnswerSignature } {
    const body = unsigned(reply as Record<string, unknown>);
    return { ...reply, signature: { key_id: this.keyId, sig: sign(null, body, this.key).toString('base64') } };
  }
}

/** ok: signed by that key; unsigned: no signature; bad: a signature that does not match the key or the reply. */
export function checkAnswer(reply: Record<string, unknown>, answerKey: string): 'ok' | 'unsigned' | 'bad' {
  const s = reply.signature as Partial<AnswerSignature> | undefined;
  if (s === undefined) return 'unsigned';
  if (!s || typeof s.sig !== 'string' || s.key_id !== keyIdOf(answerKey)) return 'bad';
  try {
    const key = createPublicKey({ key: Buffer.from(answerKey, 'base64'), format: 'der', type: 'spki' });
    return verify(null, unsigned(reply), key, Buffer.from(s.sig, 'base64')) ? 'ok' : 'bad';
  } catch {
    return 'bad';
  }
}
