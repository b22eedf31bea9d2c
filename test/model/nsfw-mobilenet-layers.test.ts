/**
 * A real published tfjs-layers model: the MobileNetV2 classifier shipped by
 * nsfwjs (shipped as models/nsfw-mobilenet, see its README.md), a Keras model whose last
 * layer is a Dense with a softmax activation. advkit must take it as
 * emitting probabilities, run it through its layer plan (folded batch norms,
 * ReLU6, depthwise convolutions, zero padding, residual adds), reproduce the
 * network's own `predict`, and have an input gradient that matches both
 * TF.js's autodiff and central finite differences.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import {
  crossEntropy,
  FGSM,
  loadClassifierFromFile,
  objectiveGradient,
  setBackend,
} from '../../src/node.js';
import { seededTensor } from '../fixtures.js';
import { centralDifferences, largestCoordinates } from './finite-differences.js';

const MODEL = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'models',
  'nsfw-mobilenet',
  'model.json',
);
// nsfwjs feeds the network pixels / 255: inputs in [0, 1], no normalisation.
const options = { bounds: [0, 1] };
const SIZE = 224;

before(async () => {
  await setBackend();
});

test('the nsfwjs MobileNetV2 layers model: probabilities detected, equal to the network’s own predict', async () => {
  const { model, network, format } = await loadClassifierFromFile(MODEL, options);
  assert.equal(format, 'layers-model');
  assert.equal(model.info.kind, 'layers-model');
  assert.equal(model.numClasses, 5);
  assert.deepEqual(model.inputShape, [SIZE, SIZE, 3]);
  assert.equal(model.info.output, 'probabilities');
  assert.equal(model.info.outputDetection, 'last layer "dense_3" is a softmax');
  assert.equal(model.info.outputConflict, undefined);
  assert.ok(model.plan() !== undefined, 'advkit has a layer plan for MobileNetV2');
  // Four noise images and a flat grey one.
  const x = tf.concat([
    seededTensor([4, SIZE, SIZE, 3], 21),
    tf.fill([1, SIZE, SIZE, 3], 0.5),
  ]) as tf.Tensor4D;
  const ours = tf.tidy(() => tf.softmax(model.logits(x)));
  const own = (network as tf.LayersModel).predict(x) as tf.Tensor;
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, own))).dataSync()[0]);
  // The plan folds each batch norm into its convolution's weights, so the
  // float32 rounding differs from predict's (measured: 1.3e-6 at p ≈ 0.82).
  assert.ok(d <= 5e-6, `softmax(advkit logits) vs the network's predict: max |Δ| ${d}`);
  const [a, b] = tf.tidy(() => [tf.argMax(ours, 1).arraySync(), tf.argMax(own, 1).arraySync()]);
  assert.deepEqual(a, b, 'the same predicted classes');
  tf.dispose([x, ours, own]);
  model.dispose();
});

test('the nsfwjs MobileNetV2 layers model: input gradient = autodiff = central finite differences; FGSM leaks nothing', async () => {
  const { model, network } = await loadClassifierFromFile(MODEL, options);
  const x = seededTensor([1, SIZE, SIZE, 3], 22, 0.2, 0.8) as tf.Tensor4D;
  const label = 0;
  const labels = tf.tensor1d([label], 'int32');
  const g = objectiveGradient(model, x, labels, 'ce');
  const grad = await g.grad.data();
  g.dispose();
  // TF.js's own autodiff through the network's layers, CE on log-probabilities.
  const net = network as tf.LayersModel;
  const auto = tf.tidy(() =>
    tf
      .grad((z: tf.Tensor) =>
        tf.mean(crossEntropy(tf.log(net.apply(z, { training: false }) as tf.Tensor2D), labels)),
      )(x)
      .dataSync(),
  );
  let autoWorst = 0;
  for (let i = 0; i < grad.length; i++) {
    autoWorst = Math.max(autoWorst, Math.abs(auto[i] - grad[i]));
  }
  // The 16 largest-gradient coordinates, each ± h.
  const coords = largestCoordinates(grad, 16);
  const fd = await centralDifferences(model, x, label, coords, 1e-3);
  const scale = Math.abs(grad[coords[0]]);
  const worst = Math.max(...coords.map((c, k) => Math.abs(fd[k] - grad[c])));
  assert.ok(scale > 1e-3, `the gradient is not trivially zero (max |g| ${scale})`);
  assert.ok(
    autoWorst <= 0.01 * scale,
    `max |autodiff − advkit gradient| ${autoWorst} over all coordinates (max |g| ${scale})`,
  );
  assert.ok(
    worst <= 0.05 * scale,
    `max |finite difference − gradient| ${worst} (max |g| ${scale})`,
  );
  const before = tf.memory().numTensors;
  const [r] = await new FGSM().run(model, { x, labels: [label] }, [8 / 255]);
  r.xAdv.dispose();
  assert.equal(tf.memory().numTensors, before, 'FGSM on the layers model leaks no tensor');
  tf.dispose([x, labels]);
  model.dispose();
});
