/**
 * What the sensors report. Units are in the names; a field that is missing means
 * the board has no such sensor or it could not be read: never a zero (#5).
 */
export type BoardKind = 'generic' | 'raspberry-pi' | 'jetson';

export interface ThermalZone {
  /** The sysfs folder name, e.g. thermal_zone0. */
  zone: string;
  /** The zone's `type`, e.g. cpu-thermal, tj-thermal, x86_pkg_temp. */
  type: string;
  temp_c: number;
}

export interface HwmonTemp {
  /** The chip's `name`, e.g. coretemp, cpu_thermal. */
  chip: string;
  /** `tempN_label` when the driver gives one, else `tempN`. */
  label: string;
  temp_c: number;
}

export interface CpuFreq {
  cpu: number;
  cur_mhz?: number;
  max_mhz?: number;
}

export interface SystemMemory {
  total_bytes?: number;
  available_bytes?: number;
  swap_total_bytes?: number;
  swap_free_bytes?: number;
}

export interface LoadAverage {
  load_1: number;
  load_5: number;
  load_15: number;
}

/** From /proc/self/status: what the kernel charges this process. */
export interface ProcessStatus {
  rss_bytes?: number;
  peak_rss_bytes?: number;
  swap_bytes?: number;
}

export interface ThrottleFlags {
  under_voltage: boolean;
  freq_capped: boolean;
  throttled: boolean;
  soft_temp_limit: boolean;
}

/** The board firmware's own throttling state (Raspberry Pi `vcgencmd get_throttled`). */
export interface Throttling {
  raw: string;
  now: ThrottleFlags;
  since_boot: ThrottleFlags;
}

export interface PowerRail {
  name: string;
  voltage_v: number;
  current_a: number;
  power_w: number;
}

export interface BoardPower {
  /** Which reading this is: a rail name, or `pmic_sum`. */
  source: string;
  watts: number;
}

export interface PowerMode {
  id: number;
  name?: string;
}

/** Everything a board profile adds on top of the generic Linux readings. */
export interface BoardExtras {
  throttling?: Throttling;
  rails?: PowerRail[];
  /** The power figure energy is integrated from: the module's input rail (Jetson VDD_IN) or the PMIC rails' sum (Pi 5). */
  board_power?: BoardPower;
  power_mode?: PowerMode;
}

export interface Readings extends BoardExtras {
  board: BoardKind;
  model?: string;
  zones: ThermalZone[];
  hwmon: HwmonTemp[];
  cpus: CpuFreq[];
  memory: SystemMemory;
  load?: LoadAverage;
  process: ProcessStatus;
  system_uptime_s?: number;
}
