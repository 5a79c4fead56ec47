/**
 * Raspberry Pi: the firmware's throttling flags from `vcgencmd get_throttled`.
 * Bit meanings are the Raspberry Pi documentation's: bits 0-3 are the state now,
 * bits 16-19 the same conditions "has occurred since boot".
 */
import type { CommandRunner } from './command.js';
import type { ThrottleFlags, Throttling } from './readings.js';

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
