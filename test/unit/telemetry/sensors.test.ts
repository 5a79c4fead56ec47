import test from 'ava';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { hottestZone, Sensors } from '../../../src/telemetry/sensors/index.js';
import { parseThrottled } from '../../../src/telemetry/sensors/raspberry-pi.js';
import { parseNvpmodelQuery } from '../../../src/telemetry/sensors/jetson.js';
import { copySysFixture, fixtureCommands, sysFixture } from '../../helpers/sysfs.js';

const read = async (name: 'rpi5' | 'jetson-orin-nano' | 'x86', root = sysFixture(name)) => {
  const sensors = new Sensors({ root, run: fixtureCommands(root) });
  await sensors.start();
  return sensors.read();
};

test('Raspberry Pi 5: SoC zone, hwmon, cpufreq, memory and the firmware flags', async (t) => {
  const r = await read('rpi5');
  t.is(r.board, 'raspberry-pi');
  t.is(r.model, 'Raspberry Pi 5 Model B Rev 1.0');
  t.deepEqual(r.zones, [{ zone: 'thermal_zone0', type: 'cpu-thermal', temp_c: 52.65 }]);
  t.deepEqual(r.hwmon, [
    { chip: 'cpu_thermal', label: 'temp1', temp_c: 52.65 },
    { chip: 'rp1_adc', label: 'temp1', temp_c: 47.921 },
  ]);
  t.deepEqual(r.cpus, [
    { cpu: 0, cur_mhz: 1500, max_mhz: 2400 },
    { cpu: 1, cur_mhz: 1500, max_mhz: 2400 },
    { cpu: 2, cur_mhz: 2400, max_mhz: 2400 },
    { cpu: 3, cur_mhz: 1500, max_mhz: 2400 },
  ]);
  t.deepEqual(r.memory, {
    total_bytes: 8245744 * 1024,
    available_bytes: 7301888 * 1024,
    swap_total_bytes: 204796 * 1024,
    swap_free_bytes: 204796 * 1024,
  });
  t.deepEqual(r.load, { load_1: 0.52, load_5: 0.48, load_15: 0.41 });
  t.deepEqual(r.process, { rss_bytes: 398336 * 1024, peak_rss_bytes: 412160 * 1024, swap_bytes: 0 });
  t.is(r.system_uptime_s, 86400.25);
  const off = { under_voltage: false, freq_capped: false, throttled: false, soft_temp_limit: false };
  t.deepEqual(r.throttling, { raw: '0x80000', now: off, since_boot: { ...off, soft_temp_limit: true } });
  // Pi 5 PMIC rails: a name with both a current and a voltage line (EXT5V_V and BATT_V have no current)
  t.is(r.rails?.length, 12);
  t.deepEqual(r.rails?.find((x) => x.name === 'VDD_CORE'), { name: 'VDD_CORE', voltage_v: 0.75, current_a: 2, power_w: 1.5 });
  t.deepEqual(r.rails?.find((x) => x.name === '1V1_SYS'), { name: '1V1_SYS', voltage_v: 1.1, current_a: 0.2, power_w: 0.22 });
  t.deepEqual(r.board_power, { source: 'pmic_sum', watts: 2.746 });
  t.is(r.power_mode, undefined);
  t.deepEqual(hottestZone(r), { type: 'cpu-thermal', temp_c: 52.65 });
});

test('Jetson Orin Nano: named zones, INA3221 rails and the nvpmodel mode; offline zones are absent', async (t) => {
  const r = await read('jetson-orin-nano');
  t.is(r.board, 'jetson');
  t.is(r.model, 'NVIDIA Jetson Orin Nano Developer Kit');
  t.deepEqual(
    r.zones.map((z) => [z.type, z.temp_c]),
    [
      ['cpu-thermal', 48.5],
      ['gpu-thermal', 46.75],
      ['soc0-thermal', 45.25],
      ['soc1-thermal', 46],
      ['soc2-thermal', 44.75],
      ['tj-thermal', 49],
    ],
  );
  t.deepEqual(r.rails, [
    { name: 'VDD_IN', voltage_v: 5, current_a: 1.2, power_w: 6 },
    { name: 'VDD_CPU_GPU_CV', voltage_v: 5, current_a: 0.4, power_w: 2 },
    { name: 'VDD_SOC', voltage_v: 5, current_a: 0.3, power_w: 1.5 },
  ]);
  t.deepEqual(r.board_power, { source: 'VDD_IN', watts: 6 });
  t.deepEqual(r.power_mode, { id: 0, name: '15W' });
  t.is(r.cpus.length, 6);
  t.deepEqual(r.cpus[5], { cpu: 5, cur_mhz: 729.6, max_mhz: 1510.4 });
  t.deepEqual(r.process, { rss_bytes: 524288 * 1024, peak_rss_bytes: 602112 * 1024, swap_bytes: 1024 * 1024 });
  t.is(r.memory.available_bytes, 6102400 * 1024);
  t.is(r.throttling, undefined);
  t.deepEqual(hottestZone(r), { type: 'tj-thermal', temp_c: 49 });
});

test('Jetson without the nvpmodel status file falls back to `nvpmodel -q`', async (t) => {
  const root = copySysFixture('jetson-orin-nano');
  rmSync(join(root, 'var/lib/nvpmodel/status'));
  t.deepEqual((await read('jetson-orin-nano', root)).power_mode, { id: 0, name: '15W' });
  t.deepEqual(parseNvpmodelQuery('NV Fan Mode:cool\nNV Power Mode: MODE_30W_4CORE\n5\n'), { id: 5, name: 'MODE_30W_4CORE' });
});

test('plain x86: labelled hwmon chips; a core without cpufreq has no frequency; no board extras', async (t) => {
  const r = await read('x86');
  t.is(r.board, 'generic');
  t.is(r.model, 'OptiPlex 7070');
  t.deepEqual(r.zones, [
    { zone: 'thermal_zone0', type: 'acpitz', temp_c: 27.8 },
    { zone: 'thermal_zone1', type: 'x86_pkg_temp', temp_c: 45 },
  ]);
  t.deepEqual(r.hwmon, [
    { chip: 'acpitz', label: 'temp1', temp_c: 27.8 },
    { chip: 'coretemp', label: 'Package id 0', temp_c: 45 },
    { chip: 'coretemp', label: 'Core 0', temp_c: 43 },
    { chip: 'coretemp', label: 'Core 1', temp_c: 44 },
    { chip: 'nvme', label: 'Composite', temp_c: 38.85 },
  ]);
  t.deepEqual(r.cpus[3], { cpu: 3 });
  t.deepEqual(r.memory.swap_free_bytes, 1572860 * 1024);
  t.false('throttling' in r);
  t.false('rails' in r);
  t.false('power_mode' in r);
});

test('a missing sensor is absent, never zero', async (t) => {
  const root = copySysFixture('rpi5');
  rmSync(join(root, 'sys/class/thermal/thermal_zone0/temp'));
  rmSync(join(root, 'proc/meminfo'));
  rmSync(join(root, 'proc/loadavg'));
  rmSync(join(root, '.commands'), { recursive: true });
  const r = await read('rpi5', root);
  t.deepEqual(r.zones, []);
  t.deepEqual(r.memory, {});
  t.false('load' in r);
  t.false('throttling' in r);
  t.false('rails' in r);
  t.false('board_power' in r);
  t.is(hottestZone(r), undefined);
});

test('an empty root is a generic board with nothing to report', async (t) => {
  const r = await read('x86', join(sysFixture('x86'), 'no-such-dir'));
  t.is(r.board, 'generic');
  t.deepEqual([r.zones, r.hwmon, r.cpus, r.memory, r.process], [[], [], [], {}, {}]);
});

test('get_throttled bits: now and since boot', (t) => {
  const r = parseThrottled('throttled=0x50005\n')!;
  t.deepEqual(r.now, { under_voltage: true, freq_capped: false, throttled: true, soft_temp_limit: false });
  t.deepEqual(r.since_boot, { under_voltage: true, freq_capped: false, throttled: true, soft_temp_limit: false });
  t.is(parseThrottled('error=1 error_msg="Command not registered"'), undefined);
});
