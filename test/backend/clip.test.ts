/**
 * advkit's wasm `ClipByValue` (SIMD on the main thread, for tensors up to
 * CLIP_ON_MAIN_THREAD_MAX values) against the cpu backend, value for
 * value: NaN, −0, infinities, values at and beyond both bounds, equal
 * bounds, an odd length; and a tensor over the limit (XNNPACK's kernel,
 * which sends NaN to the lower bound and −0 to +0: no NaN there, and zeros
 * of either sign equal).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { CLIP_ON_MAIN_THREAD_MAX } from '../../src/backend/clip.js';
import { setBackend } from '../../src/backend/index.js';
import { runOn, seeded } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

const special = [Number.NaN, 0, -0, Infinity, -Infinity, -1, 1, 0.25, 0.75, 1e-40, -1e-40];

test('clipByValue on wasm equals cpu, NaN and −0 passed through', async () => {
  for (const n of [1001, CLIP_ON_MAIN_THREAD_MAX + 5]) {
    const v = seeded(n, 71, -2, 2);
    v.set(n > CLIP_ON_MAIN_THREAD_MAX ? special.slice(1) : special, 3);
    for (const [lo, hi] of [
      [0, 1],
      [-0.5, 0.25],
      [0.25, 0.25],
    ]) {
      const f = () => tf.clipByValue(tf.tensor(v), lo, hi);
      const wasm = await runOn('wasm', f);
      const cpu = await runOn('cpu', f);
      const [a, b] = [wasm.values[0], cpu.values[0]];
      const same = n > CLIP_ON_MAIN_THREAD_MAX ? (p: number, q: number) => p === q : Object.is;
      for (let i = 0; i < n; i++)
        if (!same(a[i], b[i]))
          assert.fail(`${n} values, [${lo}, ${hi}]: element ${i} is ${a[i]}, cpu gives ${b[i]}`);
    }
  }
  await tf.setBackend('wasm');
});
