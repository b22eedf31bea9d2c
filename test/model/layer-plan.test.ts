/**
 * The layer plan (`src/model/layer-plan.ts`) gives the input gradient,
 * logits and objective of TF.js's autodiff, for every layer kind it plans,
 * on wasm and cpu; models it cannot plan fall back; nothing leaks.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildBenchModel } from '../../bench/models.js';
import { setBackend, useKernels } from '../../src/backend/index.js';
import { Classifier, type ClassifierOptions } from '../../src/model/classifier.js';
import { objectiveGradient } from '../../src/model/gradient.js';
import { layerPlan, noPlanReason, useLayerPlans } from '../../src/model/layer-plan.js';
import type { LossName } from '../../src/threat-model/losses.js';
import { assertClose, seeded } from '../backend/helpers.js';

after(() => {
  useLayerPlans(true);
  useKernels('advkit');
});

// Every weight is seeded: with TF.js's default ±0.05 batch-norm draws, one
// graphNet in twenty had all its ReLUs dead and an all-zero input gradient.
let seed = 1;
const init = () => tf.initializers.glorotNormal({ seed: seed++ });
const normal = (stddev = 0.5) => tf.initializers.randomNormal({ stddev, seed: seed++ });
const around1 = () => tf.initializers.randomUniform({ minval: 0.5, maxval: 1.5, seed: seed++ });

/** Conv, pooling, dense, dropout and a final softmax (a probability output). */
function sequentialNet(): tf.LayersModel {
  seed = 1;
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [9, 9, 2],
        filters: 4,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: init(),
        biasInitializer: normal(0.05),
      }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 1 }),
      tf.layers.conv2d({
        filters: 3,
        kernelSize: 2,
        activation: 'sigmoid',
        useBias: false,
        kernelInitializer: init(),
      }),
      tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
      tf.layers.conv2d({
        filters: 3,
        kernelSize: 1,
        activation: 'tanh',
        kernelInitializer: init(),
      }),
      tf.layers.flatten(),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 6, activation: 'relu6', kernelInitializer: init() }),
      tf.layers.dense({ units: 4, activation: 'softmax', kernelInitializer: init() }),
    ],
  });
}

/** Ends in a Softmax layer rather than a softmax activation. */
function softmaxLayerNet(): tf.LayersModel {
  seed = 5;
  return tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [3, 3, 2] }),
      tf.layers.dense({ units: 5, activation: 'tanh', kernelInitializer: init() }),
      tf.layers.dense({ units: 4, kernelInitializer: init() }),
      tf.layers.softmax(),
    ],
  });
}

/** Batch norm, ReLU layers, depthwise conv, residual add, padding, concatenation. */
function graphNet(): tf.LayersModel {
  seed = 1;
  const input = tf.input({ shape: [8, 8, 3] });
  const conv = (x: tf.SymbolicTensor, filters: number, kernel: number, stride = 1) =>
    tf.layers
      .conv2d({
        filters,
        kernelSize: kernel,
        strides: stride,
        padding: 'same',
        useBias: false,
        kernelInitializer: init(),
      })
      .apply(x) as tf.SymbolicTensor;
  const bn = (x: tf.SymbolicTensor, scale = true) =>
    tf.layers
      .batchNormalization({
        scale,
        center: scale,
        gammaInitializer: around1(),
        betaInitializer: normal(),
        movingMeanInitializer: normal(),
        movingVarianceInitializer: 'ones',
      })
      .apply(x) as tf.SymbolicTensor;
  let x = tf.layers.reLU().apply(bn(conv(input, 4, 3))) as tf.SymbolicTensor;
  let y = tf.layers
    .depthwiseConv2d({
      kernelSize: 3,
      strides: 2,
      padding: 'same',
      depthwiseInitializer: init(),
      activation: 'relu',
    })
    .apply(x) as tf.SymbolicTensor;
  y = tf.layers.reLU({ maxValue: 6 }).apply(bn(conv(y, 4, 1), false)) as tf.SymbolicTensor;
  const shortcut = bn(conv(x, 4, 1, 2));
  x = tf.layers.add().apply([y, shortcut]) as tf.SymbolicTensor;
  const padded = tf.layers
    .zeroPadding2d({
      padding: [
        [1, 0],
        [0, 1],
      ],
    })
    .apply(x) as tf.SymbolicTensor;
  const branch = tf.layers
    .conv2d({ filters: 2, kernelSize: 2, kernelInitializer: init() })
    .apply(padded) as tf.SymbolicTensor;
  x = tf.layers.concatenate().apply([x, branch]) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'relu' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, kernelInitializer: init() }).apply(x);
  return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
}

interface Result {
  grad: Float32Array;
  logits: Float32Array;
  objective: Float32Array;
}

function gradientWith(
  plans: boolean,
  model: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  loss: LossName,
  targets?: tf.Tensor1D,
): Result {
  useLayerPlans(plans);
  const before = tf.memory().numTensors;
  const g = objectiveGradient(model, x, labels, loss, targets);
  const r = {
    grad: g.grad.dataSync() as Float32Array,
    logits: g.logits.dataSync() as Float32Array,
    objective: g.objective.dataSync() as Float32Array,
  };
  g.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  useLayerPlans(true);
  return r;
}

function compare(
  net: tf.LayersModel,
  options: ClassifierOptions,
  loss: LossName,
  inputs = seeded(3 * size(net), 7, 0, 1),
  targeted = false,
): void {
  const model = Classifier.create(net, options);
  assert.ok(layerPlan(net), `planned (${noPlanReason(net)})`);
  const x = tf.tensor4d(inputs, [3, ...model.inputShape]);
  const labels = tf.tensor1d([1, 3, 0], 'int32');
  const targets = targeted ? tf.tensor1d([0, 1, 2], 'int32') : undefined;
  const planned = gradientWith(true, model, x, labels, loss, targets);
  const autodiff = gradientWith(false, model, x, labels, loss, targets);
  tf.dispose([x, labels, ...(targets ? [targets] : [])]);
  const peak = autodiff.grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(peak > 0, 'the gradient is not zero');
  assertClose(planned.grad, autodiff.grad, `${loss} gradient`, 1e-5 * peak, 1e-3);
  assertClose(planned.logits, autodiff.logits, 'logits', 1e-5, 1e-4);
  assertClose(planned.objective, autodiff.objective, 'objective', 1e-5, 1e-4);
  model.dispose();
}

function size(net: tf.LayersModel): number {
  return (net.inputs[0].shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: a sequential net's gradient equals autodiff (softmax output, CE and CW)`, async () => {
    await setBackend(backend);
    const net = sequentialNet();
    compare(net, {}, 'ce');
    compare(net, {}, 'cw', undefined, true);
    net.dispose();
    const soft = softmaxLayerNet();
    compare(soft, {}, 'ce');
    soft.dispose();
  });

  test(`${backend}: a graph with batch norm, depthwise, add and concatenate equals autodiff`, async () => {
    await setBackend(backend);
    const net = graphNet();
    // conv → batch norm → ReLU and conv → batch norm run as folded convolutions.
    const folded = layerPlan(net)?.layers.filter((l) => l.includes('+')) ?? [];
    assert.deepEqual(
      folded.map((l) => l.split('+').length),
      [3, 2, 2],
    );
    compare(net, {}, 'ce');
    compare(net, { preprocess: { mean: [0.5, 0.4, 0.3], std: [0.2, 0.3, 0.25] } }, 'ce');
    // Custom preprocessing: the plan's input gradient goes back through autodiff.
    const squash = (x: tf.Tensor4D) => tf.tanh(tf.mul(tf.sub(x, 0.5), 3)) as tf.Tensor4D;
    compare(net, { preprocess: { name: 'tanh squash', fn: squash } }, 'ce');
    compare(net, { bounds: [0, 255] }, 'ce', seeded(3 * size(net), 9, 0, 255));
    net.dispose();
  });
}

test('ReLU masks at their edges (x = 0, x = max) equal autodiff exactly', async () => {
  await setBackend('wasm');
  const input = tf.input({ shape: [2, 3, 1] });
  const capped = tf.layers.reLU({ maxValue: 6 }).apply(input) as tf.SymbolicTensor;
  const plain = tf.layers.activation({ activation: 'relu' }).apply(input) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([capped, plain]) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 3, kernelInitializer: 'ones' })
    .apply(tf.layers.flatten().apply(joined) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const net = tf.model({ inputs: input, outputs: out });
  const model = Classifier.create(net, { bounds: [-10, 10] });
  const x = tf.tensor4d([-1, 0, 3, 6, 7, -0, 0, 6, 6, 0, 2, 9, -3, 6, 0, 1, 7, 6], [3, 2, 3, 1]);
  const labels = tf.tensor1d([0, 1, 2], 'int32');
  const planned = gradientWith(true, model, x, labels, 'ce');
  const autodiff = gradientWith(false, model, x, labels, 'ce');
  assert.deepEqual([...planned.grad], [...autodiff.grad]);
  tf.dispose([x, labels]);
  net.dispose();
});

/**
 * ReLUs read only by a max pool (after a conv, a ReLU layer, a folded
 * conv + batch norm + ReLU), and one also read elsewhere: the pools apply
 * the masks on their outputs.
 */
function poolNet(): tf.LayersModel {
  seed = 11;
  const input = tf.input({ shape: [6, 6, 2] });
  const conv = (x: tf.SymbolicTensor, filters: number, activation: 'relu' | 'linear') =>
    tf.layers
      .conv2d({
        filters,
        kernelSize: 3,
        padding: 'same',
        activation,
        kernelInitializer: init(),
        biasInitializer: tf.initializers.constant({ value: -0.3 }),
      })
      .apply(x) as tf.SymbolicTensor;
  const pool = (x: tf.SymbolicTensor, size = 2, strides = 2, padding: 'valid' | 'same' = 'valid') =>
    tf.layers.maxPooling2d({ poolSize: size, strides, padding }).apply(x) as tf.SymbolicTensor;
  const flat = (x: tf.SymbolicTensor) => tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const p1 = pool(conv(input, 4, 'relu'));
  const b = tf.layers.reLU().apply(conv(p1, 5, 'linear')) as tf.SymbolicTensor;
  const p2 = pool(b, 3, 2, 'same');
  const bn = tf.layers
    .batchNormalization({ movingMeanInitializer: normal(0.05) })
    .apply(conv(input, 3, 'linear')) as tf.SymbolicTensor;
  const p3 = pool(tf.layers.reLU().apply(bn) as tf.SymbolicTensor, 2, 1);
  const joined = tf.layers.concatenate().apply([flat(p2), flat(p3), flat(b)]) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 4, kernelInitializer: init() }).apply(joined);
  return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
}

test("a ReLU read only by a max pool is masked after pooling, with autodiff's gradient", async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await setBackend(backend);
    const net = poolNet();
    compare(net, {}, 'ce');
    compare(net, {}, 'cw', undefined, true);
    if (backend === 'wasm') {
      const model = Classifier.create(net);
      const x = tf.tensor4d(seeded(3 * size(net), 7, 0, 1), [3, ...model.inputShape]);
      const labels = tf.tensor1d([1, 3, 0], 'int32');
      const { kernels } = await tf.profile(() =>
        objectiveGradient(model, x, labels, 'ce').dispose(),
      );
      const masked = kernels
        .filter((k) => k.name === 'AdvkitClipGrad')
        .map((k) => k.outputShapes[0]?.slice(1).join('×'));
      // (The first gradient of a model is taken in two chunks, to measure it.)
      // p1's (3×3×4) and p3's (5×5×3) outputs; b (3×3×5) is read twice and
      // keeps its own mask; nothing at the pools' inputs (6×6×4, 6×6×3).
      assert.deepEqual([...new Set(masked)].sort(), ['3×3×4', '3×3×5', '5×5×3']);
      tf.dispose([x, labels]);
    }
    net.dispose();
  }
});

test('max pools over ReLU outputs: all-negative windows and ties at 0 equal autodiff exactly', async () => {
  await setBackend('wasm');
  const input = tf.input({ shape: [4, 4, 1] });
  const relu = tf.layers.reLU().apply(input) as tf.SymbolicTensor;
  const pooled = tf.layers.maxPooling2d({ poolSize: 2 }).apply(relu) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 3, kernelInitializer: 'ones' })
    .apply(tf.layers.flatten().apply(pooled) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const net = tf.model({ inputs: input, outputs: out });
  const model = Classifier.create(net, { bounds: [-10, 10] });
  // Per example: a window of negatives, one with 0 tied with negatives, one
  // with positive ties, one ordinary.
  const one = [-1, -2, 0, -3, -0.5, -4, 0, 2, 1, 3, 2, 2, 0, 0, 1, 2];
  const x = tf.tensor4d([...one, ...one.map((v) => -v)], [2, 4, 4, 1]);
  const labels = tf.tensor1d([0, 2], 'int32');
  const planned = gradientWith(true, model, x, labels, 'ce');
  const autodiff = gradientWith(false, model, x, labels, 'ce');
  assert.deepEqual([...planned.grad], [...autodiff.grad]);
  tf.dispose([x, labels]);
  net.dispose();
});

/**
 * A valid conv, zero padding on top and left, a folded 1×1 'same' conv with
 * batch norm and ReLU, a channel concatenation, and a 3×3 stride-2 pool
 * that leaves the last row unread: the plan runs on 12 × 12 of the 13 × 12
 * input.
 */
function deadRowNet(sameKernel = 1): tf.LayersModel {
  seed = 21;
  const input = tf.input({ shape: [13, 12, 2] });
  const c1 = tf.layers
    .conv2d({ filters: 3, kernelSize: 3, activation: 'relu', kernelInitializer: init() })
    .apply(input) as tf.SymbolicTensor;
  const p = tf.layers
    .zeroPadding2d({
      padding: [
        [1, 0],
        [1, 0],
      ],
    })
    .apply(c1) as tf.SymbolicTensor;
  const c2 = tf.layers
    .conv2d({
      filters: 4,
      kernelSize: sameKernel,
      padding: 'same',
      useBias: false,
      kernelInitializer: init(),
    })
    .apply(p) as tf.SymbolicTensor;
  const bn = tf.layers
    .batchNormalization({ movingMeanInitializer: normal(0.05) })
    .apply(c2) as tf.SymbolicTensor;
  const r = tf.layers.reLU().apply(bn) as tf.SymbolicTensor;
  const q = tf.layers.concatenate().apply([r, p]) as tf.SymbolicTensor;
  const pooled = tf.layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(q) as tf.SymbolicTensor;
  const out = tf.layers
    .dense({ units: 4, kernelInitializer: init() })
    .apply(tf.layers.flatten().apply(pooled) as tf.SymbolicTensor);
  return tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
}

test("rows the output never reads are cropped before the first layer, with autodiff's values", async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    await setBackend(backend);
    const net = deadRowNet();
    assert.deepEqual(layerPlan(net)?.liveInput, [12, 12]);
    compare(net, {}, 'ce');
    compare(net, { preprocess: { mean: [0.5, 0.4], std: [0.2, 0.3] } }, 'cw', undefined, true);
    // The dead row's gradient is exactly 0, as autodiff's is.
    const model = Classifier.create(net);
    const x = tf.tensor4d(seeded(2 * size(net), 8, 0, 1), [2, ...model.inputShape]);
    const labels = tf.tensor1d([0, 3], 'int32');
    const g = objectiveGradient(model, x, labels, 'ce');
    const lastRow = tf.tidy(() => tf.slice(g.grad, [0, 12, 0, 0], [-1, 1, -1, -1]).abs().max());
    assert.equal(lastRow.dataSync()[0], 0);
    tf.dispose([x, labels, lastRow]);
    g.dispose();
    net.dispose();
    // A 3×3 'same' conv pads by its input's size: nothing is cropped.
    const padded = deadRowNet(3);
    assert.equal(layerPlan(padded)?.liveInput, undefined);
    compare(padded, {}, 'ce');
    padded.dispose();
  }
  const mnist = buildBenchModel('mnist-cnn').model;
  assert.deepEqual(layerPlan(mnist)?.liveInput, [26, 26]);
  mnist.dispose();
});

test("a 'same' window that pads nothing on the whole input still keeps the input whole", async () => {
  // On 8 rows a 2×2 stride-2 'same' conv pads nothing, but on a crop of 7
  // (what the 3×3 stride-2 valid branch reads) it would pad and give 4 rows
  // where the pooled branch it is added to has 3.
  await setBackend('wasm');
  seed = 31;
  const input = tf.input({ shape: [8, 8, 1] });
  const a = tf.layers
    .conv2d({ filters: 2, kernelSize: 2, strides: 2, padding: 'same', kernelInitializer: init() })
    .apply(input) as tf.SymbolicTensor;
  const b = tf.layers
    .conv2d({ filters: 2, kernelSize: 1, kernelInitializer: init() })
    .apply(tf.layers.maxPooling2d({ poolSize: 2 }).apply(input) as tf.SymbolicTensor);
  const sum = tf.layers.add().apply([a, b as tf.SymbolicTensor]) as tf.SymbolicTensor;
  const pooled = tf.layers.maxPooling2d({ poolSize: 3, strides: 2 }).apply(sum);
  const c = tf.layers
    .conv2d({ filters: 2, kernelSize: 3, strides: 2, kernelInitializer: init() })
    .apply(input) as tf.SymbolicTensor;
  const flat = (t: unknown) =>
    tf.layers.flatten().apply(t as tf.SymbolicTensor) as tf.SymbolicTensor;
  const joined = tf.layers.concatenate().apply([flat(pooled), flat(c)]);
  const out = tf.layers.dense({ units: 4, kernelInitializer: init() }).apply(joined);
  const net = tf.model({ inputs: input, outputs: out as tf.SymbolicTensor });
  assert.equal(layerPlan(net)?.liveInput, undefined);
  compare(net, {}, 'ce');
  net.dispose();
});

test('models with a layer the plan does not cover fall back to autodiff', async () => {
  await setBackend('wasm');
  const elu = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 2, activation: 'elu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  });
  assert.match(noPlanReason(elu) ?? '', /activation "elu"/);
  const upsampled = tf.sequential({
    layers: [
      tf.layers.upSampling2d({ inputShape: [3, 3, 1] }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ],
  });
  assert.match(noPlanReason(upsampled) ?? '', /UpSampling2D/);
  for (const net of [elu, upsampled]) {
    const model = Classifier.create(net);
    const x = tf.tensor4d(seeded(2 * size(net), 3, 0, 1), [2, ...model.inputShape]);
    const labels = tf.tensor1d([0, 2], 'int32');
    const before = tf.memory().numTensors;
    const g = objectiveGradient(model, x, labels, 'ce');
    assert.ok(g.grad.abs().max().dataSync()[0] > 0, 'g.grad.abs().max().dataSync()[0] > 0');
    g.dispose();
    assert.equal(tf.memory().numTensors, before + 2);
    tf.dispose([x, labels]);
    net.dispose();
  }
});

test('the benchmark models are planned; train mode and stock kernels are not', async () => {
  await setBackend('wasm');
  for (const name of ['mnist-cnn', 'resnet-small', 'mobilenetv2'] as const) {
    const { model } = buildBenchModel(name);
    assert.equal(noPlanReason(model), undefined, name);
    model.dispose();
  }
  const net = sequentialNet();
  assert.ok(layerPlan(net), 'layerPlan(net)');
  useKernels('stock');
  assert.equal(layerPlan(net), undefined, 'stock kernels compare against autodiff');
  useKernels('advkit');
  net.dispose();
  // Train mode uses batch statistics, which a plan does not compute: the
  // gradient is autodiff's whether plans are on or off.
  // (tfjs-layers cannot train a batch norm with scale: false, so not graphNet.)
  const graph = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 3], filters: 4, kernelSize: 3 }),
      tf.layers.batchNormalization(),
      tf.layers.reLU(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5 }),
    ],
  });
  const model = Classifier.create(graph, { mode: 'train' });
  const x = tf.tensor4d(seeded(3 * size(graph), 5, 0, 1), [3, ...model.inputShape]);
  const labels = tf.tensor1d([0, 2, 4], 'int32');
  const on = gradientWith(true, model, x, labels, 'ce');
  const off = gradientWith(false, model, x, labels, 'ce');
  assert.deepEqual([...on.grad], [...off.grad]);
  tf.dispose([x, labels]);
  graph.dispose();
});

test('Classifier.logits runs the plan forward, and TF.js ops under a gradient tape', async () => {
  await setBackend('wasm');
  const net = graphNet();
  const model = Classifier.create(net);
  const x = tf.tensor4d(seeded(3 * size(net), 11, 0, 1), [3, ...model.inputShape]);
  const before = tf.memory().numTensors;
  const planned = model.logits(x);
  assert.equal(tf.memory().numTensors, before + 1, 'only the logits are left');
  const applied = net.apply(x) as tf.Tensor;
  assertClose(planned.dataSync(), applied.dataSync(), 'logits', 1e-5, 1e-4);
  // Under tf.grad the plan's kernels (no gradients registered) must not run.
  const g = tf.grad((xi) => tf.sum(model.logits(xi as tf.Tensor4D)))(x);
  assert.ok((g.abs().max().dataSync()[0] ?? 0) > 0, '(g.abs().max().dataSync()[0] ?? 0) > 0');
  tf.dispose([planned, applied, g, x]);
  model.dispose();
  net.dispose();
});
