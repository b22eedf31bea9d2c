/**
 * The output kind of a model, read from the network (issue 17): a graph
 * model that ends in Softmax emits probabilities and is read before its
 * softmax; Sigmoid heads are a binary classifier or refused; the `output`
 * option overrides, with a recorded conflict where it contradicts the graph.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { AdvkitError, Classifier, FGSM, objectiveGradient, setBackend } from '../../src/index.js';
import { seededTensor } from '../fixtures.js';
import { centralDifferences } from './finite-differences.js';
import { convGraph } from './graph-fixture.js';

before(async () => {
  await setBackend();
});

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number =>
  tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

test('a graph ending in Softmax: probabilities, logits read before the softmax, equal to the network', async () => {
  const { layers, graph } = await convGraph(4, 'softmax');
  const model = Classifier.create(graph);
  assert.equal(model.info.kind, 'graph-model');
  assert.equal(model.info.output, 'probabilities');
  assert.match(
    model.info.outputDetection,
    /graph ends in Softmax \(node "dense\/Softmax"\); logits read from its input "dense\/BiasAdd"/,
  );
  assert.equal(model.info.outputConflict, undefined);
  assert.equal(model.numClasses, 4);
  const x = seededTensor([8, 6, 6, 1], 3) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  const p = tf.tidy(() => tf.softmax(model.logits(x)));
  assert.equal(tf.memory().numTensors, before + 1, 'logits leaks no tensor');
  const own = graph.execute(x) as tf.Tensor;
  const keras = layers.predict(x) as tf.Tensor;
  const d1 = maxAbsDiff(p, own);
  const d2 = maxAbsDiff(p, keras);
  assert.ok(d1 <= 1e-6, `softmax(advkit logits) vs the graph's own output: max |Δ| ${d1}`);
  assert.ok(d2 <= 1e-6, `softmax(advkit logits) vs the LayersModel's output: max |Δ| ${d2}`);
  tf.dispose([x, p, own, keras]);
  model.dispose();
});

test('a graph ending in Softmax: the input gradient of the loss matches central finite differences', async () => {
  const { graph } = await convGraph(4, 'softmax');
  const model = Classifier.create(graph);
  const x = seededTensor([1, 6, 6, 1], 5) as tf.Tensor4D;
  const labels = tf.tensor1d([1], 'int32');
  const g = objectiveGradient(model, x, labels, 'ce');
  const grad = await g.grad.data();
  g.dispose();
  // Every coordinate ± h.
  const coords = Array.from({ length: 36 }, (_, i) => i);
  const fd = await centralDifferences(model, x, 1, coords, 1e-3);
  const worst = Math.max(...coords.map((c) => Math.abs(fd[c] - grad[c])));
  const scale = Math.max(...coords.map((c) => Math.abs(grad[c])));
  assert.ok(scale > 1e-3, `the gradient is not trivially zero (max |g| ${scale})`);
  assert.ok(
    worst <= 2e-3 + 1e-2 * scale,
    `max |finite difference − gradient| ${worst} (max |g| ${scale})`,
  );
  tf.dispose([x, labels]);
  model.dispose();
});

test('the same network as a LayersModel and as a GraphModel gives the same FGSM result', async () => {
  const { layers, graph } = await convGraph(4, 'softmax');
  const asLayers = Classifier.create(layers);
  const asGraph = Classifier.create(graph);
  assert.equal(asLayers.info.output, 'probabilities');
  const x = seededTensor([16, 6, 6, 1], 11) as tf.Tensor4D;
  const labels = Array.from({ length: 16 }, (_, i) => i % 4);
  const fgsm = new FGSM();
  const [a] = await fgsm.run(asLayers, { x, labels }, [0.1]);
  const [b] = await fgsm.run(asGraph, { x, labels }, [0.1]);
  const d = maxAbsDiff(a.xAdv, b.xAdv);
  assert.ok(d <= 1e-6, `FGSM xAdv differ by ${d}`);
  assert.deepEqual(a.predicted, b.predicted);
  assert.deepEqual(a.success, b.success);
  for (let i = 0; i < 16; i++) {
    assert.ok(
      Math.abs(a.confidence[i] - b.confidence[i]) <= 1e-6,
      `confidence ${i}: ${a.confidence[i]} vs ${b.confidence[i]}`,
    );
  }
  tf.dispose([x, a.xAdv, b.xAdv]);
  asLayers.dispose();
  asGraph.dispose();
});

test("output: 'logits' forced on a graph ending in Softmax is honoured and recorded as a conflict", async () => {
  const { graph } = await convGraph(3, 'softmax');
  const model = Classifier.create(graph, { output: 'logits' });
  assert.equal(model.info.output, 'logits');
  assert.match(model.info.outputDetection, /set by the output option/);
  assert.match(model.info.outputConflict ?? '', /graph ends in Softmax .*softmax is applied twice/);
  model.dispose();
  const agreed = Classifier.create(graph, { output: 'probabilities' });
  assert.equal(agreed.info.outputConflict, undefined);
  assert.match(agreed.info.outputDetection, /logits read from its input/);
  agreed.dispose();
});

test('a graph ending in one Sigmoid is a binary classifier with logits [0, z]', async () => {
  const { graph } = await convGraph(1, 'sigmoid');
  const model = Classifier.create(graph);
  assert.equal(model.numClasses, 2);
  assert.equal(model.info.output, 'probabilities');
  assert.match(model.info.outputDetection, /Sigmoid .* one output: a binary classifier/);
  const x = seededTensor([5, 6, 6, 1], 2) as tf.Tensor4D;
  const p = tf.tidy(() => tf.softmax(model.logits(x)));
  const own = graph.execute(x) as tf.Tensor;
  const d = tf.tidy(() => maxAbsDiff(p.slice([0, 1], [5, 1]), own));
  assert.ok(d <= 1e-6, `P(class 1) vs the sigmoid output: max |Δ| ${d}`);
  tf.dispose([x, p, own]);
  model.dispose();
});

test('a graph ending in several Sigmoids (multi-label) is refused, naming the node', async () => {
  const { graph } = await convGraph(3, 'sigmoid');
  assert.throws(
    () => Classifier.create(graph),
    (e: unknown) =>
      e instanceof AdvkitError &&
      e.code === 'INVALID_OPTION' &&
      /Sigmoid \(node "dense\/Sigmoid"\) with 3 outputs: a multi-label model/.test(e.message),
  );
  const before = tf.memory().numTensors;
  assert.throws(() => Classifier.create(graph), AdvkitError);
  assert.equal(tf.memory().numTensors, before, 'a refused model leaks no tensor');
  const forced = Classifier.create(graph, { output: 'probabilities' });
  assert.match(forced.info.outputConflict ?? '', /not one distribution over classes/);
  forced.dispose();
});

test('a graph without a final activation is logits; layers and function models say how they were read', async () => {
  const { layers, graph } = await convGraph(3, 'linear');
  const g = Classifier.create(graph);
  assert.equal(g.info.output, 'logits');
  assert.match(
    g.info.outputDetection,
    /graph ends in BiasAdd \(node "dense\/BiasAdd"\), not Softmax or Sigmoid: taken as logits/,
  );
  const l = Classifier.create(layers);
  assert.match(l.info.outputDetection, /last layer ".*" is not a softmax: taken as logits/);
  const f = Classifier.create((x) => tf.reshape(x, [x.shape[0], -1]).slice([0, 0], [-1, 3]), {
    inputShape: [6, 6, 1],
  });
  assert.match(f.info.outputDetection, /a plain function: taken as logits/);
  for (const m of [g, l, f]) m.dispose();
});

test('passing the detected kind back as the output option rebuilds the same info (as worker threads do)', async () => {
  const nets: [string, Parameters<typeof Classifier.create>[0], object][] = [];
  for (const act of ['softmax', 'linear'] as const) {
    const { layers, graph } = await convGraph(3, act);
    nets.push([`layers ${act}`, layers, {}], [`graph ${act}`, graph, {}]);
  }
  nets.push(['graph sigmoid', (await convGraph(1, 'sigmoid')).graph, {}]);
  nets.push([
    'function',
    (x: tf.Tensor4D) => tf.reshape(x, [x.shape[0], -1]).slice([0, 0], [-1, 3]),
    { inputShape: [6, 6, 1] },
  ]);
  for (const [what, net, extra] of nets) {
    const a = Classifier.create(net, extra);
    const b = Classifier.create(net, { ...extra, output: a.info.output });
    assert.deepEqual(b.info, a.info, what);
    a.dispose();
    b.dispose();
  }
});

test('a graph with several outputs is refused, naming them', async () => {
  const { graph } = await convGraph(3, 'softmax', 6, true);
  assert.throws(
    () => Classifier.create(graph),
    (e: unknown) =>
      e instanceof AdvkitError &&
      e.code === 'INVALID_OPTION' &&
      /the graph has 2 outputs \(.*"aux".*\); a classifier has one/.test(e.message),
  );
});
