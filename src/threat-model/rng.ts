/**
 * Seeded, per-example randomness. Every random quantity an attack draws for
 * example i depends only on (seed, i, stream), never on the batch it travels
 * in, so a batched run equals the per-example runs.
 */

import { describeValue, InputError } from '../errors.js';

/** The largest seed: seeds are 32-bit, and a larger one would silently act as another. */
export const MAX_SEED = 2 ** 32 - 1;

/**
 * `seed` checked to be an integer in [0, 2³² − 1]: 1e30, 2³², 0.5 and NaN
 * would otherwise all act as some other seed without a word.
 */
export function checkSeed(seed: unknown, name = 'seed'): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new InputError(
      'INVALID_OPTION',
      `${name} must be an integer from 0 to ${MAX_SEED} (2³² − 1); received ${describeValue(seed)}`,
    );
  }
  return seed;
}

function mix32(a: number): number {
  let h = a | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal. */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
}

/** mulberry32: small, fast and good enough for attack starts and target draws. */
export function createRng(seed: number): Rng {
  let s = seed >>> 0;
  let spare: number | undefined;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    normal() {
      if (spare !== undefined) {
        const v = spare;
        spare = undefined;
        return v;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    int(n: number) {
      return Math.min(n - 1, Math.floor(next() * n));
    },
  };
}

/** Named streams keep unrelated draws (start noise, targets, restarts) independent. */
export const Stream = { start: 1, target: 2, noise: 3 } as const;

export function exampleRng(seed: number, index: number, stream: number, round = 0): Rng {
  return createRng(mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ index) ^ (stream * 7919 + round)));
}
