/**
 * The adapter table (src/model/networks/): each kind is recognised by its
 * own adapter, declares a checksum or none, and either travels to a worker
 * (the worker's copy predicts the same) or is refused with an InputError
 * that names the model.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { evaluate } from '../../src/index.js';
import { NETWORK_ADAPTERS } from '../../src/model/networks/index.js';
import {
  Classifier,
  InputError,
  loadClassifierFromFile,
  type ModelFunction,
  queryOnly,
  setBackend,
  workerThreads,
} from '../../src/node.js';
import { seededTensor, tinyCnn } from '../fixtures.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const GRAPH = path.join(here, 'fixtures', 'emotion', 'emotion.json');

let cnn: ReturnType<typeof tinyCnn>;
let layers: tf.Sequential;
before(async () => {
  await setBackend();
  cnn = tinyCnn();
  layers = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, activation: 'relu' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3, activation: 'softmax' }),
    ],
  });
});
after(() => {
  cnn.dispose();
  layers.dispose();
});

/** Predictions of `a` and `b` on the same seeded inputs. */
async function samePredictions(a: Classifier, b: Classifier): Promise<void> {
  const x = seededTensor([3, ...a.inputShape], 4) as tf.Tensor4D;
  const [za, zb] = [a.logits(x), b.logits(x)];
  const [va, vb] = [await za.data(), await zb.data()];
  tf.dispose([x, za, zb]);
  for (let i = 0; i < va.length; i++) {
    assert.ok(Math.abs(va[i] - vb[i]) <= 1e-5, `logit ${i}: ${va[i]} vs ${vb[i]}`);
  }
}

test('the table: one adapter per kind, each recognising its own networks only', async () => {
  const kinds = NETWORK_ADAPTERS.map((a) => a.kind);
  assert.equal(new Set(kinds).size, kinds.length, `duplicate kinds in [${kinds}]`);
  const { network: graph } = await loadClassifierFromFile(GRAPH);
  const networks: Record<string, unknown> = {
    'layers-model': layers,
    'graph-model': graph,
    function: cnn.model.network,
    query: queryOnly(cnn.model.network as ModelFunction),
  };
  for (const [kind, network] of Object.entries(networks)) {
    const claimed = NETWORK_ADAPTERS.filter((a) => a.recognise(network)).map((a) => a.kind);
    assert.deepEqual(claimed, [kind], `${kind} claimed by [${claimed}]`);
  }
  (graph as tf.GraphModel).dispose();
  for (const bad of [42, null, 'model.json', { predict: () => 0 }]) {
    assert.throws(
      () => Classifier.create(bad as never),
      (e: unknown) =>
        e instanceof InputError &&
        e.code === 'INVALID_OPTION' &&
        NETWORK_ADAPTERS.every((a) => e.message.includes(a.accepts)),
      `network ${JSON.stringify(bad)} should be refused, listing every kind`,
    );
  }
});

test('kind, differentiable and checksum as each adapter declares', async () => {
  const fromLayers = Classifier.create(layers);
  const { model: fromGraph } = await loadClassifierFromFile(GRAPH);
  const query = Classifier.create(queryOnly(cnn.model.network as ModelFunction), {
    inputShape: [8, 8, 1],
  });
  try {
    const expected: [Classifier, string, boolean, boolean][] = [
      [fromLayers, 'layers-model', true, true],
      [fromGraph, 'graph-model', true, false],
      [cnn.model, 'function', true, false],
      [query, 'query', false, false],
    ];
    for (const [model, kind, differentiable, checksummed] of expected) {
      assert.equal(model.info.kind, kind);
      assert.equal(model.differentiable, differentiable, `${kind}: differentiable`);
      const sum = await model.adapter.checksum(model.network);
      assert.equal(
        sum !== null && /^[0-9a-f]{64}$/.test(sum),
        checksummed,
        `${kind}: checksum ${sum}`,
      );
    }
    // A layers model's checksum is the loader's: save it and load it back.
    const first = await fromLayers.adapter.checksum(fromLayers.network);
    assert.equal(first, await fromLayers.adapter.checksum(fromLayers.network), 'stable checksum');
    // The plan is the adapter's: a layers model in eval mode has one, a function none.
    assert.equal(cnn.model.plan(), undefined);
  } finally {
    fromLayers.dispose();
    fromGraph.dispose();
    (fromGraph.network as tf.GraphModel).dispose();
    query.dispose();
  }
});

test('worker transfer: layers and graph models travel and predict the same; a function and a query-only model are refused by name', async () => {
  const fromLayers = Classifier.create(layers);
  const { model: fromGraph } = await loadClassifierFromFile(GRAPH);
  try {
    for (const model of [fromLayers, fromGraph]) {
      const transfer = model.adapter.transfer;
      assert.ok('send' in transfer, `${model.info.kind} should travel`);
      const payload = await transfer.send(model.network, model.info.name);
      // What crosses to a worker is structured-cloned: do the same here.
      const copy = Classifier.create((await transfer.receive(structuredClone(payload))) as never);
      await samePredictions(model, copy);
      copy.dispose();
      (copy.network as tf.LayersModel | tf.GraphModel).dispose();
    }
  } finally {
    fromLayers.dispose();
    fromGraph.dispose();
    (fromGraph.network as tf.GraphModel).dispose();
  }
  const query = Classifier.create(queryOnly(cnn.model.network as ModelFunction), {
    inputShape: [8, 8, 1],
    name: 'remote scorer',
  });
  const pixels = seededTensor([4, 8, 8, 1], 2);
  const data = {
    images: (await pixels.data()) as Float32Array,
    labels: Int32Array.from([0, 1, 2, 3]),
    shape: [8, 8, 1] as const,
    numClasses: 4,
    source: 'seeded',
  };
  pixels.dispose();
  for (const [model, what] of [
    [cnn.model, /plain function/],
    [query, /query-only/],
  ] as const) {
    await assert.rejects(
      evaluate(
        model,
        data,
        { attacks: [{ name: 'noise' }], epsilons: [0.1] },
        { minimalEpsilon: false, executor: workerThreads(2) },
      ),
      (e: unknown) =>
        e instanceof InputError &&
        e.code === 'INVALID_OPTION' &&
        /^workerThreads: the model /.test(e.message) &&
        e.message.includes(JSON.stringify(model.info.name)) &&
        what.test(e.message),
    );
  }
  query.dispose();
});

test('a network refused while it is probed frees the preprocessing it was given', () => {
  const preprocess = { mean: [0.5], std: [0.25] };
  const n0 = tf.memory().numTensors;
  assert.throws(
    () => Classifier.create((() => [[0, 1]]) as never, { inputShape: [8, 8, 1], preprocess }),
    (e: unknown) =>
      e instanceof InputError && /^the model function returned an array/.test(e.message),
  );
  assert.throws(
    () => Classifier.create(layers, { numClasses: 4, preprocess }),
    (e: unknown) => e instanceof InputError && e.code === 'CLASS_COUNT_MISMATCH',
  );
  assert.equal(tf.memory().numTensors, n0, 'no tensor leaked');
});

test('creating a classifier runs its network twice: the blank probe (shape and values) and the ramp', () => {
  let calls = 0;
  // [1 − m, m] for the image mean m: a distribution on both probes, so both are run.
  const counted: ModelFunction = (x) => {
    calls++;
    return tf.tidy(() => {
      const m = tf.reshape(tf.mean(x, [1, 2, 3]), [-1, 1]);
      return tf.concat([tf.sub(1, m), m], 1);
    });
  };
  const model = Classifier.create(counted, { inputShape: [4, 4, 1] });
  assert.equal(calls, 2, 'forward passes at creation');
  assert.equal(model.info.outputLooksLikeProbabilities, true);
  model.dispose();
});
