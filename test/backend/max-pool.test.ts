/**
 * advkit's wasm MaxPoolGrad against the cpu backend, over paddings, strides,
 * overlapping windows and windows whose values are all negative — the case
 * TF.js 4.22's wasm kernel gets wrong.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { assertWasmMatchesCpu, runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

interface Case {
  x: [number, number, number, number];
  f: number;
  stride: number;
  pad: 'same' | 'valid';
  lo: number;
  hi: number;
}

const cases: Case[] = [];
for (const x of [
  [1, 4, 4, 1],
  [2, 7, 5, 3],
  [3, 9, 8, 5],
  // Channels a multiple of 4: the SIMD kernel for 2×2 windows.
  [2, 6, 7, 8],
] as [number, number, number, number][]) {
  for (const [f, stride] of [
    [2, 2],
    [3, 2],
    [3, 1],
    [2, 1],
    [3, 3],
  ]) {
    for (const pad of ['same', 'valid'] as const) {
      for (const [lo, hi] of [
        [-1, 1],
        [-5, -1],
      ]) {
        cases.push({ x, f, stride, pad, lo, hi });
      }
    }
  }
}

test(`max pool gradient on wasm equals cpu over ${cases.length} cases`, async () => {
  for (const c of cases) {
    const what = `x ${c.x} f ${c.f} s ${c.stride} ${c.pad} values [${c.lo}, ${c.hi})`;
    await assertWasmMatchesCpu(what, () => {
      const x = tensor(c.x, 21, c.lo, c.hi);
      const dyScale = tensor([1, 1, 1, c.x[3]], 22, 0.5, 2);
      const f = (a: tf.Tensor) =>
        tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.f, c.stride, c.pad), dyScale));
      return tf.grad(f)(x);
    });
  }
});

test('all-negative windows: the gradient goes to each window maximum (hand-worked)', async () => {
  // x (1×2×4×1) = [[-3, -1, -7, -2], [-4, -5, -6, -8]], 2×2 windows, stride 2:
  // maxima −1 at (0,1) and −2 at (0,3); dy = [10, 20].
  const { values } = await runOn('wasm', () => {
    const x = tf.tensor4d([-3, -1, -7, -2, -4, -5, -6, -8], [1, 2, 4, 1]);
    const dy = tf.tensor4d([10, 20], [1, 1, 2, 1]);
    return tf.grad((a: tf.Tensor) =>
      tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 2, 2, 'valid'), dy)),
    )(x);
  });
  assert.deepEqual(Array.from(values[0]), [0, 10, 0, 20, 0, 0, 0, 0]);
});

test('overlapping windows add their gradients at a shared maximum', async () => {
  // 1×1×4 row [1, 9, 2, 3], window 1×3, stride 1: both windows pick the 9.
  const { values } = await runOn('wasm', () => {
    const x = tf.tensor4d([1, 9, 2, 3], [1, 1, 4, 1]);
    return tf.grad((a: tf.Tensor) => tf.sum(tf.maxPool(a as tf.Tensor4D, [1, 3], 1, 'valid')))(x);
  });
  assert.deepEqual(Array.from(values[0]), [0, 2, 0, 0]);
});

test('max pool gradient with ties (quantised values, relu zeros) goes to the first maximum, as on cpu', async () => {
  for (const [f, stride, pad] of [
    [2, 2, 'valid'],
    [3, 3, 'valid'],
    [3, 3, 'same'],
    [3, 2, 'same'],
    // ResNet's stem pool (3×3, stride 2, pad 1): SIMD windows with padding.
    [3, 2, 1],
  ] as const) {
    await assertWasmMatchesCpu(`ties f ${f} s ${stride} ${pad}`, () => {
      // Values in {0, 0.5, 1} after a relu: most windows hold several equal maxima.
      const x = tf.relu(tf.div(tf.round(tf.mul(tensor([2, 8, 9, 4], 31, -1, 1), 2)), 2));
      const dyScale = tensor([1, 1, 1, 4], 32, 0.5, 2);
      const g = (a: tf.Tensor) =>
        tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, f, stride, pad), dyScale));
      return tf.grad(g)(x);
    });
  }
});
