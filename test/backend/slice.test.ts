/**
 * advkit's wasm `Slice` (copied run by run from the heap) against the cpu
 * backend: contiguous and strided boxes, every rank up to 5, int32 and bool,
 * empty slices.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

const cases: [number[], number[], number[]][] = [
  [[10], [3], [4]],
  [
    [6, 5],
    [2, 0],
    [3, 5],
  ],
  [
    [6, 5],
    [1, 2],
    [4, 2],
  ],
  [
    [16, 7, 7, 3],
    [8, 0, 0, 0],
    [8, -1, -1, -1],
  ],
  [
    [4, 9, 8, 5],
    [1, 2, 3, 0],
    [2, 5, 4, 5],
  ],
  [
    [4, 9, 8, 5],
    [0, 0, 0, 1],
    [4, 9, 8, 3],
  ],
  [
    [3, 4, 5, 6, 2],
    [1, 1, 0, 2, 0],
    [2, 2, 5, 3, 2],
  ],
  [
    [5, 4],
    [2, 1],
    [0, 3],
  ],
];

test(`slice on wasm equals cpu over ${cases.length} boxes and three dtypes`, async () => {
  for (const [shape, begin, size] of cases) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      const f = () => {
        const x = tf.cast(tf.mul(tensor(shape, 41, -3, 3), 2), dtype);
        return tf.cast(tf.slice(x, begin, size), 'float32');
      };
      const wasm = await runOn('wasm', f);
      const cpu = await runOn('cpu', f);
      const what = `${dtype} ${shape} from ${begin} size ${size}`;
      assert.deepEqual(wasm.shapes, cpu.shapes, what);
      assert.deepEqual(Array.from(wasm.values[0]), Array.from(cpu.values[0]), what);
    }
  }
});
