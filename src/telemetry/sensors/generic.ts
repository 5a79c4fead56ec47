/** Readers every Linux board has: thermal zones, hwmon, cpufreq and procfs. Each takes the root folder. */
import { listDir, readNumber, readText } from './sysfs.js';
import type { CpuFreq, HwmonTemp, LoadAverage, ProcessStatus, SystemMemory, ThermalZone } from './readings.js';

// Tegra reports a sensor that is powered off (the cv zones of an Orin Nano) as -256 °C;
// jetson-stats treats it the same way.
const OFFLINE_MILLI_C = -256000;

const celsius = (milli: number | undefined) =>
  milli === undefined || milli <= OFFLINE_MILLI_C ? undefined : milli / 1000;

export async function readThermalZones(root: string): Promise<ThermalZone[]> {
  const base = 'sys/class/thermal';
  const zones: ThermalZone[] = [];
  for (const zone of await listDir(root, base, /^thermal_zone\d+$/)) {
    const type = await readText(root, `${base}/${zone}/type`);
    const temp_c = celsius(await readNumber(root, `${base}/${zone}/temp`));
    if (type !== undefined && temp_c !== undefined) zones.push({ zone, type, temp_c });
  }
  return zones;
}

export async function readHwmonTemps(root: string): Promise<HwmonTemp[]> {
  const base = 'sys/class/hwmon';
  const temps: HwmonTemp[] = [];
  for (const dir of await listDir(root, base, /^hwmon\d+$/)) {
    const chip = (await readText(root, `${base}/${dir}/name`)) ?? dir;
    for (const file of await listDir(root, `${base}/${dir}`, /^temp\d+_input$/)) {
      const n = file.slice(0, -'_input'.length);
      const temp_c = celsius(await readNumber(root, `${base}/${dir}/${file}`));
      const label = (await readText(root, `${base}/${dir}/${n}_label`)) ?? n;
      if (temp_c !== undefined) temps.push({ chip, label, temp_c });
    }
  }
  return temps;
}

export async function readCpuFreqs(root: string): Promise<CpuFreq[]> {
  const base = 'sys/devices/system/cpu';
  const cpus: CpuFreq[] = [];
  for (const dir of await listDir(root, base, /^cpu\d+$/)) {
    const cur = await readNumber(root, `${base}/${dir}/cpufreq/scaling_cur_freq`);
    const max = await readNumber(root, `${base}/${dir}/cpufreq/cpuinfo_max_freq`);
    const cpu: CpuFreq = { cpu: Number(dir.slice(3)) };
    // cpufreq files are in kHz
    if (cur !== undefined) cpu.cur_mhz = cur / 1000;
    if (max !== undefined) cpu.max_mhz = max / 1000;
    cpus.push(cpu);
  }
  return cpus;
}

/** `Key:   1234 kB` lines of /proc/meminfo and /proc/self/status, in bytes. */
export function parseKbLines(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+):\s+(\d+) kB$/.exec(line.trim());
    if (m) values.set(m[1]!, Number(m[2]) * 1024);
  }
  return values;
}

export async function readMemInfo(root: string): Promise<SystemMemory> {
  const text = await readText(root, 'proc/meminfo');
  if (text === undefined) return {};
  const kb = parseKbLines(text);
  const memory: SystemMemory = {};
  const put = (key: keyof SystemMemory, name: string) => {
    const v = kb.get(name);
    if (v !== undefined) memory[key] = v;
  };
  put('total_bytes', 'MemTotal');
  // MemAvailable exists since Linux 3.14; without it we report absent rather than guess
  put('available_bytes', 'MemAvailable');
  put('swap_total_bytes', 'SwapTotal');
  put('swap_free_bytes', 'SwapFree');
  return memory;
}

export async function readLoadAverage(root: string): Promise<LoadAverage | undefined> {
  const fields = (await readText(root, 'proc/loadavg'))?.split(/\s+/).map(Number);
  if (!fields || fields.length < 3 || fields.slice(0, 3).some((v) => !Number.isFinite(v))) return undefined;
  return { load_1: fields[0]!, load_5: fields[1]!, load_15: fields[2]! };
}

export async function readProcessStatus(root: string): Promise<ProcessStatus> {
  const text = await readText(root, 'proc/self/status');
  if (text === undefined) return {};
  const kb = parseKbLines(text);
  const status: ProcessStatus = {};
  if (kb.has('VmRSS')) status.rss_bytes = kb.get('VmRSS')!;
  if (kb.has('VmHWM')) status.peak_rss_bytes = kb.get('VmHWM')!;
  if (kb.has('VmSwap')) status.swap_bytes = kb.get('VmSwap')!;
  return status;
}

export async function readSystemUptime(root: string): Promise<number | undefined> {
  const first = (await readText(root, 'proc/uptime'))?.split(/\s+/)[0];
  const value = first === undefined ? NaN : Number(first);
  return Number.isFinite(value) ? value : undefined;
}
