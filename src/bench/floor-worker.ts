/**
 * The floor in a worker thread of its own (issue 9): the engine generates in
 * a worker, so the floor does too. On the bench's main thread it shared a heap
 * with transformers.js and the in-process engine, and paid for their garbage
 * collection on every step's fresh present.* buffers.
 */
import { workerData } from 'node:worker_threads';
import { Floor } from './floor.js';
import { serveCalls } from './worker-rpc.js';

const { file, threads, eos, delta } = workerData as { file: string; threads: number; eos: number[]; delta?: { chunk: number; capacity: number } };
const floor = new Floor(file, threads, eos, delta);

serveCalls({
  start: () => floor.start(),
  stop: () => floor.stop(),
  generate: (m: { ids: number[]; maxNew: number }) => floor.generate(m.ids, m.maxNew),
  fetchCost: (m: { context: number; reps: number }) => floor.fetchCost(m.context, m.reps),
  batchedStep: (m: { ids: number[]; rows: number; steps: number }) => floor.batchedStep(m.ids, m.rows, m.steps),
});
