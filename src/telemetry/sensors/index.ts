/** The sensors of one board: generic Linux readings plus what its profile adds. */
import { detectBoard, profileFor, type BoardProfile } from './boards.js';
import { noCommands, runCommand, type CommandRunner } from './command.js';
import {
  readCpuFreqs,
  readHwmonTemps,
  readLoadAverage,
  readMemInfo,
  readProcessStatus,
  readSystemUptime,
  readThermalZones,
} from './generic.js';
import type { BoardKind, Readings } from './readings.js';

export type { CommandRunner } from './command.js';
export { noCommands, runCommand } from './command.js';
export * from './readings.js';

export interface SensorOptions {
  /** "/" on a board; a fixture tree in tests. */
  root: string;
  /** Runs board tools; defaults to the real ones only when the root is "/". */
  run?: CommandRunner;
  /** Skip detection (config `board`); `auto` or undefined detects. */
  board?: BoardKind | 'auto';
}

export class Sensors {
  private profile: BoardProfile | undefined;
  private model: string | undefined;

  constructor(private readonly options: SensorOptions) {}

  async start(): Promise<void> {
    const detected = await detectBoard(this.options.root);
    const kind = this.options.board && this.options.board !== 'auto' ? this.options.board : detected.kind;
    this.profile = profileFor(kind);
    this.model = detected.model;
  }

  get board(): BoardKind {
    return this.profile?.kind ?? 'generic';
  }

  get boardModel(): string | undefined {
    return this.model;
  }

  async read(): Promise<Readings> {
    if (!this.profile) await this.start();
    const { root } = this.options;
    // a fixture tree must never reach the live machine's vcgencmd
    const run = this.options.run ?? (root === '/' ? runCommand : noCommands);
    const [zones, hwmon, cpus, memory, load, process, uptime, extras] = await Promise.all([
      readThermalZones(root),
      readHwmonTemps(root),
      readCpuFreqs(root),
      readMemInfo(root),
      readLoadAverage(root),
      readProcessStatus(root),
      readSystemUptime(root),
      this.profile!.readExtras(root, run),
    ]);
    const readings: Readings = { board: this.board, zones, hwmon, cpus, memory, process, ...extras };
    if (this.model !== undefined) readings.model = this.model;
    if (load) readings.load = load;
    if (uptime !== undefined) readings.system_uptime_s = uptime;
    return readings;
  }
}

/** The hottest thermal zone (hwmon duplicates the zones on most boards, so zones decide). */
export function hottestZone(readings: Pick<Readings, 'zones'>): { type: string; temp_c: number } | undefined {
  let hottest: { type: string; temp_c: number } | undefined;
  for (const z of readings.zones) if (!hottest || z.temp_c > hottest.temp_c) hottest = { type: z.type, temp_c: z.temp_c };
  return hottest;
}
