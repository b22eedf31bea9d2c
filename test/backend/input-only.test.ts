/**
 * `withInputOnlyGradients`: inside the scope convolution filter gradients are
 * zeros and input gradients are unchanged; outside, everything is exact.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { inputOnlyGradients, setBackend, withInputOnlyGradients } from '../../src/backend/index.js';
import { AdvkitError } from '../../src/errors.js';
import { assertClose, runOn, tensor } from './helpers.js';

before(async () => {
  await setBackend('wasm');
});

/**
 * Gradients of fused linear conv (the fused gradient that always computes
 * the filter gradient) → relu → depthwise conv → Σ squares, w.r.t. x, w1, b1, w2.
 */
function grads(): tf.Tensor[] {
  const x = tensor([2, 6, 6, 3], 51);
  const w1 = tensor([3, 3, 3, 4], 52);
  const b1 = tensor([4], 53);
  const w2 = tensor([3, 3, 4, 2], 54);
  const f = (a: tf.Tensor, k1: tf.Tensor, c1: tf.Tensor, k2: tf.Tensor) => {
    const h = tf.fused.conv2d({
      x: a as tf.Tensor4D,
      filter: k1 as tf.Tensor4D,
      strides: 2,
      pad: 'same',
      bias: c1,
    });
    return tf.sum(tf.square(tf.depthwiseConv2d(tf.relu(h), k2 as tf.Tensor4D, 1, 'same')));
  };
  return tf.grads(f)([x, w1, b1, w2]);
}

for (const backend of ['wasm', 'cpu']) {
  test(`${backend}: inside the scope filter gradients are zeros, input gradients unchanged`, async () => {
    const exact = await runOn(backend, grads);
    const inside = await runOn(backend, () => withInputOnlyGradients(grads));
    const after = await runOn(backend, grads);
    assertClose(inside.values[0], exact.values[0], 'dx inside the scope');
    assert.ok(
      exact.values[1].some((v) => v !== 0),
      'conv filter gradient is not trivially 0',
    );
    assert.ok(
      exact.values[3].some((v) => v !== 0),
      'depthwise filter gradient is not 0',
    );
    assert.ok(
      inside.values[1].every((v) => v === 0),
      'conv filter gradient inside',
    );
    assert.ok(
      inside.values[3].every((v) => v === 0),
      'depthwise filter gradient inside',
    );
    assert.deepEqual(inside.shapes, exact.shapes);
    after.values.forEach((v, i) => {
      assertClose(v, exact.values[i], `gradient ${i} after the scope`);
    });
  });
}

test('the scope nests, and ends when its callback throws', () => {
  assert.equal(inputOnlyGradients(), false);
  withInputOnlyGradients(() => {
    withInputOnlyGradients(() => assert.equal(inputOnlyGradients(), true));
    assert.equal(inputOnlyGradients(), true);
  });
  assert.throws(() =>
    withInputOnlyGradients(() => {
      throw new Error('boom');
    }),
  );
  assert.equal(inputOnlyGradients(), false);
});

test('an async callback is refused with a coded error', () => {
  assert.throws(
    () => withInputOnlyGradients(async () => 1),
    (e: unknown) => e instanceof AdvkitError && e.code === 'INVALID_OPTION',
  );
  assert.equal(inputOnlyGradients(), false);
});
