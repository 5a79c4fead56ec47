/**
 * The one file that imports onnxruntime-node. Everything else sees a session
 * as names, metadata and a run() over plain tensors.
 */
import os from 'node:os';
import ort from 'onnxruntime-node';
import { ReasondError } from '../core/errors.js';
import type { SessionSettings } from './types.js';

export type TensorType = 'float32' | 'float16' | 'int64' | 'int32' | 'bool' | 'uint8' | 'int8' | string;
export type TensorData = Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array | Int8Array;

export interface Tensor {
  readonly type: TensorType;
  readonly dims: readonly number[];
  readonly data: TensorData | unknown;
  dispose?: () => void;
}

export interface IoMeta {
  name: string;
  type: TensorType;
  /** Numbers for fixed dims, strings for symbolic ones. */
  shape: (number | string)[];
}

export interface OnnxSession {
  inputs: IoMeta[];
  outputs: IoMeta[];
  executionProvider: string;
  threads: number;
  run(feeds: Record<string, Tensor>, outputNames?: string[]): Promise<Record<string, Tensor>>;
  release(): Promise<void>;
}

export function makeTensor(type: TensorType, data: TensorData, dims: number[]): Tensor {
  return new ort.Tensor(type as any, data as any, dims);
}

function meta(list: readonly ort.InferenceSession.ValueMetadata[], names: readonly string[]): IoMeta[] {
  return names.map((name, i) => {
    const m = list[i] as any;
    return { name, type: m?.isTensor ? m.type : 'unknown', shape: m?.isTensor ? [...m.shape] : [] };
  });
}

type Logger = (line: string) => void;

/**
 * Opens a session, trying the configured execution providers in order and
 * falling back to CPU with a logged line (the prebuilt arm64 binaries are CPU-only).
 */
export async function openSession(path: string, settings: SessionSettings = {}, log: Logger = () => {}): Promise<OnnxSession> {
  const threads = settings.threads && settings.threads > 0 ? settings.threads : os.availableParallelism();
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    // 'parallel' measured much slower here; sequential is ORT's default anyway.
    executionMode: 'sequential',
    graphOptimizationLevel: settings.graph_optimization ?? 'all',
  };
  const wanted = (settings.execution_providers ?? ['cpu']).filter((p) => p !== 'cpu');
  let lastError: unknown;
  for (const ep of [...wanted, 'cpu']) {
    try {
      const session = await ort.InferenceSession.create(path, { ...base, executionProviders: [ep] });
      return {
        inputs: meta(session.inputMetadata, session.inputNames),
        outputs: meta(session.outputMetadata, session.outputNames),
        executionProvider: ep,
        threads,
        run: (feeds, outputNames) =>
          (outputNames ? session.run(feeds as any, outputNames) : session.run(feeds as any)) as Promise<Record<string, Tensor>>,
        release: () => session.release(),
      };
    } catch (e) {
      lastError = e;
      if (ep !== 'cpu') log(`execution provider ${ep} failed to load (${(e as Error).message.split('\n')[0]}); falling back`);
    }
  }
  throw new ReasondError('model_invalid', `onnxruntime could not load ${path}: ${(lastError as Error)?.message ?? lastError}`, {
    cause: lastError,
  });
}

export function onnxRuntimeVersion(): string {
  return (ort.env as any).versions?.common ?? 'unknown';
}

/**
 * Opens the model once with each execution provider this onnxruntime build
 * lists and reports which really load (`reasond doctor`, issue 8): a provider
 * can be listed yet miss its CUDA/TensorRT libraries on the board.
 */
export async function probeExecutionProviders(path: string): Promise<{ name: string; loads: boolean; error?: string }[]> {
  const listed: { name: string }[] = (ort as any).listSupportedBackends?.() ?? [{ name: 'cpu' }];
  // The native logger would print its own 'Failed to load library' lines into the doctor's report;
  // the reasons are in the exceptions below. onnxruntime reads the level when its first session is made.
  ort.env.logLevel = 'fatal';
  const out: { name: string; loads: boolean; error?: string }[] = [];
  for (const { name } of listed) {
    try {
      const session = await ort.InferenceSession.create(path, { executionProviders: [name], intraOpNumThreads: 1 });
      await session.release();
      out.push({ name, loads: true });
    } catch (e) {
      out.push({ name, loads: false, error: (e as Error).message.split('\n')[0] });
    }
  }
  return out;
}
