/**
 * advkit's wasm `Tile` (block copies) against the cpu backend: a
 * per-example mask broadcast over an NHWC batch (what `tf.broadcastTo`
 * makes for the attacks' per-example choices), tiling on every axis, rank 1
 * and 5, no tiling at all, an empty input; float32, int32 and bool.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

const cases: [number[], number[]][] = [
  [
    [64, 1, 1, 1],
    [1, 28, 28, 1],
  ],
  [
    [2, 3],
    [3, 2],
  ],
  [[5], [4]],
  [
    [2, 1, 3, 1, 2],
    [1, 4, 1, 3, 2],
  ],
  [
    [3, 4],
    [1, 1],
  ],
  [
    [2, 0, 3],
    [2, 2, 2],
  ],
];

test(`tile on wasm equals cpu over ${cases.length} shapes and three dtypes`, async () => {
  for (const [shape, reps] of cases) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const f = () => {
        const x = tf.cast(tf.mul(tensor(shape, 43, -3, 3), 2), dtype);
        return tf.cast(tf.tile(x, reps), 'float32');
      };
      const wasm = await runOn('wasm', f);
      const cpu = await runOn('cpu', f);
      const what = `${dtype} ${shape} tiled ${reps}`;
      assert.deepEqual(wasm.shapes, cpu.shapes, what);
      assert.deepEqual(Array.from(wasm.values[0]), Array.from(cpu.values[0]), what);
    }
  }
  await tf.setBackend('wasm');
});

test('broadcastTo and where over a per-example mask, as the attacks use them', async () => {
  const f = () => {
    const mask = tf.tensor1d([1, 0, 1], 'bool').reshape([3, 1, 1, 1]);
    const a = tensor([3, 4, 5, 2], 44);
    const b = tensor([3, 4, 5, 2], 45);
    return tf.where(tf.broadcastTo(mask, a.shape), a, b);
  };
  const wasm = await runOn('wasm', f);
  const cpu = await runOn('cpu', f);
  assert.deepEqual(Array.from(wasm.values[0]), Array.from(cpu.values[0]), 'where');
  await tf.setBackend('wasm');
});
