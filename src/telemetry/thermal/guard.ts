/**
 * The thermal guard (#5): a pure state machine. Each sensor reading goes in, the
 * new state and an event (when the state changed) come out; the agent applies the
 * policy of the state. Hysteresis keeps a board that hovers at a limit from
 * flapping: a state is left only once the temperature is `hysteresis_c` below the
 * limit that entered it.
 *
 *   normal --t >= soft or board flags--> soft --t >= hard--> hard
 *   hard --t < hard - h--> soft (or normal if also t < soft - h)
 *   soft --t < soft - h and no board flags--> normal
 */
import type { ThrottleFlags } from '../sensors/readings.js';

import type { ThermalState } from '../../protocol/index.js';

export type { ThermalState };

export interface GuardLimits {
  soft_c: number;
  hard_c: number;
  hysteresis_c: number;
}

export interface GuardInput {
  /** Epoch ms of the reading. */
  at: number;
  /** The hottest zone; undefined when the board has no temperature sensor. */
  temp_c?: number;
  zone?: string;
  /** The firmware's own flags, now (Raspberry Pi). */
  board_flags?: ThrottleFlags;
}

export type GuardReason = 'temperature' | 'board_throttling' | 'cooled';

export interface ThermalEvent {
  type: 'thermal';
  from: ThermalState;
  to: ThermalState;
  reason: GuardReason;
  at: number;
  temp_c?: number;
  zone?: string;
  limits: GuardLimits;
}

const RANK: Record<ThermalState, number> = { normal: 0, soft: 1, hard: 2 };

// Temperature decides hard. The firmware flags only ever make us soft: "throttled"
// is also set by under-voltage, and the firmware already slows the clocks itself;
// our part is to stop adding heat, not to refuse work the board can still do.
const boardThrottling = (f: ThrottleFlags | undefined) => !!f && (f.throttled || f.freq_capped || f.soft_temp_limit);

export function validateLimits(l: GuardLimits): string[] {
  const errors: string[] = [];
  if (!(l.soft_c < l.hard_c)) errors.push(`thermal_soft_c (${l.soft_c}) must be below thermal_hard_c (${l.hard_c})`);
  if (!(l.hysteresis_c >= 0)) errors.push(`thermal_hysteresis_c must be 0 or more, got ${l.hysteresis_c}`);
  return errors;
}

/** The state a reading leads to from `state`. */
export function nextState(state: ThermalState, input: GuardInput, l: GuardLimits): ThermalState {
  const t = input.temp_c;
  const flags = boardThrottling(input.board_flags);
  // no sensor: stay where we are rather than guess; flags alone can still say soft
  if (t === undefined) return flags && state === 'normal' ? 'soft' : state;
  if (t >= l.hard_c) return 'hard';
  const hotSoft = t >= l.soft_c || flags;
  if (state === 'hard') {
    if (t >= l.hard_c - l.hysteresis_c) return 'hard';
    return t >= l.soft_c - l.hysteresis_c || flags ? 'soft' : 'normal';
  }
  if (state === 'soft') return hotSoft || t >= l.soft_c - l.hysteresis_c ? 'soft' : 'normal';
  return hotSoft ? 'soft' : 'normal';
}

export class ThermalGuard {
  private current: ThermalState = 'normal';
  private lastInput: GuardInput | undefined;

  constructor(private readonly limits: GuardLimits) {}

  get state(): ThermalState {
    return this.current;
  }

  get last(): GuardInput | undefined {
    return this.lastInput;
  }

  /** Feeds one reading; returns the event when the state changed. */
  update(input: GuardInput): ThermalEvent | undefined {
    this.lastInput = input;
    const from = this.current;
    const to = nextState(from, input, this.limits);
    if (to === from) return undefined;
    this.current = to;
    const reason: GuardReason =
      RANK[to] < RANK[from]
        ? 'cooled'
        : input.temp_c !== undefined && input.temp_c >= (to === 'hard' ? this.limits.hard_c : this.limits.soft_c)
          ? 'temperature'
          : 'board_throttling';
    const event: ThermalEvent = { type: 'thermal', from, to, reason, at: input.at, limits: { ...this.limits } };
    if (input.temp_c !== undefined) event.temp_c = input.temp_c;
    if (input.zone !== undefined) event.zone = input.zone;
    return event;
  }
}
