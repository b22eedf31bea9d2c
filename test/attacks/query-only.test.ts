/**
 * A model one can only query (`queryOnly`): the query attacks (Square,
 * noise) run on it and leak nothing; every gradient attack, the input
 * gradient and TF.js's own autodiff refuse it with NOT_DIFFERENTIABLE
 * naming what can run; an evaluation with a gradient attack in its suite
 * fails before any query, and one with query attacks only reports that the
 * gradient diagnostics were skipped. A transfer attack from a
 * differentiable surrogate still runs.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  ATTACK_NAMES,
  ATTACKS,
  Classifier,
  createAttack,
  disposeResults,
  evaluate,
  InputError,
  type ModelFunction,
  objectiveGradient,
  queryAttackNames,
  queryOnly,
  setBackend,
} from '../../src/index.js';
import { seededTensor, tinyCnn } from '../fixtures.js';

let cnn: ReturnType<typeof tinyCnn>;
let query: Classifier;
let queries = 0;
let x: tf.Tensor4D;
const labels = [0, 1, 2, 3, 1];

before(async () => {
  await setBackend();
  cnn = tinyCnn();
  const net = cnn.model.network as ModelFunction;
  query = Classifier.create(
    queryOnly((xs) => {
      queries++;
      return net(xs);
    }),
    { inputShape: [8, 8, 1], name: 'scores API' },
  );
  x = seededTensor([5, 8, 8, 1], 21) as tf.Tensor4D;
});
after(() => {
  x.dispose();
  query.dispose();
  cnn.dispose();
});

const notDifferentiable = (what: RegExp) => (e: unknown) =>
  e instanceof InputError &&
  e.code === 'NOT_DIFFERENTIABLE' &&
  what.test(e.message) &&
  /query-only/.test(e.message);

test('queryOnly wraps a query function: kind query, not differentiable, same scores as the function', async () => {
  assert.equal(query.info.kind, 'query');
  assert.equal(query.differentiable, false);
  assert.equal(query.numClasses, 4);
  const [a, b] = [query.logits(x), cnn.model.logits(x)];
  assert.deepEqual(await a.data(), await b.data());
  tf.dispose([a, b]);
  // A `{ query }` object is taken as it is.
  const plain = Classifier.create(
    { query: cnn.model.network as ModelFunction },
    {
      inputShape: [8, 8, 1],
    },
  );
  assert.equal(plain.info.kind, 'query');
  plain.dispose();
  assert.throws(
    () => queryOnly('https://example.org/score' as never),
    (e: unknown) => e instanceof InputError && e.code === 'INVALID_OPTION',
  );
  assert.throws(
    () => Classifier.create(queryOnly(cnn.model.network as ModelFunction)),
    (e: unknown) => e instanceof InputError && /inputShape/.test(e.message),
  );
  // An async scoring API, or plain numbers: refused when created, saying what to return.
  for (const [f, what] of [
    [async () => tf.zeros([1, 4]), /returned a Promise: advkit queries the model synchronously/],
    [() => [[0, 1, 2, 3]], /returned an array; return a tf\.Tensor/],
  ] as const) {
    assert.throws(
      () => Classifier.create(queryOnly(f as never), { inputShape: [8, 8, 1] }),
      (e: unknown) =>
        e instanceof InputError && e.code === 'INVALID_OPTION' && what.test(e.message),
    );
    assert.throws(
      () => Classifier.create(f as never, { inputShape: [8, 8, 1] }),
      (e: unknown) => e instanceof InputError && /^the model function returned/.test(e.message),
    );
  }
});

test('Square and noise run on a query-only model and leak nothing', async () => {
  for (const [name, options] of [
    ['square', { queries: 30 }],
    ['noise', { restarts: 5 }],
  ] as const) {
    const n0 = tf.memory().numTensors;
    const before = queries;
    const results = await createAttack(name, options).run(
      query,
      { x, labels, seed: 1 },
      [0, 0.1, 0.3],
    );
    assert.equal(results.length, 3);
    assert.ok(queries > before, `${name} queried the model`);
    for (const r of results) {
      assert.ok(r.queries, `${name} reports queries`);
      for (const d of r.distance) assert.ok(d <= r.epsilon + 1e-5, `${name}: ‖δ‖ ${d} > ε`);
    }
    disposeResults(results);
    assert.equal(tf.memory().numTensors, n0, `${name} leaked tensors`);
  }
});

test('every gradient attack refuses a query-only model, naming itself and the query attacks', async () => {
  const list = new RegExp(queryAttackNames().join(', '));
  for (const name of ATTACK_NAMES.filter((n) => ATTACKS[n].needsGradient)) {
    const n0 = tf.memory().numTensors;
    const before = queries;
    await assert.rejects(
      createAttack(name).run(query, { x, labels }, [0.1]),
      notDifferentiable(new RegExp(`^${name} needs the model's gradient.*${list.source}`)),
      `${name} should refuse`,
    );
    assert.equal(queries, before, `${name} queried the model before refusing`);
    assert.equal(tf.memory().numTensors, n0, `${name} leaked tensors when refusing`);
  }
});

test('objectiveGradient and tf.grad through the logits refuse with a coded error', () => {
  const labelsT = tf.tensor1d(labels, 'int32');
  const n0 = tf.memory().numTensors;
  assert.throws(
    () => objectiveGradient(query, x, labelsT, 'ce'),
    notDifferentiable(/^objectiveGradient: the model "scores API"/),
  );
  assert.throws(
    () => tf.grad((xi) => tf.sum(query.logits(xi as tf.Tensor4D)))(x),
    notDifferentiable(/no gradient/),
  );
  labelsT.dispose();
  assert.ok(tf.memory().numTensors <= n0 + 2, 'refusals kept tensors');
});

test('a transfer attack from a differentiable surrogate runs on a query-only model', async () => {
  const results = await createAttack('pgd', { steps: 3, surrogate: cnn.model }).run(
    query,
    { x, labels },
    [0.2],
  );
  assert.equal(results[0].success.length, 5);
  disposeResults(results);
});

test('evaluate: a gradient attack in the suite fails up front; query attacks only run, the report says the diagnostics were skipped', async () => {
  const pixels = (await x.data()) as Float32Array;
  const data = {
    images: pixels,
    labels: Int32Array.from(labels),
    shape: [8, 8, 1] as const,
    numClasses: 4,
    source: 'seeded',
  };
  const before = queries;
  await assert.rejects(
    evaluate(
      query,
      data,
      { attacks: [{ name: 'noise' }, { name: 'fgsm' }, { name: 'apgd' }], epsilons: [0.1] },
      { minimalEpsilon: false },
    ),
    notDifferentiable(/fgsm, apgd need the model's gradient; attacks that only query the model: /),
  );
  assert.equal(queries, before, 'the evaluation queried the model before refusing');
  const n0 = tf.memory().numTensors;
  const report = await evaluate(
    query,
    data,
    {
      attacks: [
        { name: 'noise', options: { restarts: 3 } },
        { name: 'square', options: { queries: 10 } },
      ],
      epsilons: [0.1],
    },
    { minimalEpsilon: false },
  );
  assert.equal(tf.memory().numTensors, n0, 'evaluate leaked tensors');
  assert.equal(report.model.kind, 'query');
  assert.equal(report.diagnostics, null);
  assert.ok(
    report.warnings.some((w) => w.code === 'QUERY_ONLY_MODEL' && /skipped/.test(w.message)),
    `warnings: ${report.warnings.map((w) => w.code)}`,
  );
  assert.deepEqual(
    report.attacks.map((a) => a.name),
    ['noise', 'square'],
  );
  // A transfer attack in the suite takes its gradient from the surrogate: it runs.
  const transfer = await evaluate(
    query,
    data,
    { attacks: [{ name: 'fgsm', options: { surrogate: cnn.model } }], epsilons: [0.1] },
    { minimalEpsilon: false },
  );
  assert.equal(transfer.attacks[0].results.length, 1);
});
