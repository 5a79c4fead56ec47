/**
 * Raspberry Pi: the firmware's throttling flags from `vcgencmd get_throttled`, and
 * on a Pi 5 the PMIC's rails from `vcgencmd pmic_read_adc`. Bit meanings are the
 * Raspberry Pi documentation's: bits 0-3 are the state now, bits 16-19 the same
 * conditions "has occurred since boot".
 */
import type { CommandRunner } from './command.js';
import type { PowerRail, ThrottleFlags, Throttling } from './readings.js';

const flags = (bits: number): ThrottleFlags => ({
  under_voltage: (bits & 0x1) !== 0,
  freq_capped: (bits & 0x2) !== 0,
  throttled: (bits & 0x4) !== 0,
  soft_temp_limit: (bits & 0x8) !== 0,
});

/** Parses `throttled=0x50005`; undefined for anything else (an old firmware's error text). */
export function parseThrottled(output: string): Throttling | undefined {
  const m = /throttled=(0x[0-9a-f]+)/i.exec(output);
  if (!m) return undefined;
  const bits = Number.parseInt(m[1]!, 16);
  return { raw: m[1]!.toLowerCase(), now: flags(bits), since_boot: flags(bits >>> 16) };
}

export async function readThrottling(run: CommandRunner): Promise<Throttling | undefined> {
  const out = await run('vcgencmd', ['get_throttled']);
  return out === undefined ? undefined : parseThrottled(out);
}

/** Watts to the microwatt: the PMIC ADC is not finer, and sums then compare exactly. */
export const roundW = (w: number) => Math.round(w * 1e6) / 1e6;

/**
 * `pmic_read_adc` prints `VDD_CORE_A current(7)=2.00000000A` and `VDD_CORE_V volt(15)=0.75000000V`
 * lines; a rail is a name with both (EXT5V_V and BATT_V have no current). Older Pis do not
 * have the command and print an error: no rails.
 */
export function parsePmicAdc(output: string): PowerRail[] {
  const amps = new Map<string, number>();
  const volts = new Map<string, number>();
  for (const line of output.split('\n')) {
    const m = /^\s*(\w+)_([AV])\s+(?:current|volt)\(\d+\)=([\d.]+)[AV]\s*$/.exec(line);
    if (m) (m[2] === 'A' ? amps : volts).set(m[1]!, Number(m[3]));
  }
  const rails: PowerRail[] = [];
  for (const [name, current_a] of amps) {
    const voltage_v = volts.get(name);
    if (voltage_v !== undefined) rails.push({ name, voltage_v, current_a, power_w: roundW(voltage_v * current_a) });
  }
  return rails;
}

export async function readPmicRails(run: CommandRunner): Promise<PowerRail[]> {
  const out = await run('vcgencmd', ['pmic_read_adc']);
  return out === undefined ? [] : parsePmicAdc(out);
}
