/**
 * Board differences live behind this one interface: a profile knows which extra
 * sensors its board has. Detection reads the device-tree model string, which both
 * Raspberry Pi OS and Jetson Linux expose, so it works from a fixture tree too.
 */
import type { CommandRunner } from './command.js';
import { INPUT_RAILS, readInaRails, readPowerMode } from './jetson.js';
import { readPmicRails, readThrottling, roundW } from './raspberry-pi.js';
import type { BoardExtras, BoardKind } from './readings.js';
import { exists, readText } from './sysfs.js';

export interface BoardProfile {
  kind: BoardKind;
  readExtras(root: string, run: CommandRunner): Promise<BoardExtras>;
}

const generic: BoardProfile = { kind: 'generic', readExtras: async () => ({}) };

const raspberryPi: BoardProfile = {
  kind: 'raspberry-pi',
  async readExtras(_root, run) {
    const extras: BoardExtras = {};
    const throttling = await readThrottling(run);
    if (throttling) extras.throttling = throttling;
    const rails = await readPmicRails(run);
    if (rails.length > 0) {
      extras.rails = rails;
      // the PMIC's outputs, not the USB-C input: the Pi 5 has no input current sensor
      extras.board_power = { source: 'pmic_sum', watts: roundW(rails.reduce((a, r) => a + r.power_w, 0)) };
    }
    return extras;
  },
};

const jetson: BoardProfile = {
  kind: 'jetson',
  async readExtras(root, run) {
    const extras: BoardExtras = {};
    const rails = await readInaRails(root);
    if (rails.length > 0) {
      extras.rails = rails;
      const input = rails.find((r) => INPUT_RAILS.includes(r.name));
      if (input) extras.board_power = { source: input.name, watts: input.power_w };
    }
    const mode = await readPowerMode(root, run);
    if (mode) extras.power_mode = mode;
    return extras;
  },
};

export const BOARD_KINDS: readonly BoardKind[] = ['generic', 'raspberry-pi', 'jetson'];
const profiles: Record<BoardKind, BoardProfile> = { generic, 'raspberry-pi': raspberryPi, jetson };

export const profileFor = (kind: BoardKind): BoardProfile => profiles[kind];

export interface DetectedBoard {
  kind: BoardKind;
  model?: string;
}

export async function detectBoard(root: string): Promise<DetectedBoard> {
  const model =
    (await readText(root, 'proc/device-tree/model')) ?? (await readText(root, 'sys/class/dmi/id/product_name'));
  const found = (kind: BoardKind): DetectedBoard => (model === undefined ? { kind } : { kind, model });
  if (model?.startsWith('Raspberry Pi')) return found('raspberry-pi');
  // L4T writes nv_tegra_release on every Jetson, also where the model string was customised
  if (model?.includes('Jetson') || (await exists(root, 'etc/nv_tegra_release'))) return found('jetson');
  return found('generic');
}
