/** HTTP Range (RFC 9110 §14) for one byte range; multipart ranges are not needed by the downloader. */
export type RangeResult = { start: number; end: number } | 'none' | 'unsatisfiable';

export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return 'none';
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return 'none'; // a malformed or multi-range header is ignored, as the RFC allows
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}
