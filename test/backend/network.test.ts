/**
 * A small tfjs-layers conv net — conv + relu, max pool, batch norm with and
 * without scale, depthwise conv, strided linear conv (TF.js's fused gradient
 * path), dense — has the same input
 * gradient and weight gradients on wasm as on the cpu backend, leaks nothing,
 * and under `withInputOnlyGradients` keeps its input gradient.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend, withInputOnlyGradients } from '../../src/backend/index.js';
import { assertClose, assertWasmMatchesCpu, runOn, seeded, size, tensor } from './helpers.js';

let model: tf.LayersModel;

before(async () => {
  await setBackend('wasm');
  model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [9, 9, 3],
        filters: 4,
        kernelSize: 3,
        padding: 'same',
        activation: 'relu',
      }),
      tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
      tf.layers.batchNormalization(),
      tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same' }),
      tf.layers.batchNormalization({ scale: false }),
      tf.layers.conv2d({ filters: 5, kernelSize: 2, strides: 2 }),
      tf.layers.reLU(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 6 }),
    ],
  });
  // Seeded weights; variances and scales positive.
  model.setWeights(
    model.weights.map((w, i) => {
      const positive = /variance|gamma/.test(w.name);
      const shape = w.shape as number[];
      const lo = positive ? 0.5 : -0.6;
      return tf.tensor(seeded(size(shape), 100 + i, lo, lo + 1), shape);
    }),
  );
});

after(() => {
  model.dispose();
});

/** Σ logits·k, a fixed linear loss. */
function loss(x: tf.Tensor): tf.Scalar {
  const logits = model.apply(x) as tf.Tensor;
  return tf.sum(tf.mul(logits, tensor(logits.shape, 61)));
}

for (const batch of [1, 4]) {
  test(`input gradient on wasm equals cpu (batch ${batch})`, async () => {
    await assertWasmMatchesCpu(`net batch ${batch}`, () =>
      tf.grad(loss)(tensor([batch, 9, 9, 3], 62)),
    );
  });
}

test('weight gradients on wasm equal cpu (adversarial training path)', async () => {
  await assertWasmMatchesCpu('net weights', () => {
    const x = tensor([3, 9, 9, 3], 63);
    const { grads } = tf.variableGrads(() => loss(x));
    const names = Object.keys(grads).sort();
    assert.ok(names.length >= 8, 'names.length >= 8');
    return names.map((n) => grads[n]);
  });
});

test('under withInputOnlyGradients the net input gradient is unchanged, no leak', async () => {
  const exact = await runOn('wasm', () => tf.grad(loss)(tensor([2, 9, 9, 3], 64)));
  const fast = await runOn('wasm', () =>
    withInputOnlyGradients(() => tf.grad(loss)(tensor([2, 9, 9, 3], 64))),
  );
  assertClose(fast.values[0], exact.values[0], 'input gradient');
});
