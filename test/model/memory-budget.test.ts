/**
 * Gradients that would not fit the wasm heap are split into chunks: the
 * chunks give exactly the one-batch values, leak nothing, and a model in
 * 'train' mode (batch statistics) is never split.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Classifier, setBackend, useLayerPlans } from '../../src/index.js';
import { objectiveGradient } from '../../src/model/gradient.js';
import {
  gradientChunk,
  setGradientBudget,
  WASM_GRADIENT_BUDGET,
} from '../../src/model/memory-budget.js';
import { seededTensor, tinyCnn } from '../fixtures.js';

before(async () => {
  await setBackend('wasm');
});
after(() => setGradientBudget());

function gradientValues(model: Classifier, x: tf.Tensor4D, labels: tf.Tensor1D) {
  const g = objectiveGradient(model, x, labels, 'ce');
  const out = [g.grad, g.logits, g.objective].map((t) => Array.from(t.dataSync()));
  g.dispose();
  return out;
}

test('a gradient split into chunks equals the one-batch gradient, without leaks', () => {
  const cnn = tinyCnn();
  const x = seededTensor([10, 8, 8, 1], 5) as tf.Tensor4D;
  const labels = tf.tensor1d([0, 1, 2, 3, 0, 1, 2, 3, 0, 1], 'int32');
  const whole = gradientValues(cnn.model, x, labels); // first call: measures the model
  const path = cnn.model.plan() ? 'plan' : 'autodiff';
  const fits = gradientChunk(cnn.model, path);
  assert.ok(fits !== undefined && fits >= 10, 'measured; 10 examples fit the default budget');
  // The free budget scaled down to about 3.5 examples' worth.
  const before = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  setGradientBudget(bytes + (3.5 * (WASM_GRADIENT_BUDGET - bytes)) / fits);
  assert.equal(gradientChunk(cnn.model, path), 3);
  const chunked = gradientValues(cnn.model, x, labels);
  setGradientBudget();
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  assert.deepEqual(chunked, whole);
  tf.dispose([x, labels]);
  cnn.dispose();
});

test('a layer plan and autodiff are measured apart (the plan keeps fewer tensors)', () => {
  const net = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 8, kernelSize: 3, activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4 }),
    ],
  });
  const model = Classifier.create(net);
  assert.ok(model.plan(), 'the net has a layer plan');
  const x = seededTensor([4, 8, 8, 1], 6) as tf.Tensor4D;
  const labels = tf.tensor1d([0, 1, 2, 3], 'int32');
  gradientValues(model, x, labels);
  const plan = gradientChunk(model, 'plan');
  assert.ok(plan !== undefined, 'plan !== undefined');
  assert.equal(gradientChunk(model, 'autodiff'), undefined, 'not measured by the plan');
  useLayerPlans(false);
  try {
    gradientValues(model, x, labels);
  } finally {
    useLayerPlans(true);
  }
  const autodiff = gradientChunk(model, 'autodiff');
  assert.ok(autodiff !== undefined && autodiff < plan, `${autodiff} < ${plan} examples`);
  tf.dispose([x, labels]);
  net.dispose();
});

test("a model in 'train' mode is never split (batch norm uses the batch's statistics)", () => {
  const net = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [4, 4, 1] }),
      tf.layers.batchNormalization(),
      tf.layers.dense({ units: 3, kernelInitializer: 'ones' }),
    ],
  });
  const model = Classifier.create(net, { mode: 'train' });
  const x = seededTensor([6, 4, 4, 1], 9) as tf.Tensor4D;
  const labels = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');
  const whole = gradientValues(model, x, labels);
  setGradientBudget(tf.memory().numBytes + 1);
  const tight = gradientValues(model, x, labels);
  setGradientBudget();
  assert.deepEqual(tight, whole);
  tf.dispose([x, labels]);
  model.dispose();
  net.dispose();
});
