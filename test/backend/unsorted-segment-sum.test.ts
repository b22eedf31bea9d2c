/**
 * advkit's wasm `UnsortedSegmentSum` (missing in TF.js 4.22) equals the cpu
 * backend's, and with it the gradient of `gather` — a ViT export's class
 * token — reaches the input on wasm.
 */
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { assertWasmMatchesCpu, tensor } from './helpers.js';

await setBackend('wasm');

test('UnsortedSegmentSum: repeated, missing and out-of-range ids, float and int', async () => {
  await assertWasmMatchesCpu('segment sum', () => {
    const x = tensor([6, 3, 2], 1);
    const ids = tf.tensor1d([2, 0, 2, 5, -1, 0], 'int32');
    const xi = tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32');
    return [
      tf.unsortedSegmentSum(x, ids, 4),
      tf.cast(tf.unsortedSegmentSum(xi, tf.tensor1d([1, 1, 0], 'int32'), 2), 'float32'),
    ];
  });
});

test("gather's gradient on any axis", async () => {
  await assertWasmMatchesCpu('gather gradient', () => {
    const x = tensor([2, 5, 4], 2);
    const w = tensor([2, 3, 4], 3);
    const idx = tf.tensor1d([0, 3, 0], 'int32');
    return tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.gather(v, idx, 1), w)))(x);
  });
});
