/**
 * The floor in a worker thread of its own (issue 9): the engine generates in
 * a worker, so the floor does too. On the bench's main thread it shared a heap
 * with transformers.js and the in-process engine, and paid for their garbage
 * collection on every step's fresh present.* buffers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FloorCall, FloorReply } from './floor-calls.js';
import { Floor } from './floor.js';

const { file, threads, eos } = workerData as { file: string; threads: number; eos: number[] };
const floor = new Floor(file, threads, eos);
const port = parentPort!;

port.on('message', async (m: FloorCall) => {
  try {
    let value: unknown;
    if (m.op === 'start') value = await floor.start();
    else if (m.op === 'stop') value = await floor.stop();
    else if (m.op === 'generate') value = await floor.generate(m.ids, m.maxNew);
    else if (m.op === 'fetchCost') value = await floor.fetchCost(m.context, m.reps);
    port.postMessage({ id: m.id, value } satisfies FloorReply);
  } catch (e) {
    port.postMessage({ id: m.id, error: (e as Error).message } satisfies FloorReply);
  }
});
