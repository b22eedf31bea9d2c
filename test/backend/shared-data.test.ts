/**
 * Kernels that share or cache data instead of copying it: `Identity` and
 * same-dtype `Cast` on wasm share the input's buffer, and the weights
 * derived for gradients (rotated conv filters, transposed dense matrices)
 * are cached per weight tensor. Sharing must never be visible: values stay
 * right after either tensor is disposed, a weight update is seen at once,
 * and no backend memory outlives the tensors it belongs to.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { assertClose, runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

const dataIds = () => tf.engine().backend.numDataIds();

test('wasm Identity and float32→float32 Cast share the buffer and free it with the last tensor', () => {
  const before = dataIds();
  const a = tf.tensor([1, -2, 3.5, 4], [2, 2]);
  const b = tf.clone(a);
  const c = tf.cast(a, 'float32');
  assert.equal(dataIds(), before + 1, 'clone and cast add no buffer');
  a.dispose();
  assert.deepEqual(Array.from(b.dataSync()), [1, -2, 3.5, 4]);
  b.dispose();
  assert.deepEqual(Array.from(c.dataSync()), [1, -2, 3.5, 4]);
  c.dispose();
  assert.equal(dataIds(), before, 'buffer freed with the last tensor');
});

test('wasm Cast to another dtype converts (to bool: non-zero is 1, unlike TF.js 4.22)', () => {
  const r = tf.tidy(() => tf.cast(tf.tensor([1.7, -2.2, 0]), 'int32').dataSync());
  assert.deepEqual(Array.from(r), [1, -2, 0]);
  const b = tf.tidy(() => tf.cast(tf.tensor([0, 2, -1, 0.5]), 'bool').dataSync());
  assert.deepEqual(Array.from(b), [0, 1, 1, 1]);
  const i = tf.tidy(() => tf.cast(tf.tensor([0, 3, -7], undefined, 'int32'), 'bool').dataSync());
  assert.deepEqual(Array.from(i), [0, 1, 1]);
});

/** Input gradients of conv → relu → dense for the variables' current values. */
function inputGrad(x: tf.Tensor, w: tf.Variable, m: tf.Variable): tf.Tensor {
  return tf.grad((a: tf.Tensor) => {
    const h = tf.relu(tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'));
    return tf.sum(tf.matMul(tf.reshape(h, [x.shape[0], -1]), m as tf.Tensor2D));
  })(x);
}

test('cached derived weights follow Variable.assign (conv filter and dense matrix)', async () => {
  const expected: Float32Array[] = [];
  // Reference: cpu, fresh every time.
  for (const backend of ['cpu', 'wasm']) {
    const got = await runOn(backend, () => {
      const x = tensor([2, 5, 5, 6], 71);
      const w = tf.variable(tensor([3, 3, 6, 8], 72));
      const m = tf.variable(tensor([5 * 5 * 8, 3], 73));
      const g1 = inputGrad(x, w, m);
      w.assign(tensor([3, 3, 6, 8], 74));
      m.assign(tensor([5 * 5 * 8, 3], 75));
      const g2 = inputGrad(x, w, m);
      w.dispose();
      m.dispose();
      return [g1, g2];
    });
    if (backend === 'cpu') expected.push(...got.values);
    else
      for (const [i, v] of got.values.entries()) assertClose(v, expected[i], `gradient ${i + 1}`);
  }
});

test('the cached batch-norm map follows updates of any of its four statistics', async () => {
  const expected: Float32Array[] = [];
  for (const backend of ['cpu', 'wasm']) {
    const got = await runOn(backend, () => {
      // 2·64·32·32 values: large enough for advkit's one-pass wasm kernel.
      const x = tensor([2, 64, 32, 32], 76);
      const stats = [77, 78, 79, 80].map((seed, i) =>
        tf.variable(tensor([32], seed, i === 1 ? 0.5 : -1, i === 1 ? 1.5 : 1)),
      );
      const [mean, variance, offset, scale] = stats;
      const bn = () => tf.batchNorm(x, mean, variance, offset, scale, 1e-3);
      const out = [bn()];
      for (const [i, v] of stats.entries()) {
        v.assign(tensor([32], 81 + i, i === 1 ? 0.5 : -1, i === 1 ? 1.5 : 1));
        out.push(bn());
      }
      tf.dispose(stats);
      return out;
    });
    if (backend === 'cpu') expected.push(...got.values);
    else
      for (const [i, v] of got.values.entries()) assertClose(v, expected[i], `after update ${i}`);
  }
});

test('cached derived weights are freed after their weights are disposed', async () => {
  await tf.setBackend('wasm');
  const x = tensor([2, 5, 5, 6], 81);
  const probe = () => {
    const w = tensor([3, 3, 6, 8], 82);
    const m = tensor([5 * 5 * 8, 3], 83);
    const g = tf.grad((a: tf.Tensor) => {
      const h = tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
      return tf.sum(tf.matMul(tf.reshape(h, [2, -1]), m as tf.Tensor2D));
    })(x);
    g.dataSync();
    tf.dispose([w, m, g]);
  };
  probe();
  const baseline = dataIds();
  // Each probe derives two tensors from weights it then disposes; without
  // release the backend would hold 2 × 200 more buffers.
  for (let i = 0; i < 200; i++) probe();
  assert.ok(dataIds() - baseline < 100, `${dataIds() - baseline} stale derived buffers`);
  x.dispose();
});
