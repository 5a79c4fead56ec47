/**
 * Builds the retained `<base>/<device>/metrics` message (src/protocol/metrics.ts):
 * readings, throughput and process memory folded into one snake_case object. Keys
 * for sensors the board lacks are left out, never set to zero (#5).
 */
import type { MetricsMessage } from '../../protocol/index.js';
import type { Readings } from '../sensors/readings.js';
import { hottestZone } from '../sensors/index.js';
import type { ThermalState } from '../thermal/guard.js';
import type { ThroughputReport } from './throughput.js';

/** What Node says about its own memory (process.memoryUsage()). */
export interface HeapUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

export interface PayloadInput {
  at: number;
  device: string;
  agent_version: string;
  model?: { name: string; version?: string; dtype?: string };
  uptime_s: number;
  readings: Readings;
  throughput: ThroughputReport;
  queue_depth?: number;
  /** Tasks running now and the most that run at once (issue 14). */
  batch?: { running: number; max: number };
  heap: HeapUsage;
  guard: ThermalState;
  memory_state: 'normal' | 'pressure';
  energy_j?: number;
}

/** The message is protocol/metrics.ts's: the controller reads this very type (#19). */
export type MetricsPayload = MetricsMessage;

const round = (v: number, digits = 3) => Math.round(v * 10 ** digits) / 10 ** digits;

export function buildMetricsPayload(p: PayloadInput): MetricsPayload {
  const r = p.readings;
  // the kernel's VmRSS when we can read it: it counts onnxruntime's arena, which V8 does not see
  const rss = r.process.rss_bytes ?? p.heap.rss;
  const memory: Record<string, number | string> = {
    rss_bytes: rss,
    heap_used_bytes: p.heap.heapUsed,
    heap_total_bytes: p.heap.heapTotal,
    // outside the V8 heap: model weights, KV cache, tokenizer, buffers
    native_bytes: Math.max(0, rss - p.heap.heapTotal),
    external_bytes: p.heap.external,
    state: p.memory_state,
  };
  const m = r.memory;
  if (m.total_bytes !== undefined) memory.system_total_bytes = m.total_bytes;
  if (m.available_bytes !== undefined) memory.system_available_bytes = m.available_bytes;
  if (m.swap_total_bytes !== undefined) memory.swap_total_bytes = m.swap_total_bytes;
  if (m.swap_total_bytes !== undefined && m.swap_free_bytes !== undefined)
    memory.swap_used_bytes = m.swap_total_bytes - m.swap_free_bytes;
  if (r.process.swap_bytes !== undefined) memory.process_swap_bytes = r.process.swap_bytes;

  const zones: Record<string, number> = {};
  for (const z of r.zones) zones[z.type in zones ? `${z.type}@${z.zone}` : z.type] = z.temp_c;
  const hottest = hottestZone(r);
  const thermal: Record<string, unknown> = { zones, guard: p.guard };
  if (hottest) Object.assign(thermal, { hottest_c: hottest.temp_c, hottest_zone: hottest.type });
  if (r.hwmon.length > 0) thermal.hwmon = Object.fromEntries(r.hwmon.map((h) => [`${h.chip}/${h.label}`, h.temp_c]));
  if (r.throttling) thermal.throttling = r.throttling;

  const cpu: Record<string, unknown> = {};
  if (r.load) Object.assign(cpu, r.load);
  const freqs = r.cpus.filter((c) => c.cur_mhz !== undefined);
  if (freqs.length > 0) cpu.freq_mhz = Object.fromEntries(freqs.map((c) => [`cpu${c.cpu}`, c.cur_mhz]));
  const max = Math.max(...r.cpus.map((c) => c.max_mhz ?? -Infinity));
  if (Number.isFinite(max)) cpu.max_freq_mhz = max;

  const payload: Record<string, unknown> = {
    device: p.device,
    at: new Date(p.at).toISOString(),
    agent_version: p.agent_version,
    uptime_s: round(p.uptime_s),
    board: { kind: r.board, ...(r.model === undefined ? {} : { model: r.model }) },
    throughput: {
      ...p.throughput,
      ...(p.queue_depth === undefined ? {} : { queue_depth: p.queue_depth }),
      ...(p.batch === undefined ? {} : { running_tasks: p.batch.running, max_batch: p.batch.max }),
    },
    memory,
    thermal,
    cpu,
  };
  if (p.model) payload.model = p.model;
  if (r.system_uptime_s !== undefined) payload.system_uptime_s = r.system_uptime_s;
  if (r.power_mode) (payload.board as Record<string, unknown>).power_mode = r.power_mode;
  if (r.rails && r.rails.length > 0) {
    const power: Record<string, unknown> = {
      rails: Object.fromEntries(r.rails.map(({ name, ...v }) => [name, v])),
    };
    if (r.board_power) Object.assign(power, { board_w: r.board_power.watts, source: r.board_power.source });
    if (p.energy_j !== undefined) power.energy_j = round(p.energy_j);
    payload.power = power;
  }
  return payload as unknown as MetricsPayload;
}
