/**
 * Bad arguments to adversarialTrain are rejected up front with coded
 * InputErrors that name the option, the value and what was expected.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type * as tf from '@tensorflow/tfjs';
import { InputError, setBackend } from '../../src/index.js';
import { type AdversarialTrainOptions, adversarialTrain } from '../../src/train/index.js';
import { quadrants, tinyNet } from './helpers.js';

const data = quadrants(16, 1);
let model: tf.Sequential;

before(async () => {
  await setBackend();
  model = tinyNet();
});
after(() => model.dispose());

function rejects(code: string, fragment: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, fragment);
    return true;
  };
}

const cases: [string, AdversarialTrainOptions, string, RegExp][] = [
  [
    'unknown method',
    { method: 'free' as never, eps: 0.1 },
    'INVALID_OPTION',
    /method must be one of standard, fgsm, fgsm-rs, pgd; received "free"/,
  ],
  [
    'missing eps',
    { method: 'fgsm-rs' },
    'INVALID_OPTION',
    /eps must be a positive number for method fgsm-rs/,
  ],
  [
    'negative eps',
    { eps: -0.1 },
    'INVALID_OPTION',
    /eps must be a positive number; received -0\.1/,
  ],
  [
    'zero epochs',
    { eps: 0.1, epochs: 0 },
    'INVALID_OPTION',
    /epochs must be a positive integer; received 0/,
  ],
  [
    'fractional batch',
    { eps: 0.1, batchSize: 2.5 },
    'INVALID_OPTION',
    /batchSize must be a positive integer/,
  ],
  [
    'NaN lr',
    { eps: 0.1, lr: Number.NaN },
    'INVALID_OPTION',
    /lr must be a positive number; received NaN/,
  ],
  ['bad alpha', { eps: 0.1, alpha: 0 }, 'INVALID_OPTION', /alpha must be a positive number/],
  [
    'bad attack label',
    { eps: 0.1, attackLabel: 'target' as never },
    'INVALID_OPTION',
    /attackLabel must be one of true, predicted/,
  ],
  [
    'bad schedule',
    { eps: 0.1, schedule: 'cosine' as never },
    'INVALID_OPTION',
    /schedule must be one of constant, cyclic, multistep/,
  ],
  [
    'bad optimizer',
    { eps: 0.1, optimizer: 'rmsprop' as never },
    'INVALID_OPTION',
    /optimizer must be one of adam, sgd/,
  ],
  [
    'clean weight 1',
    { method: 'fgsm', eps: 0.1, cleanWeight: 1 },
    'INVALID_OPTION',
    /cleanWeight must be a number in \[0, 1\)/,
  ],
  ['fractional seed', { eps: 0.1, seed: 0.5 }, 'INVALID_OPTION', /seed must be an integer/],
  [
    'held-out steps',
    { eps: 0.1, heldOut: { data, steps: 0 } },
    'INVALID_OPTION',
    /heldOut\.steps must be a positive integer/,
  ],
];

for (const [name, options, code, fragment] of cases) {
  test(`rejects ${name}`, async () => {
    await assert.rejects(adversarialTrain(model, data, options), rejects(code, fragment));
  });
}

test('rejects data that does not fit the model', async () => {
  const opts = { eps: 0.1, epochs: 1 };
  await assert.rejects(
    adversarialTrain(model, { images: data.images.subarray(10), labels: data.labels }, opts),
    rejects(
      'INVALID_SHAPE',
      /16 labels and 1014 pixel values; the model's input \[8, 8, 1\] needs 64/,
    ),
  );
  await assert.rejects(
    adversarialTrain(
      model,
      { images: data.images, labels: [...data.labels.slice(0, 15), 4] },
      opts,
    ),
    rejects('INVALID_LABELS', /data\.labels\[15\] is 4; labels must be integers in \[0, 3\]/),
  );
  const bright = data.images.map((v) => v * 2);
  await assert.rejects(
    adversarialTrain(model, { images: bright, labels: data.labels }, opts),
    rejects('OUT_OF_BOUNDS', /outside the bounds \[0, 1\]/),
  );
  await assert.rejects(
    adversarialTrain(model, data, {
      ...opts,
      heldOut: { data: { images: new Float32Array(64), labels: [9] } },
    }),
    rejects('INVALID_LABELS', /heldOut\.data\.labels\[0\] is 9/),
  );
  await assert.rejects(
    adversarialTrain((() => 0) as never, data, opts),
    rejects('INVALID_OPTION', /model must be a tf\.LayersModel/),
  );
});
