/** A throwaway site CA and certificates made with openssl, for the TLS broker tests (issue 8). */
import { execFileSync } from 'node:child_process';
import { chmodSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './models.js';

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** ca.crt plus <cn>.crt/<cn>.key for each name; "broker" gets localhost and 127.0.0.1 as its names. */
export function makeCertificates(names: string[]): string {
  const dir = tempDir('reasond-certs-');
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  ssl('req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=reasond-test-ca', '-days', '2');
  for (const cn of names) {
    const ext = join(dir, `${cn}.ext`);
    writeFileSync(ext, cn === 'broker' ? 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' : 'extendedKeyUsage=clientAuth\n');
    ssl('req', ...EC, '-keyout', `${cn}.key`, '-out', `${cn}.csr`, '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', `${cn}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${cn}.crt`, '-days', '2', '-extfile', ext);
  }
  // Mosquitto started as root drops to its own user before it reads these: a test-only relaxation.
  chmodSync(dir, 0o755);
  for (const f of readdirSync(dir)) chmodSync(join(dir, f), 0o644);
  return dir;
}
