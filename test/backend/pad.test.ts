/**
 * advkit's wasm `PadV2` (one pass over the output, run by run) against the
 * cpu backend: spatial padding of an NHWC batch, padding on the batch and
 * channel axes, rank 1 and 6 (the strided input gradient's spreading), no
 * padding, an empty input; float32, int32 and bool; a constant other than 0.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

const cases: [number[], [number, number][]][] = [
  [
    [3, 5, 4, 1],
    [
      [0, 0],
      [0, 2],
      [0, 2],
      [0, 0],
    ],
  ],
  [
    [2, 3, 4, 5],
    [
      [1, 1],
      [2, 0],
      [0, 3],
      [2, 1],
    ],
  ],
  [[7], [[3, 2]]],
  [
    [2, 3, 1, 4, 1, 2],
    [
      [0, 0],
      [0, 0],
      [0, 1],
      [0, 0],
      [0, 1],
      [0, 0],
    ],
  ],
  [
    [3, 4],
    [
      [0, 0],
      [0, 0],
    ],
  ],
  [
    [2, 0, 3],
    [
      [1, 0],
      [1, 1],
      [0, 2],
    ],
  ],
];

test(`pad on wasm equals cpu over ${cases.length} paddings and three dtypes`, async () => {
  for (const [shape, paddings] of cases) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      for (const value of [0, 1]) {
        const f = () => {
          const x = tf.cast(tf.mul(tensor(shape, 42, -3, 3), 2), dtype);
          return tf.cast(tf.pad(x, paddings, value), 'float32');
        };
        const wasm = await runOn('wasm', f);
        const cpu = await runOn('cpu', f);
        const what = `${dtype} ${shape} padded ${JSON.stringify(paddings)} with ${value}`;
        assert.deepEqual(wasm.shapes, cpu.shapes, what);
        assert.deepEqual(Array.from(wasm.values[0]), Array.from(cpu.values[0]), what);
      }
    }
  }
});
