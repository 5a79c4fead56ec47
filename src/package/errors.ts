/**
 * Why a package or an update was refused (issue 6; the package format is shared by update/, fleet/ and the CLI, #19). The code on the wire is
 * always `package_rejected`; `reason` is the stable word tests and operators
 * match on, and the message names the offending file, key or value.
 */
import { ReasondError } from '../core/errors.js';

export type RejectReason =
  | 'manifest_invalid'
  | 'unsigned'
  | 'untrusted_key'
  | 'bad_signature'
  | 'unsafe_path'
  | 'symlink'
  | 'external_data_escape'
  | 'unlisted_file'
  | 'size_mismatch'
  | 'hash_mismatch'
  | 'downgrade'
  | 'agent_too_old'
  | 'marked_bad'
  | 'disk_full'
  | 'download_failed'
  | 'probe_crashed'
  | 'smoke_failed'
  | 'too_slow'
  | 'too_big'
  | 'not_installed'
  | 'switch_failed';

export class PackageError extends ReasondError {
  constructor(readonly reason: RejectReason, message: string, options: { cause?: unknown } = {}) {
    super('package_rejected', `${reason}: ${message}`, options);
    this.name = 'PackageError';
  }

  override toJSON(): { code: 'package_rejected'; message: string; reason: RejectReason } {
    return { code: 'package_rejected', message: this.message, reason: this.reason };
  }
}

export const isPackageError = (e: unknown): e is PackageError => e instanceof PackageError;
export const hasReason = (e: unknown, reason: RejectReason): boolean => isPackageError(e) && e.reason === reason;
