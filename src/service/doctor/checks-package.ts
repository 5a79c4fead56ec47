/**
 * The doctor's model package check: the configured model folder verifies as
 * the update path would verify it (issue 6's signature and hashes). Unlike
 * the agent's start-up check it re-hashes every file: an operator asked.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describeError } from '../../core/errors.js';
import { agentVersion, defaultModelDir } from '../../core/paths.js';
import { MANIFEST_FILE } from '../../package/manifest.js';
import { readTrustedKeys, trustedKeyFiles } from '../../package/trusted-keys.js';
import { checkFiles, readManifest, verifyPackage } from '../../package/verify.js';
import type { Check } from './types.js';

/** The DEV key pair's id (models/dev-keys: its private half is in the repository). */
function devKeyId(): string | undefined {
  try {
    return readTrustedKeys(join(defaultModelDir(), '..', 'dev-keys', 'dev.pub'))[0]?.keyId;
  } catch {
    return undefined;
  }
}

const NEVER_DEV = 'sign your own packages (reasond model keygen, reasond model pack) and list that .pub in trusted_keys; never trust models/dev-keys/dev.pub on a board you care about';

export const packageCheck: Check = {
  name: 'package',
  fix: 'Deploy the model as a signed package (reasond model pack, then deploy), or check this one with reasond model verify; trusted_keys must list the public key your packages are signed with',
  async check({ config }, earlier) {
    const model = earlier.get('model');
    if (model?.status !== 'ok') return { status: 'warn', detail: 'not checked without a model', fix: 'Fix the model check first' };
    // the model being served: an active package is held to its signature (the agent checks it at start-up);
    // the configured folder is loaded as configured, so its signature is information, not a requirement
    const dir = String(model.data?.dir ?? config.model);
    const isPackage = Boolean(model.data?.package);
    if (!existsSync(join(dir, MANIFEST_FILE))) {
      return { status: 'warn', detail: `${dir} has no ${MANIFEST_FILE}: a plain model folder, unsigned, loaded as configured` };
    }
    const keys = trustedKeyFiles(config.trusted_keys);
    let m;
    try {
      m = await readManifest(dir);
      await checkFiles(dir, m);
    } catch (e) {
      return { status: 'fail', detail: `${dir}: ${describeError(e)}`, fix: 'The served model is corrupt: reinstall it (or deploy the package again); the agent may be serving wrong weights' };
    }
    const files = `all ${m.files.length} files match their sizes and sha256`;
    const dev = m.signature?.key_id !== undefined && m.signature.key_id === devKeyId();
    if (keys.length === 0) {
      return { status: 'warn', detail: `${m.name}@${m.version}: ${files}; the signature is not checked: no trusted_keys${dev ? ' (it is the DEV key\'s)' : ''}`, fix: `To take signed updates, ${NEVER_DEV}` };
    }
    try {
      await verifyPackage(dir, { trusted: readTrustedKeys(config.trusted_keys), agentVersion });
    } catch (e) {
      if (isPackage) return { status: 'fail', detail: `${dir} (the active package): ${describeError(e)}` };
      const whose = dev ? 'the DEV key' : `key ${m.signature?.key_id ?? '(none)'}`;
      return { status: 'ok', detail: `${m.name}@${m.version} (the configured model, loaded without a signature check): ${files}; signed by ${whose}, which trusted_keys does not list` };
    }
    if (dev) return { status: 'warn', detail: `${m.name}@${m.version}: ${files}; signed by the DEV key, and trusted_keys lists it`, fix: NEVER_DEV };
    return { status: 'ok', detail: `${m.name}@${m.version}: signed by key ${m.signature?.key_id}; ${files}` };
  },
};
