/**
 * The retained <base>/<device>/metrics message (#5): its schema and type (#19). The
 * agent's telemetry builds it and the controller's registry reads it through this one
 * type, so a field cannot mean one shape on one side and another on the other (the
 * controller read `thermal.guard.state` while agents send `thermal.guard` as a string,
 * and counted every board as never throttled). A sensor the board lacks is left out.
 */
import type { FromSchema } from 'json-schema-to-ts';

const percentiles = {
  type: 'object', additionalProperties: false, required: ['p50', 'p95', 'p99'],
  properties: { p50: { type: 'number' }, p95: { type: 'number' }, p99: { type: 'number' } },
} as const;
const counts = { type: 'object', additionalProperties: { type: 'number' } } as const;
const flags = {
  type: 'object', additionalProperties: false, required: ['under_voltage', 'freq_capped', 'throttled', 'soft_temp_limit'],
  properties: { under_voltage: { type: 'boolean' }, freq_capped: { type: 'boolean' }, throttled: { type: 'boolean' }, soft_temp_limit: { type: 'boolean' } },
} as const;

export const THERMAL_STATES = ['normal', 'soft', 'hard'] as const;

export const metricsSchema = {
  title: 'Metrics',
  type: 'object',
  additionalProperties: false,
  required: ['device', 'at', 'agent_version', 'uptime_s', 'board', 'throughput', 'memory', 'thermal', 'cpu'],
  properties: {
    device: { type: 'string', description: 'who sends it' },
    at: { type: 'string', description: "ISO 8601: when the sample was taken (the agent's clock)" },
    agent_version: { type: 'string', description: "the agent's version" },
    uptime_s: { type: 'number', description: 'seconds since the agent started' },
    system_uptime_s: { type: 'number', description: '`/proc/uptime`' },
    model: {
      type: 'object', additionalProperties: false, required: ['name'], description: '`name`, `version`, `dtype` of the loaded model',
      properties: { name: { type: 'string' }, version: { type: 'string' }, dtype: { type: 'string' } },
    },
    board: {
      type: 'object', additionalProperties: false, required: ['kind'],
      properties: {
        kind: { type: 'string', description: 'the sensor profile in use: `generic`, `raspberry-pi` or `jetson`' },
        model: { type: 'string', description: 'device-tree model (or DMI product name)' },
        power_mode: {
          type: 'object', additionalProperties: false, required: ['id'], description: 'Jetson nvpmodel mode (`/var/lib/nvpmodel/status`, names from `/etc/nvpmodel.conf`, else `nvpmodel -q`)',
          properties: { id: { type: 'integer' }, name: { type: 'string' } },
        },
      },
    },
    throughput: {
      type: 'object', additionalProperties: false, required: ['window_s', 'tasks', 'tasks_per_min', 'errors_by_code', 'rejections_by_code', 'rejections_total'],
      properties: {
        window_s: { type: 'number', description: 'the sliding window the figures below cover (300)' },
        tasks: { type: 'number', description: 'tasks the model serving now answered `ok` in the window: the task figures below count only its tasks, so a model switch starts them afresh (a rollout gate compares versions on their own evidence)' },
        tasks_per_min: { type: 'number', description: 'the same per minute' },
        errors_by_code: { ...counts, description: 'tasks that ran and ended in an error, by code, in the window' },
        rejections_by_code: { ...counts, description: 'tasks turned away before running (`busy`, `thermal_throttled`, `invalid_request`...), in the window' },
        rejections_total: { ...counts, description: 'the same since the agent started' },
        decode_tokens_per_s: { ...percentiles, description: "nearest-rank percentiles over the window's ok tasks; absent when no task finished in the window (so are the next three)" },
        prefill_tokens_per_s: { ...percentiles, description: 'prompt tokens per second' },
        first_token_ms: { ...percentiles, description: 'time to the first token' },
        latency_ms: { ...percentiles, description: "end to end, from the engine's `total_ms`" },
        joules_per_task: { type: 'number', description: 'energy (`power.board_w` integrated) during each task; boards with rails only' },
        joules_per_token: { type: 'number', description: 'the same per prompt + completion token' },
        queue_depth: { type: 'integer', description: 'tasks waiting' },
        running_tasks: { type: 'integer', description: 'tasks running now, sharing forward passes (at most `max_batch`)' },
        max_batch: { type: 'integer', description: 'tasks the loaded model runs at once (config `max_batch`, or 1 for a graph that cannot batch)' },
      },
    },
    memory: {
      type: 'object', additionalProperties: false, required: ['rss_bytes', 'heap_used_bytes', 'heap_total_bytes', 'native_bytes', 'external_bytes', 'state'],
      properties: {
        rss_bytes: { type: 'integer', description: "the process's resident memory (`VmRSS` of `/proc/self/status`)" },
        heap_used_bytes: { type: 'integer', description: 'V8 (`process.memoryUsage()`)' },
        heap_total_bytes: { type: 'integer', description: 'V8' },
        external_bytes: { type: 'integer', description: 'V8' },
        native_bytes: { type: 'integer', description: 'RSS outside the V8 heap: model weights, KV cache, onnxruntime arenas' },
        system_total_bytes: { type: 'integer', description: '`/proc/meminfo`' },
        system_available_bytes: { type: 'integer', description: '`/proc/meminfo`' },
        swap_total_bytes: { type: 'integer', description: '`/proc/meminfo`' },
        swap_used_bytes: { type: 'integer', description: '`/proc/meminfo`' },
        process_swap_bytes: { type: 'integer', description: '`VmSwap`' },
        state: { enum: ['normal', 'pressure'], description: 'pressure below 10% of RAM available, back to normal above 15%' },
      },
    },
    thermal: {
      type: 'object', additionalProperties: false, required: ['zones', 'guard'],
      properties: {
        zones: { ...counts, description: '°C per `/sys/class/thermal/thermal_zone*/type`' },
        guard: { enum: THERMAL_STATES, description: "the thermal guard's state" },
        hottest_c: { type: 'number', description: 'the hottest zone: what the thermal guard watches' },
        hottest_zone: { type: 'string', description: "the hottest zone's type" },
        hwmon: { ...counts, description: '°C per `<chip name>/<label or tempN>` from `/sys/class/hwmon`' },
        throttling: {
          type: 'object', additionalProperties: false, required: ['raw', 'now', 'since_boot'], description: 'Raspberry Pi `vcgencmd get_throttled`',
          properties: { raw: { type: 'string' }, now: flags, since_boot: flags },
        },
      },
    },
    cpu: {
      type: 'object', additionalProperties: false,
      properties: {
        load_1: { type: 'number', description: '`/proc/loadavg`' },
        load_5: { type: 'number', description: '`/proc/loadavg`' },
        load_15: { type: 'number', description: '`/proc/loadavg`' },
        freq_mhz: { ...counts, description: '`scaling_cur_freq` per core (a core with no cpufreq folder is left out)' },
        max_freq_mhz: { type: 'number', description: 'highest `cpuinfo_max_freq`' },
      },
    },
    power: {
      type: 'object', additionalProperties: false, required: ['rails'],
      properties: {
        rails: {
          type: 'object', description: 'by name, each `voltage_v`, `current_a`, `power_w` (= V × I): Jetson INA3221 rails, Raspberry Pi 5 PMIC rails',
          additionalProperties: {
            type: 'object', additionalProperties: false, required: ['voltage_v', 'current_a', 'power_w'],
            properties: { voltage_v: { type: 'number' }, current_a: { type: 'number' }, power_w: { type: 'number' } },
          },
        },
        board_w: { type: 'number', description: "the figure energy is counted from: the module's input rail on a Jetson, the PMIC rails summed on a Pi 5" },
        source: { type: 'string', description: '`VDD_IN` or `pmic_sum`' },
        energy_j: { type: 'number', description: 'joules of `board_w` since the agent started' },
      },
    },
  },
} as const;

export type MetricsMessage = FromSchema<typeof metricsSchema>;
export type ThermalState = (typeof THERMAL_STATES)[number];
