/** advkit's reshape/transpose DepthToSpace on wasm against the cpu kernel. */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { assertWasmMatchesCpu, runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

test('depthToSpace on wasm equals cpu over block sizes, batches and channels', async () => {
  for (const [shape, block] of [
    [[1, 2, 3, 4], 2],
    [[3, 3, 2, 12], 2],
    [[2, 2, 3, 18], 3],
    [[1, 1, 1, 9], 3],
  ] as [[number, number, number, number], number][]) {
    await assertWasmMatchesCpu(`x ${shape} block ${block}`, () =>
      tf.depthToSpace(tensor(shape, 41) as tf.Tensor4D, block),
    );
  }
});

test('depthToSpace moves channel blocks to pixels (hand-worked)', async () => {
  // One pixel with channels [1, 2, 3, 4], block 2 → the 2×2 image [[1, 2], [3, 4]].
  const { values, shapes } = await runOn('wasm', () =>
    tf.depthToSpace(tf.tensor4d([1, 2, 3, 4], [1, 1, 1, 4]), 2),
  );
  assert.deepEqual(shapes[0], [1, 2, 2, 1]);
  assert.deepEqual(Array.from(values[0]), [1, 2, 3, 4]);
});
