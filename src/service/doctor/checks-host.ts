/** Doctor checks about the machine: Node, CPU, memory, sensors, disk, clock. */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readHwmonTemps, readMemInfo, readThermalZones } from '../../telemetry/sensors/generic.js';
import type { Check, CheckResult } from './types.js';

export const MIN_NODE_MAJOR = 20;
/** Below this the journal and model updates have no room; above it the warning stops. */
export const DISK_FAIL_BYTES = 256 * 2 ** 20;
export const DISK_WARN_BYTES = 2 * 2 ** 30;
/**
 * A clock before this is unset (a Pi without an RTC boots at its image date or 1970):
 * every TLS certificate then looks not yet valid. The date is this release's own year.
 */
export const CLOCK_FLOOR_MS = Date.UTC(2025, 0, 1);

const mib = (b: number) => (b < 2 ** 20 ? `${Math.ceil(b / 1024)} KiB` : `${Math.round(b / 2 ** 20)} MiB`);
const ok = (detail: string): CheckResult => ({ status: 'ok', detail });

export const nodeCheck: Check = {
  name: 'node',
  fix: `Install Node.js ${MIN_NODE_MAJOR} or newer (NodeSource packages for Raspberry Pi OS / Ubuntu), then run scripts/install.sh again`,
  async check({ nodeVersion }) {
    const major = Number(nodeVersion.replace(/^v/, '').split('.')[0]);
    return major >= MIN_NODE_MAJOR ? ok(`Node ${nodeVersion}`) : { status: 'fail', detail: `Node ${nodeVersion} is older than ${MIN_NODE_MAJOR}` };
  },
};

export const cpuCheck: Check = {
  name: 'cpu',
  fix: 'Use a 64-bit OS image (arm64 or x86_64); onnxruntime-node has no 32-bit builds',
  async check({ arch, sysRoot }) {
    const info = await readFile(join(sysRoot, 'proc/cpuinfo'), 'utf8').catch(() => '');
    const flags = new Set((info.match(/^(Features|flags)\s*:(.*)$/m)?.[2] ?? '').trim().split(/\s+/));
    if (arch === 'arm64') {
      // ARMv8.2 dot product (Cortex-A55/A76/A78: Pi 5, Orin). The Pi 4's A72 lacks it and some
      // onnxruntime builds have died there with "Illegal instruction" in int8 kernels.
      if (flags.has('asimddp')) return ok('arm64 with ARMv8.2 dot product (asimddp)');
      return {
        status: 'warn',
        detail: info ? 'arm64 without the ARMv8.2 dot-product instructions (asimddp): a Cortex-A72 such as the Raspberry Pi 4' : 'arm64; /proc/cpuinfo unreadable',
        fix: 'Keep the onnxruntime-node version from package-lock.json (tested on the Pi 4); if the agent dies with "Illegal instruction", use the fp32 weights (dtype fp32)',
      };
    }
    if (arch === 'x64') {
      return flags.has('avx2') || !info ? ok('x86_64' + (info ? ' with AVX2' : '')) : { status: 'warn', detail: 'x86_64 without AVX2: onnxruntime falls back to slow kernels', fix: 'Expect low tokens/s on this CPU' };
    }
    return { status: 'fail', detail: `unsupported architecture ${arch}` };
  },
};

/** Bytes of the weights the engine will load: the .onnx file and its external data. */
export async function weightsBytes(onnxPath: string): Promise<number> {
  const { stat } = await import('node:fs/promises');
  let total = 0;
  for (const p of [onnxPath, `${onnxPath}_data`, `${onnxPath}.data`]) total += await stat(p).then((s) => s.size, () => 0);
  return total;
}

/** onnxruntime holds the weights once and needs working memory on top: 1.5x plus 256 MiB is what the shipped model used at peak. */
export const requiredMemory = (weights: number) => Math.ceil(weights * 1.5) + 256 * 2 ** 20;

export const memoryCheck: Check = {
  name: 'memory',
  fix: 'Stop other services, lower max_batch or context_tokens, use a smaller dtype (q4) or model, or add swap (dphys-swapfile on Raspberry Pi OS)',
  async check({ sysRoot }, earlier) {
    const mem = await readMemInfo(sysRoot);
    const weights = Number(earlier.get('model')?.data?.weights_bytes ?? NaN);
    if (mem.available_bytes === undefined) return { status: 'warn', detail: 'MemAvailable not found in proc/meminfo' };
    if (!Number.isFinite(weights)) return { status: 'warn', detail: `${mib(mem.available_bytes)} available; the model could not be sized`, fix: 'Fix the model check first' };
    const kv = Number(earlier.get('model')?.data?.kv_bytes ?? 0);
    const need = requiredMemory(weights) + kv;
    const kvText = kv > 0 ? ` + KV cache ${mib(kv)} for ${earlier.get('model')?.data?.kv_shape}` : '';
    const detail = `${mib(mem.available_bytes)} available; the model needs about ${mib(need)} (weights ${mib(weights)} x1.5 + 256 MiB${kvText})`;
    if (mem.available_bytes < need) return { status: 'fail', detail };
    return mem.available_bytes < need * 1.5 ? { status: 'warn', detail: `${detail}: little headroom` } : ok(detail);
  },
};

export const sensorsCheck: Check = {
  name: 'sensors',
  fix: 'Check that sys_root points at the real /sys (it is "/" on a board) and that the thermal driver is loaded; the thermal guard cannot protect the board without a temperature',
  async check({ sysRoot }) {
    const [zones, hwmon] = await Promise.all([readThermalZones(sysRoot), readHwmonTemps(sysRoot)]);
    if (zones.length + hwmon.length === 0) return { status: 'warn', detail: `no thermal zone or hwmon temperature under ${sysRoot}` };
    return ok(`${zones.length} thermal zone(s), ${hwmon.length} hwmon temperature(s)`);
  },
};

export const diskCheck: Check = {
  name: 'disk',
  fix: 'Free space on the data dir\'s file system or point data_dir at a larger disk (SQLite needs room for its journal)',
  async check({ config, freeBytes }) {
    let dir = config.data_dir;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    const free = await freeBytes(dir);
    const detail = `${mib(free)} free for ${config.data_dir}`;
    if (free < DISK_FAIL_BYTES) return { status: 'fail', detail };
    return free < DISK_WARN_BYTES ? { status: 'warn', detail } : ok(detail);
  },
};

export const clockCheck: Check = {
  name: 'clock',
  fix: 'Set the clock: timedatectl set-ntp true (systemd-timesyncd), or add an RTC; TLS refuses certificates that look not yet valid',
  async check({ now }) {
    const t = now();
    const shown = new Date(t).toISOString();
    return t < CLOCK_FLOOR_MS ? { status: 'fail', detail: `the clock says ${shown}` } : ok(shown);
  },
};
