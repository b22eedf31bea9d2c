/**
 * What the report says about the model's output and the data's classes
 * (issue 17): the detected kind and how, OUTPUT_LOOKS_LIKE_PROBABILITIES
 * for 'logits' that are probabilities (any kind of model), OUTPUT_KIND_FORCED
 * for 'logits' forced on a graph ending in Softmax, and the classes covered.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Classifier, evaluate, setBackend, toMarkdown } from '../../src/index.js';
import { syntheticData } from '../eval/helpers.js';
import { convGraph } from './graph-fixture.js';

before(async () => {
  await setBackend();
});

const suite = { attacks: [{ name: 'fgsm' as const }], epsilons: [0, 0.1] };
const quick = { minimalEpsilon: false as const, diagnostics: false, modelChecksum: 'test' };

test('a graph ending in Softmax: the report says probabilities and how it was detected', async () => {
  const { graph } = await convGraph(4, 'softmax');
  const model = Classifier.create(graph);
  const r = await evaluate(model, syntheticData(6, [6, 6, 1], 4), suite, quick);
  assert.equal(r.model.output, 'probabilities');
  assert.match(r.model.outputDetection ?? '', /graph ends in Softmax/);
  const row = r.checklist.find((c) => c.field === 'Model output');
  assert.match(
    row?.value ?? '',
    /^probabilities \(graph ends in Softmax \(node "dense\/Softmax"\)/,
  );
  assert.match(toMarkdown(r), /\| Model output \| probabilities \(graph ends in Softmax/);
  assert.equal(
    r.warnings.filter((w) => w.code.startsWith('OUTPUT_')).length,
    0,
    'no output-kind warning when the kind is detected',
  );
  model.dispose();
});

test("output: 'logits' forced on a Softmax graph: OUTPUT_KIND_FORCED and OUTPUT_LOOKS_LIKE_PROBABILITIES", async () => {
  const { graph } = await convGraph(4, 'softmax');
  const model = Classifier.create(graph, { output: 'logits' });
  assert.equal(model.info.outputLooksLikeProbabilities, true);
  const r = await evaluate(model, syntheticData(6, [6, 6, 1], 4), suite, quick);
  const codes = r.warnings.map((w) => w.code);
  assert.ok(codes.includes('OUTPUT_KIND_FORCED'), `warnings: ${codes.join(', ')}`);
  assert.ok(codes.includes('OUTPUT_LOOKS_LIKE_PROBABILITIES'), `warnings: ${codes.join(', ')}`);
  model.dispose();
});

test('a function returning softmax taken as logits gets OUTPUT_LOOKS_LIKE_PROBABILITIES', async () => {
  const w = tf.keep(tf.randomUniform([36, 3], -1, 1, 'float32', 4));
  const fn = (x: tf.Tensor4D) => tf.softmax(tf.matMul(tf.reshape(x, [x.shape[0], 36]), w));
  const model = Classifier.create(fn, { inputShape: [6, 6, 1] });
  assert.equal(model.info.output, 'logits');
  assert.equal(model.info.outputLooksLikeProbabilities, true);
  const r = await evaluate(model, syntheticData(4, [6, 6, 1], 3), suite, quick);
  const warning = r.warnings.find((x) => x.code === 'OUTPUT_LOOKS_LIKE_PROBABILITIES');
  assert.match(warning?.message ?? '', /softmax is applied twice/);
  const logits = Classifier.create(
    (x: tf.Tensor4D) => tf.matMul(tf.reshape(x, [x.shape[0], 36]), w),
    { inputShape: [6, 6, 1] },
  );
  assert.equal(logits.info.outputLooksLikeProbabilities, undefined, 'real logits are not flagged');
  model.dispose();
  logits.dispose();
  w.dispose();
});

test('data covering some of the classes: evaluated, and the report lists the classes covered', async () => {
  const { graph } = await convGraph(5, 'softmax');
  const model = Classifier.create(graph);
  const data = syntheticData(6, [6, 6, 1], 5);
  const only2 = {
    ...data,
    labels: new Int32Array(6).fill(2),
    numClasses: 3,
    classNames: ['0', '1', 'cat'],
  };
  const r = await evaluate(model, only2, suite, quick);
  assert.deepEqual(r.data.classesCovered, [{ label: 2, name: 'cat', examples: 6 }]);
  const row = r.checklist.find((c) => c.field === 'Classes covered');
  assert.equal(row?.value, "1 of the model's 5: 2 (cat) × 6");
  model.dispose();
});
