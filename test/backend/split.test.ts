/**
 * advkit's wasm `SplitV` (one advkit Slice per part) against the cpu
 * backend: equal parts and given sizes (with −1), every axis, negative axes,
 * int32 and bool; and the gradient of `concat`, which is a split.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { assertWasmMatchesCpu, runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

const cases: [number[], number | number[], number][] = [
  [[8, 3, 3, 4], 4, 0],
  [[2, 5, 4, 6], [2, 1, 3], 3],
  [[2, 5, 4, 6], [1, -1, 2], -1],
  [[3, 7, 2], [3, 4], 1],
  [[12], 3, 0],
];

test(`split on wasm equals cpu over ${cases.length} splits and three dtypes`, async () => {
  for (const [shape, splits, axis] of cases) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const f = () => {
        const x = tf.cast(tf.mul(tensor(shape, 43, -3, 3), 2), dtype);
        return tf.split(x, splits, axis).map((t) => tf.cast(t, 'float32'));
      };
      const wasm = await runOn('wasm', f);
      const cpu = await runOn('cpu', f);
      const what = `${dtype} ${shape} split ${JSON.stringify(splits)} on axis ${axis}`;
      assert.deepEqual(wasm.shapes, cpu.shapes, what);
      assert.deepEqual(
        wasm.values.map((v) => Array.from(v)),
        cpu.values.map((v) => Array.from(v)),
        what,
      );
    }
  }
});

test('the gradient of a channel concat on wasm equals cpu', async () => {
  await assertWasmMatchesCpu('concat gradient', () => {
    const a = tensor([2, 4, 4, 3], 44);
    const b = tensor([2, 4, 4, 5], 45);
    const w = tensor([2, 4, 4, 8], 46);
    return tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.concat([p, q], 3), w)))([
      a,
      b,
    ]);
  });
});
