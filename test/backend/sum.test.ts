/**
 * advkit's wasm `Sum` over leading axes (bias gradients) against the cpu
 * backend, and every other reduction still reaching the stock kernel.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { assertWasmMatchesCpu, runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

const cases: [number[], number | number[], boolean][] = [
  [[7, 5], 0, false],
  [[7, 5], [0], true],
  [[3, 6, 5, 4], [0, 1, 2], false],
  [[3, 6, 5, 4], [2, 1, 0], true],
  [[2, 9, 1], [0, 1], false],
  [[5, 1, 3], [0], false],
  [[4, 3, 2], -3, false],
  // Not leading: the stock kernel.
  [[3, 6, 5, 4], [1, 2], false],
  [[3, 6, 5, 4], [3], true],
  [[3, 6, 5, 4], [0, 1, 2, 3], false],
];

test(`sum over axes on wasm equals cpu over ${cases.length} cases`, async () => {
  for (const [shape, axis, keepDims] of cases) {
    await assertWasmMatchesCpu(`sum ${shape} over ${axis} keepDims ${keepDims}`, () =>
      tf.sum(tensor(shape, 91, -2, 2), axis, keepDims),
    );
  }
});

test('int32 sums are exact on wasm', async () => {
  const { values } = await runOn('wasm', () =>
    tf.cast(tf.sum(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 0), 'float32'),
  );
  assert.deepEqual(Array.from(values[0]), [9, 12]);
});

test('the bias gradient of a convolution layer equals cpu', async () => {
  await assertWasmMatchesCpu('bias gradient', () => {
    const x = tensor([3, 8, 8, 3], 92);
    const w = tensor([3, 3, 3, 16], 93);
    const b = tensor([16], 94);
    return tf.grad((c: tf.Tensor) =>
      tf.sum(
        tf.square(tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), c))),
      ),
    )(b);
  });
});
