/**
 * This boot of the machine: Linux's random boot id, new at every boot. A process that finds a
 * different one in its records than the one it runs under knows the machine went down in between
 * (a power cut, a reboot), not the process alone.
 */
import { readFileSync } from 'node:fs';

export function bootId(path = '/proc/sys/kernel/random/boot_id'): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return ''; // not Linux: every restart counts as the process's own
  }
}
