/** The board fixture trees and a command runner that answers from them. */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandRunner } from '../../src/telemetry/sensors/index.js';
import { repoRoot, tempDir } from './models.js';

export type BoardFixture = 'rpi5' | 'jetson-orin-nano' | 'x86';

export const sysFixture = (name: BoardFixture) => join(repoRoot, 'test/fixtures/sys', name);

/** Answers `vcgencmd get_throttled` from `<root>/.commands/vcgencmd_get_throttled`, as a board would. */
export const fixtureCommands =
  (root: string): CommandRunner =>
  async (command, args) => {
    try {
      return readFileSync(join(root, '.commands', [command, ...args].join('_')), 'utf8');
    } catch {
      return undefined;
    }
  };

/** A writable copy of a board tree, for tests that heat the board up. */
export function copySysFixture(name: BoardFixture): string {
  const dir = join(tempDir('reasond-sys-'), name);
  cpSync(sysFixture(name), dir, { recursive: true });
  return dir;
}

export function setTemp(root: string, zone: string, celsius: number): void {
  writeFileSync(join(root, 'sys/class/thermal', zone, 'temp'), `${Math.round(celsius * 1000)}\n`);
}
