/**
 * NVIDIA Jetson: the INA3221 power monitor under hwmon and the nvpmodel power mode.
 * The upstream ina3221 driver (JetPack 5 and 6) gives `inN_label` (the rail name from
 * the device tree), `inN_input` in mV and `currN_input` in mA, and no power file, so
 * power is V × I. The channels without a current (shunt voltages, their sum) are not rails.
 */
import type { CommandRunner } from './command.js';
import type { PowerMode, PowerRail } from './readings.js';
import { listDir, readNumber, readText } from './sysfs.js';

/** On Orin Nano/NX VDD_IN is the module's whole input; older modules name it POM_5V_IN or 5V_IN. */
export const INPUT_RAILS = ['VDD_IN', 'POM_5V_IN', '5V_IN'];

export async function readInaRails(root: string): Promise<PowerRail[]> {
  const base = 'sys/class/hwmon';
  const rails: PowerRail[] = [];
  for (const dir of await listDir(root, base, /^hwmon\d+$/)) {
    if ((await readText(root, `${base}/${dir}/name`)) !== 'ina3221') continue;
    for (const file of await listDir(root, `${base}/${dir}`, /^in\d+_label$/)) {
      const n = file.slice(2, -'_label'.length);
      const name = await readText(root, `${base}/${dir}/${file}`);
      const mv = await readNumber(root, `${base}/${dir}/in${n}_input`);
      const ma = await readNumber(root, `${base}/${dir}/curr${n}_input`);
      if (name === undefined || mv === undefined || ma === undefined) continue;
      rails.push({ name, voltage_v: mv / 1000, current_a: ma / 1000, power_w: (mv * ma) / 1e6 });
    }
  }
  return rails;
}

/** `nvpmodel` keeps the active mode in a status file (`pmode:0000`) that needs no root to read. */
export async function readPowerMode(root: string, run: CommandRunner): Promise<PowerMode | undefined> {
  const status = await readText(root, 'var/lib/nvpmodel/status');
  const m = status === undefined ? null : /pmode:(\d+)/.exec(status);
  if (m) {
    const id = Number(m[1]);
    const conf = (await readText(root, 'etc/nvpmodel.conf')) ?? '';
    const named = new RegExp(`<\\s*POWER_MODEL\\s+ID=${id}\\s+NAME=([\\w.-]+)\\s*>`).exec(conf);
    return named ? { id, name: named[1]! } : { id };
  }
  const out = await run('nvpmodel', ['-q']);
  return out === undefined ? undefined : parseNvpmodelQuery(out);
}

/** `nvpmodel -q` prints `NV Power Mode: 15W` and then the id on its own line. */
export function parseNvpmodelQuery(output: string): PowerMode | undefined {
  const name = /NV Power Mode:\s*(\S+)/.exec(output)?.[1];
  const id = /^\s*(\d+)\s*$/m.exec(output)?.[1];
  if (id === undefined) return undefined;
  return name === undefined ? { id: Number(id) } : { id: Number(id), name };
}
