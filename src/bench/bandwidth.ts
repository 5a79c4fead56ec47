/**
 * The physical limit of a decode step (issue 13). Decoding one token reads
 * every weight once (bar the embedding table, of which it gathers one row)
 * plus the KV cache, so tokens/s cannot exceed the machine's read bandwidth
 * divided by those bytes. The bandwidth is measured the way a step reads:
 * onnxruntime summing a 1 GiB float vector with the bench's threads (a
 * read-only pass; memcpy's figure is lower, it also writes).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { decodeModel, Graph, reduceSumModel } from '../engine/onnx-graph.js';
import { makeTensor, openSession } from '../engine/onnx-session.js';

export interface Bandwidth {
  bytes: number;
  threads: number;
  /** Median of the passes, GB/s (10^9 bytes). */
  read_gb_s: number;
}

export async function readBandwidth(threads: number, bytes = 2 ** 30, passes = 7): Promise<Bandwidth> {
  const dir = mkdtempSync(join(os.tmpdir(), 'reasond-bandwidth-'));
  const path = join(dir, 'reduce-sum.onnx');
  writeFileSync(path, reduceSumModel());
  const session = await openSession(path, { threads });
  try {
    const x = new Float32Array(bytes / 4).fill(1);
    const rows = 64;
    const feeds = { x: makeTensor('float32', x, [rows, x.length / rows]) };
    await session.run(feeds);
    const rates: number[] = [];
    for (let i = 0; i < passes; i++) {
      const t0 = performance.now();
      await session.run(feeds);
      rates.push(bytes / ((performance.now() - t0) / 1000) / 1e9);
    }
    rates.sort((a, b) => a - b);
    return { bytes, threads: session.threads, read_gb_s: Math.round(rates[rates.length >> 1] * 10) / 10 };
  } finally {
    await session.release();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface StepBytes {
  /** Weights a decode step reads: every initializer except tables only gathered from. */
  weights: number;
  /** Tables only gathered from (the embedding), of which a step reads one row. */
  gathered: number;
  /** KV cache bytes per position (all layers, keys and values, fp32). */
  kv_per_position: number;
}

export function stepBytes(file: string, layers: number, kvHeads: number, headDim: number): StepBytes {
  const g = new Graph(decodeModel(readFileSync(file)));
  let weights = 0;
  let gathered = 0;
  for (const [name, size] of g.initializerBytes()) {
    const users = g.consumersOf(name);
    if (users.length > 0 && users.every((n) => n.opType === 'Gather')) gathered += size;
    else weights += size;
  }
  return { weights, gathered, kv_per_position: layers * 2 * kvHeads * headDim * 4 };
}

/** Tokens/s the bandwidth allows at a given context. */
export const ceilingTokensPerS = (bw: Bandwidth, b: StepBytes, context: number): number => (bw.read_gb_s * 1e9) / (b.weights + b.kv_per_position * context);
