/**
 * The fleet's recent events (issue 20): what an operator acts on, from every device's events
 * topic, each with a one-line summary for the dashboard. Bodies are read through the schemas
 * src/protocol declares (#19), not by hand; one that does not match is listed as such rather than
 * dropped, so a misbehaving agent shows. Download percents are thinned by the registry's query.
 */
import type { FromSchema } from 'json-schema-to-ts';
import {
  boardThrottlingSchema, checker, jobAlertEventSchema, memoryEventSchema, modelUpdateSchema, taskRejectedSchema, thermalEventSchema,
  type Checker, type JobAlertEvent, type ModelUpdateEvent, type TaskRejectedEvent,
} from '../protocol/index.js';
import { fullReason, type StoredEvent } from './registry.js';

type ThermalEvent = FromSchema<typeof thermalEventSchema>;
type BoardThrottlingEvent = FromSchema<typeof boardThrottlingSchema>;
type MemoryEvent = FromSchema<typeof memoryEventSchema>;

export interface FleetEvent {
  device: string;
  /** The controller's clock at receipt (epoch ms), as everywhere in the registry. */
  at: number;
  type: string;
  summary: string;
  /** The agent's message as it was published. */
  event: unknown;
}

const MIB = 1048576;
const mib = (bytes: number) => (bytes >= 1024 * MIB ? `${(bytes / 1024 / MIB).toFixed(1)} GiB` : `${Math.round(bytes / MIB)} MiB`);
const oneLine = (s: string, max = 120) => {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1).trimEnd()}…` : line;
};

/** One listed type: its body checked against its protocol schema, then read in one line. */
function kind<T>(type: string, schema: object, summary: (e: T) => string): (e: unknown) => string {
  const check: Checker<T> = checker<T>(schema, `the ${type} event`);
  return (e) => (check(e) ? summary(e) : `(does not match the ${type} schema: ${check.problems().join('; ')})`);
}

const summaries: Record<string, (e: unknown) => string> = {
  model_update: kind<ModelUpdateEvent>('model_update', modelUpdateSchema, (e) => {
    const percent = e.state === 'downloading' && e.percent !== undefined ? ` ${Math.round(e.percent)}%` : '';
    const why = fullReason(e);
    const serving = e.state === 'rolled_back' && e.to !== undefined ? ` (now serving ${e.to ?? 'the configured model'})` : '';
    return `${e.name}@${e.version} ${e.state}${percent}${why ? `: ${why}` : ''}${serving}`;
  }),
  thermal: kind<ThermalEvent>('thermal', thermalEventSchema, (e) => {
    const temp = e.temp_c === undefined ? '' : `, ${e.temp_c.toFixed(1)} °C${e.zone ? ` on ${e.zone}` : ''}`;
    return `${e.from} → ${e.to} (${e.reason}${temp})`;
  }),
  board_throttling: kind<BoardThrottlingEvent>('board_throttling', boardThrottlingSchema, (e) => {
    // the flags as the agent reads them from the firmware (telemetry/sensors/readings.ts ThrottleFlags)
    const set = (f: Record<string, unknown>) => Object.keys(f).filter((k) => f[k] === true).join(', ') || 'none';
    return `firmware flags now: ${set(e.now)}; since boot: ${set(e.since_boot)}`;
  }),
  memory: kind<MemoryEvent>('memory', memoryEventSchema, (e) => `${e.from} → ${e.to}: ${mib(e.available_bytes)} of ${mib(e.total_bytes)} available`),
  task_rejected: kind<TaskRejectedEvent>('task_rejected', taskRejectedSchema, (e) => `${e.error.code}: ${e.error.message}${e.id ? ` (task ${e.id})` : ''}`),
  job_alert: kind<JobAlertEvent>('job_alert', jobAlertEventSchema, (e) => `${e.job} raised ${e.rule} (run ${e.run_id}): ${e.answer}`),
};

/** The event types the list shows; the registry keeps others (device/show) but they do not make the list. */
export const FLEET_EVENT_TYPES = Object.keys(summaries);

/** One stored event as the list shows it. */
export function fleetEvent(row: StoredEvent): FleetEvent {
  const event: unknown = JSON.parse(row.body);
  const summary = summaries[row.type]?.(event) ?? `(${row.type} is not listed)`;
  return { device: row.device, at: row.at, type: row.type, summary: oneLine(summary), event };
}
