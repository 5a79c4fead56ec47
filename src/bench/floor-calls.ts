/** The messages between the floor (floor.ts) and its worker thread (floor-worker.ts), apart so neither imports the other (#19). */
export type FloorCall = { id: number; op: 'start' } | { id: number; op: 'stop' } | { id: number; op: 'generate'; ids: number[]; maxNew: number } | { id: number; op: 'fetchCost'; context: number; reps: number };
export type FloorReply = { id: number; value?: unknown; error?: string };
