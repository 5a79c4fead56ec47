/**
 * Finds the external-data `location`s an ONNX model names, by walking just
 * the protobuf fields that can hold a TensorProto (no protobuf dependency).
 * Field numbers are onnx.proto3's:
 *   ModelProto.graph 7, .functions 25; FunctionProto.node 7;
 *   GraphProto.node 1, .initializer 5, .sparse_initializer 15;
 *   NodeProto.attribute 5; AttributeProto.t 5, .g 6, .tensors 10, .graphs 11,
 *   .sparse_tensor 22, .sparse_tensors 23; SparseTensorProto.values 1, .indices 2;
 *   TensorProto.external_data 13 (StringStringEntryProto key 1, value 2).
 * onnxruntime opens such a location relative to the model file, so one that
 * is absolute or climbs out with `..` would read any file on the board.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { PackageError } from './errors.js';

type Kind = 'model' | 'function' | 'graph' | 'node' | 'attribute' | 'sparse' | 'tensor' | 'entry';

/** For each message kind: which field numbers hold which nested kind. */
const NESTED: Record<Kind, Record<number, Kind>> = {
  model: { 7: 'graph', 25: 'function' },
  function: { 7: 'node' },
  graph: { 1: 'node', 5: 'tensor', 15: 'sparse' },
  node: { 5: 'attribute' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph', 22: 'sparse', 23: 'sparse' },
  sparse: { 1: 'tensor', 2: 'tensor' },
  tensor: { 13: 'entry' },
  entry: {},
};

/** Positioned reads, so a 1 GB single-file model is walked without loading it (raw_data is skipped). */
export interface ByteSource {
  length: number;
  read(pos: number, len: number): Buffer;
}

export const bufferSource = (buf: Buffer): ByteSource => ({ length: buf.length, read: (pos, len) => buf.subarray(pos, pos + len) });

export function fileSource(fd: number, length: number): ByteSource {
  return {
    length,
    read(pos, len) {
      const out = Buffer.alloc(Math.min(len, length - pos));
      readSync(fd, out, 0, out.length, pos);
      return out;
    },
  };
}

function varint(src: ByteSource, pos: number, end: number): [number, number] {
  const bytes = src.read(pos, Math.min(10, end - pos));
  let value = 0;
  let mul = 1;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    value += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [value, pos + i + 1];
    mul *= 128;
  }
  throw new Error('truncated or overlong varint');
}

function walk(src: ByteSource, start: number, end: number, kind: Kind, out: string[], depth: number): void {
  if (depth > 64) throw new Error('graphs nested deeper than 64 levels');
  let pos = start;
  let key: string | undefined;
  let value: string | undefined;
  while (pos < end) {
    let tag: number;
    [tag, pos] = varint(src, pos, end);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) [, pos] = varint(src, pos, end);
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      let len: number;
      [len, pos] = varint(src, pos, end);
      if (pos + len > end) throw new Error(`field ${field} runs past the end of its message`);
      if (kind === 'entry' && field === 1) key = src.read(pos, len).toString('utf8');
      else if (kind === 'entry' && field === 2) value = src.read(pos, len).toString('utf8');
      else if (NESTED[kind][field]) walk(src, pos, pos + len, NESTED[kind][field], out, depth + 1);
      pos += len;
    } else throw new Error(`unsupported protobuf wire type ${wire}`);
  }
  if (pos !== end) throw new Error('a field runs past the end of its message');
  if (kind === 'entry' && key === 'location' && value !== undefined) out.push(value);
}

/** Every external-data location in the model, as written in the file. */
export function externalDataLocations(src: ByteSource, where: string): string[] {
  const out: string[] = [];
  try {
    walk(src, 0, src.length, 'model', out, 0);
  } catch (e) {
    throw new PackageError('manifest_invalid', `${where} is not a readable ONNX model: ${(e as Error).message}`);
  }
  return [...new Set(out)];
}

/** Reads the locations of an ONNX file on disk. */
export function externalDataOfFile(path: string): string[] {
  const fd = openSync(path, 'r');
  try {
    return externalDataLocations(fileSource(fd, fstatSync(fd).size), path);
  } finally {
    closeSync(fd);
  }
}
