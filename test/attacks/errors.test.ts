/**
 * Bad input gets a coded error naming the problem, never a crash deep inside
 * TF.js and never a silently wrong result.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  AdvkitError,
  Classifier,
  createAttack,
  FGSM,
  PGD,
  setBackend,
  targeted,
} from '../../src/index.js';
import { seededTensor, tinyCnn } from '../fixtures.js';

let cnn: ReturnType<typeof tinyCnn>;
let x: tf.Tensor4D;

before(async () => {
  await setBackend();
  cnn = tinyCnn();
  x = seededTensor([2, 8, 8, 1], 1) as tf.Tensor4D;
});
after(() => {
  x.dispose();
  cnn.dispose();
});

function coded(code: string, fragment: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof AdvkitError, `expected AdvkitError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, fragment);
    return true;
  };
}

const cases: [string, () => Promise<unknown>, string, RegExp][] = [
  [
    'wrong rank',
    () =>
      new FGSM().run(
        cnn.model,
        { x: tf.zeros([8, 8, 1]) as unknown as tf.Tensor4D, labels: [0] },
        [0.1],
      ),
    'INVALID_SHAPE',
    /\[batch, 8, 8, 1\]/,
  ],
  [
    'wrong size',
    () =>
      new FGSM().run(
        cnn.model,
        { x: tf.zeros([2, 9, 8, 1]) as tf.Tensor4D, labels: [0, 1] },
        [0.1],
      ),
    'INVALID_SHAPE',
    /received \[2, 9, 8, 1\]/,
  ],
  [
    'not a tensor',
    () => new FGSM().run(cnn.model, { x: [[1]] as unknown as tf.Tensor4D, labels: [0] }, [0.1]),
    'INVALID_SHAPE',
    /tf.Tensor4D/,
  ],
  [
    'label out of range',
    () => new FGSM().run(cnn.model, { x, labels: [0, 4] }, [0.1]),
    'INVALID_LABELS',
    /labels\[1\] = 4.*\[0, 3\]/,
  ],
  [
    'non-integer label',
    () => new FGSM().run(cnn.model, { x, labels: [0, 1.5] }, [0.1]),
    'INVALID_LABELS',
    /1.5/,
  ],
  [
    'label count',
    () => new FGSM().run(cnn.model, { x, labels: [0] }, [0.1]),
    'INVALID_LABELS',
    /1 entries but the batch has 2/,
  ],
  [
    'pixels outside bounds',
    () =>
      new FGSM().run(
        cnn.model,
        { x: tf.fill([1, 8, 8, 1], 255) as tf.Tensor4D, labels: [0] },
        [0.1],
      ),
    'OUT_OF_BOUNDS',
    /outside the model's bounds \[0, 1\]/,
  ],
  [
    'NaN pixels',
    () =>
      new FGSM().run(
        cnn.model,
        { x: tf.fill([1, 8, 8, 1], Number.NaN) as tf.Tensor4D, labels: [0] },
        [0.1],
      ),
    'NOT_FINITE',
    /NaN/,
  ],
  [
    'Infinity pixels',
    () =>
      new FGSM().run(
        cnn.model,
        { x: tf.fill([1, 8, 8, 1], Number.POSITIVE_INFINITY) as tf.Tensor4D, labels: [0] },
        [0.1],
      ),
    'NOT_FINITE',
    /Infinity/,
  ],
  [
    'negative ε',
    () => new FGSM().run(cnn.model, { x, labels: [0, 1] }, [-0.1]),
    'INVALID_OPTION',
    /≥ 0/,
  ],
  [
    'NaN ε',
    () => new FGSM().run(cnn.model, { x, labels: [0, 1] }, [Number.NaN]),
    'INVALID_OPTION',
    /finite/,
  ],
  [
    'empty ε list',
    () => new FGSM().run(cnn.model, { x, labels: [0, 1] }, []),
    'INVALID_OPTION',
    /non-empty/,
  ],
  ['unknown norm', async () => new FGSM({ norm: 'l7' as 'l2' }), 'UNKNOWN_NORM', /linf, l2, l1/],
  [
    'unknown attack',
    async () => createAttack('deepfool' as 'fgsm'),
    'INVALID_OPTION',
    /fgsm, fgsm-rs/,
  ],
  [
    'bad steps',
    async () => new PGD({ steps: 0 }),
    'INVALID_OPTION',
    /steps must be a positive integer/,
  ],
  [
    'fixed target out of range',
    () =>
      new FGSM().run(
        cnn.model,
        { x, labels: [0, 1], goal: targeted({ kind: 'fixed', target: 9 }) },
        [0.1],
      ),
    'INVALID_LABELS',
    /target class/,
  ],
  [
    'target list too short',
    () =>
      new FGSM().run(
        cnn.model,
        { x, labels: [0, 1], goal: targeted({ kind: 'list', targets: [1] }) },
        [0.1],
      ),
    'INVALID_LABELS',
    /one target per example/,
  ],
  [
    'class-count mismatch',
    async () =>
      Classifier.create((z: tf.Tensor4D) => tf.zeros([z.shape[0], 3]), {
        inputShape: [8, 8, 1],
        numClasses: 10,
      }),
    'CLASS_COUNT_MISMATCH',
    /expected 10 classes but the model outputs 3/,
  ],
  [
    'model output not 2-D',
    async () =>
      Classifier.create((z: tf.Tensor4D) => tf.zeros([z.shape[0], 3, 2]), {
        inputShape: [8, 8, 1],
      }),
    'INVALID_SHAPE',
    /\[batch, classes\]/,
  ],
  [
    'bad bounds',
    async () =>
      Classifier.create((z: tf.Tensor4D) => tf.zeros([z.shape[0], 3]), {
        inputShape: [8, 8, 1],
        bounds: [1, 0],
      }),
    'INVALID_OPTION',
    /lo < hi/,
  ],
  [
    'mean/std channel mismatch',
    async () => tinyCnn({ preprocess: { mean: [0.1, 0.2], std: [1, 1] } }),
    'INVALID_OPTION',
    /2 values; the model has 1 channels/,
  ],
  [
    'function model without shape',
    async () => Classifier.create((z: tf.Tensor4D) => z),
    'INVALID_SHAPE',
    /inputShape/,
  ],
];

for (const [name, run, code, fragment] of cases) {
  test(`bad input: ${name}`, async () => {
    await assert.rejects(run(), coded(code, fragment));
  });
}
