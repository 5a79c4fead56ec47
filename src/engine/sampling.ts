/**
 * Logits processing and token choice: repetition penalty, temperature,
 * top-k, top-p and a seedable generator, so a seed makes sampling repeat.
 */

/** sfc32: small, fast and good enough for token sampling; fully determined by the seed. */
export function createRng(seed: number): () => number {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next(); // let the seed spread through the state
  return next;
}

export interface SamplingParams {
  temperature: number;
  top_k: number;
  top_p: number;
  repetition_penalty: number;
}

/** The CTRL / Hugging Face rule: divide positive logits, multiply negative ones. */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  if (penalty === 1) return;
  for (const id of new Set(seen)) {
    const v = logits[id];
    if (v !== undefined) logits[id] = v > 0 ? v / penalty : v * penalty;
  }
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] > max) {
      max = logits[i];
      best = i;
    }
  }
  return best;
}

/**
 * Logits more than this far below the best have probability under e^-30 at
 * T=1 (under 1e-8 in all, even for a 150k vocabulary), so leaving them out
 * of the sort changes nothing a sampler could see and saves sorting the vocab.
 */
const NEGLIGIBLE = 30;

export function sampleToken(logits: Float32Array, p: SamplingParams, rng: () => number): number {
  if (p.temperature <= 0) return argmax(logits);
  const max = logits[argmax(logits)];
  const floor = max - NEGLIGIBLE * p.temperature;
  let ids: number[] = [];
  for (let i = 0; i < logits.length; i++) if (logits[i] >= floor) ids.push(i);
  ids.sort((x, y) => logits[y] - logits[x] || x - y);
  if (p.top_k > 0 && ids.length > p.top_k) ids = ids.slice(0, p.top_k);

  const probs = ids.map((id) => Math.exp((logits[id] - max) / p.temperature));
  let total = probs.reduce((s, v) => s + v, 0);
  if (p.top_p > 0 && p.top_p < 1) {
    let cum = 0;
    let keep = probs.length;
    for (let i = 0; i < probs.length; i++) {
      cum += probs[i] / total;
      if (cum >= p.top_p) {
        keep = i + 1;
        break;
      }
    }
    probs.length = keep;
    ids.length = keep;
    total = probs.reduce((s, v) => s + v, 0);
  }
  let r = rng() * total;
  for (let i = 0; i < probs.length; i++) {
    r -= probs[i];
    if (r < 0) return ids[i];
  }
  return ids[ids.length - 1];
}
