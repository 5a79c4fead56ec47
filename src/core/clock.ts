/** The clock every part is handed (STYLE rule 3), so tests control time instead of waiting for it. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };
