/**
 * A real converted graph model (issue 17): the mini-Xception emotion
 * classifier shipped by @vladmandic/human (see fixtures/emotion/README.md),
 * whose graph ends in Softmax → Identity. advkit must take it as emitting
 * probabilities, read the logits before the softmax, reproduce the
 * network's own probabilities and have an input gradient that matches
 * central finite differences.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { FGSM, loadClassifierFromFile, objectiveGradient, setBackend } from '../../src/node.js';
import { seededTensor } from '../fixtures.js';
import { centralDifferences, largestCoordinates } from './finite-differences.js';

const MODEL = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'fixtures',
  'emotion',
  'emotion.json',
);
// The package's own preprocessing of grey pixels in [0, 1]: (x − 0.5) · 2.
const preprocess = { mean: [0.5], std: [0.5] };

before(async () => {
  await setBackend();
});

test('the emotion graph model: probabilities detected, equal to the network’s own output', async () => {
  const { model, network, format } = await loadClassifierFromFile(MODEL, { preprocess });
  assert.equal(format, 'graph-model');
  assert.equal(model.numClasses, 7);
  assert.deepEqual(model.inputShape, [64, 64, 1]);
  assert.equal(model.info.output, 'probabilities');
  assert.match(
    model.info.outputDetection,
    /graph ends in Softmax \(node "StatefulPartitionedCall\/model_1\/predictions\/Softmax"\); logits read from its input "StatefulPartitionedCall\/model_1\/global_average_pooling2d_1\/Mean"/,
  );
  const x = seededTensor([4, 64, 64, 1], 21) as tf.Tensor4D;
  const ours = tf.tidy(() => tf.softmax(model.logits(x)));
  const graph = network as tf.GraphModel;
  const own = tf.tidy(() => graph.execute(tf.mul(tf.sub(x, 0.5), 2)) as tf.Tensor);
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(ours, own))).dataSync()[0]);
  assert.ok(d <= 1e-6, `softmax(advkit logits) vs the graph's output: max |Δ| ${d}`);
  tf.dispose([x, ours, own]);
  model.dispose();
});

test('the emotion graph model: input gradient = central finite differences; FGSM leaks nothing', async () => {
  const { model } = await loadClassifierFromFile(MODEL, { preprocess });
  const x = seededTensor([1, 64, 64, 1], 22, 0.2, 0.8) as tf.Tensor4D;
  const labels = tf.tensor1d([3], 'int32');
  const g = objectiveGradient(model, x, labels, 'ce');
  const grad = await g.grad.data();
  g.dispose();
  // The 24 largest-gradient coordinates, each ± h.
  const coords = largestCoordinates(grad, 24);
  const fd = await centralDifferences(model, x, 3, coords, 2e-3);
  const scale = Math.abs(grad[coords[0]]);
  const worst = Math.max(...coords.map((c, k) => Math.abs(fd[k] - grad[c])));
  assert.ok(scale > 1e-4, `the gradient is not trivially zero (max |g| ${scale})`);
  assert.ok(
    worst <= 0.05 * scale,
    `max |finite difference − gradient| ${worst} (max |g| ${scale})`,
  );
  const before = tf.memory().numTensors;
  const [r] = await new FGSM().run(model, { x, labels: [3] }, [8 / 255]);
  r.xAdv.dispose();
  assert.equal(tf.memory().numTensors, before, 'FGSM on the graph model leaks no tensor');
  tf.dispose([x, labels]);
  model.dispose();
});
