/**
 * `trusted_keys`, declared once and read once (#19): the agent installs, and the
 * controller accepts uploads of, only packages signed by one of these keys;
 * `reasond doctor` checks the served model against them.
 */
import type { ConfigKey } from '../config/index.js';
import { describeError, ReasondError } from '../core/errors.js';
import { readTrustedKey, type TrustedKey } from './signing.js';

export const trustedKeysKey = {
  key: 'trusted_keys', type: 'string', default: '', description: 'Comma-separated Ed25519 public key files (.pub)',
} as const satisfies ConfigKey;

/** The files a trusted_keys value lists. */
export const trustedKeyFiles = (list: string): string[] => list.split(',').map((s) => s.trim()).filter(Boolean);

/** Reads every key a trusted_keys value lists; a file that cannot be read is an invalid_config naming it. */
export function readTrustedKeys(list: string): TrustedKey[] {
  return trustedKeyFiles(list).map((path) => {
    try {
      return readTrustedKey(path);
    } catch (e) {
      throw new ReasondError('invalid_config', `trusted_keys: cannot read the public key ${path}: ${describeError(e)}`);
    }
  });
}
