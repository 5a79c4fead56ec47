/**
 * Memory pressure as a state with hysteresis, so the events topic hears when it
 * starts and stops rather than on every sample near the line. The default line
 * (10% of RAM available) is where a Pi starts to swap a 1.5B model's weights out.
 */
export type MemoryState = 'normal' | 'pressure';

export interface MemoryEvent {
  type: 'memory';
  from: MemoryState;
  to: MemoryState;
  at: number;
  available_bytes: number;
  total_bytes: number;
}

export class MemoryPressure {
  private current: MemoryState = 'normal';

  constructor(
    private readonly enterBelow = 0.1,
    private readonly leaveAbove = 0.15,
  ) {}

  get state(): MemoryState {
    return this.current;
  }

  update(at: number, available_bytes?: number, total_bytes?: number): MemoryEvent | undefined {
    if (available_bytes === undefined || !total_bytes) return undefined;
    const share = available_bytes / total_bytes;
    const from = this.current;
    const to: MemoryState =
      from === 'normal' ? (share < this.enterBelow ? 'pressure' : 'normal') : share > this.leaveAbove ? 'normal' : 'pressure';
    if (to === from) return undefined;
    this.current = to;
    return { type: 'memory', from, to, at, available_bytes, total_bytes };
  }
}
