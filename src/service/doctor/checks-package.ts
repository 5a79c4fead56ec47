/**
 * The doctor's model package check: the configured model folder verifies as
 * the update path would verify it (issue 6's signature and hashes). Unlike
 * the agent's start-up check it re-hashes every file: an operator asked.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../../core/errors.js';
import { agentVersion } from '../../core/paths.js';
import { MANIFEST_FILE } from '../../package/manifest.js';
import { readTrustedKeys, trustedKeyFiles } from '../../package/trusted-keys.js';
import { checkFiles, readManifest, verifyPackage } from '../../package/verify.js';
import type { Check } from './types.js';

export const packageCheck: Check = {
  name: 'package',
  fix: 'Deploy the model as a signed package (reasond model pack, then deploy), or check this one with reasond model verify; trusted_keys must list the public key it is signed with',
  async check({ config }, earlier) {
    if (earlier.get('model')?.status !== 'ok') return { status: 'warn', detail: 'not checked without a model', fix: 'Fix the model check first' };
    const dir = config.model;
    if (!existsSync(join(dir, MANIFEST_FILE))) {
      return { status: 'warn', detail: `${dir} has no ${MANIFEST_FILE}: a plain model folder, unsigned, loaded as configured` };
    }
    const keys = trustedKeyFiles(config.trusted_keys);
    try {
      if (keys.length === 0) {
        const m = await readManifest(dir);
        await checkFiles(dir, m);
        return {
          status: 'warn',
          detail: `${m.name}@${m.version}: all ${m.files.length} files match their sizes and sha256, but the signature is not checked: no trusted_keys`,
          fix: 'Set trusted_keys to the public key (.pub) of whoever signs your packages',
        };
      }
      const m = await verifyPackage(dir, { trusted: readTrustedKeys(config.trusted_keys), agentVersion });
      return { status: 'ok', detail: `${m.name}@${m.version}: signed by key ${m.signature?.key_id}; all ${m.files.length} files match` };
    } catch (e) {
      return { status: 'fail', detail: `${dir}: ${describeError(e)}` };
    }
  },
};
