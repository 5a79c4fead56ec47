/** A board image's bare bones for scripts/install.sh --root: the account files and the folders any Debian has. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './models.js';

export function seedRoot(root = tempDir('reasond-root-')): string {
  for (const d of ['etc/systemd/system', 'opt', 'usr/local/bin', 'var/lib']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\nvideo:x:44:\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:*:19000:0:99999:7:::\n');
  writeFileSync(join(root, 'etc/gshadow'), 'root:*::\nvideo:!::\n');
  return root;
}
