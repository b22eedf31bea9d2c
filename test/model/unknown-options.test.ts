/**
 * One table over every public entry point that takes options (issue 17): a
 * misspelt or wrong-shaped option name is INVALID_OPTION naming the key and
 * the accepted ones, never silently dropped. Then the library checks of
 * issue 13: an unknown loss fails in the constructor (it used to fail at
 * run() and leak a tensor), an unknown goal kind fails (it used to run
 * untargeted), and evaluate takes plain arrays (it used to throw a
 * TypeError).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  AdvkitError,
  ATTACK_NAMES,
  adversarialTrain,
  Classifier,
  createAttack,
  evaluate,
  FGSM,
  loadClassifierFrom,
  loadClassifierFromFile,
  loadClassifierFromUrl,
  loadImageFolder,
  loadMnist,
  PGD,
  saveModelFiles,
  setBackend,
  trainRun,
} from '../../src/node.js';
import { linearModel } from '../fixtures.js';

let modelJson: string;
let folder: string;

before(async () => {
  await setBackend();
  const net = tf.sequential({
    layers: [tf.layers.flatten({ inputShape: [2, 2, 1] }), tf.layers.dense({ units: 3 })],
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'advkit-opts-'));
  await saveModelFiles(net, dir);
  modelJson = path.join(dir, 'model.json');
  folder = path.join(dir, 'images');
  mkdirSync(path.join(folder, '0'), { recursive: true });
});

const lin = () =>
  linearModel(
    [
      [1, 0, 0, 0],
      [0, 1, 0, 0],
      [0, 0, 1, 0],
    ],
    [0, 0, 0],
    [2, 2, 1],
  );
const data = () => ({
  images: new Float32Array(8).fill(0.5),
  labels: new Int32Array([0, 1]),
  shape: [2, 2, 1] as [number, number, number],
  numClasses: 3,
  source: 'two examples',
});
const suite = { attacks: [{ name: 'fgsm' as const }], epsilons: [0.1] };
const quick = { minimalEpsilon: false as const, diagnostics: false, modelChecksum: 'test' };

/** [entry point, call with a bad key, the key, a name the message lists as accepted] */
const TABLE: [string, () => unknown, string, string][] = [
  [
    'Classifier.create',
    () =>
      Classifier.create(
        tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [1] })] }),
        { mean: [0.5] } as never,
      ),
    'mean',
    'preprocess',
  ],
  [
    'loadClassifierFromFile (flat mean, the old shape)',
    () => loadClassifierFromFile(modelJson, { mean: [0.5], std: [0.2] } as never),
    'mean',
    'preprocess',
  ],
  [
    'loadClassifierFromFile',
    () => loadClassifierFromFile(modelJson, { bound: [0, 1] } as never),
    'bound',
    'bounds',
  ],
  [
    'loadClassifierFromUrl',
    () => loadClassifierFromUrl('http://localhost:1/model.json', { outputs: 'logits' } as never),
    'outputs',
    'output',
  ],
  [
    'loadClassifierFrom',
    () => loadClassifierFrom(tf.io.fromMemory({}), 'memory', { classes: 3 } as never),
    'classes',
    'numClasses',
  ],
  ...ATTACK_NAMES.map((name): [string, () => unknown, string, string] => [
    `createAttack('${name}')`,
    () => createAttack(name, { stepsize: 0.1 } as never),
    'stepsize',
    'norm',
  ]),
  ['new PGD', () => new PGD({ step: 3 } as never), 'step', 'steps'],
  ['new FGSM', () => new FGSM({ steps: 3 } as never), 'steps', 'surrogate'],
  [
    'evaluate options',
    () => evaluate(lin().model, data(), suite, { ...quick, batchsize: 2 } as never),
    'batchsize',
    'batchSize',
  ],
  [
    'evaluate suite',
    () => evaluate(lin().model, data(), { ...suite, epsilon: [0.1] } as never, quick),
    'epsilon',
    'epsilons',
  ],
  [
    'evaluate suite.attacks[0]',
    () =>
      evaluate(
        lin().model,
        data(),
        { attacks: [{ name: 'pgd', steps: 3 }], epsilons: [0.1] } as never,
        quick,
      ),
    'steps',
    'options',
  ],
  [
    'evaluate suite attack options',
    () =>
      evaluate(
        lin().model,
        data(),
        { attacks: [{ name: 'pgd', options: { step: 3 } }], epsilons: [0.1] } as never,
        quick,
      ),
    'step',
    'restarts',
  ],
  [
    'evaluate minimalEpsilon',
    () =>
      evaluate(lin().model, data(), suite, { ...quick, minimalEpsilon: { epsmax: 1 } } as never),
    'epsmax',
    'epsMax',
  ],
  [
    'adversarialTrain',
    () =>
      adversarialTrain(
        tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [1] })] }),
        { images: new Float32Array(1), labels: [0] },
        { epoch: 1 } as never,
      ),
    'epoch',
    'epochs',
  ],
  [
    'adversarialTrain heldOut',
    () =>
      adversarialTrain(
        tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [1] })] }),
        { images: new Float32Array(1), labels: [0] },
        {
          eps: 0.1,
          heldOut: { data: { images: new Float32Array(1), labels: [0] }, step: 3 },
        } as never,
      ),
    'step',
    'steps',
  ],
  [
    'trainRun',
    () =>
      trainRun(tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [1] })] }), {
        train: { images: new Float32Array(1), labels: [0] },
        trainName: 'one',
        out: folder,
        training: { method: 'standard' },
        output: 'x',
      } as never),
    'output',
    'out',
  ],
  ['loadMnist', () => loadMnist('test', { count: 5 } as never), 'count', 'limit'],
  [
    'loadImageFolder',
    () => loadImageFolder(folder, { shape: [2, 2, 1], labelCsv: 'x.csv' } as never),
    'labelCsv',
    'labelsCsv',
  ],
];

for (const [where, call, key, accepted] of TABLE) {
  test(`unknown option: ${where}`, async () => {
    const before = tf.memory().numTensors;
    await assert.rejects(
      async () => call(),
      (e: unknown) =>
        e instanceof AdvkitError &&
        e.code === 'INVALID_OPTION' &&
        e.message.includes(`"${key}"`) &&
        new RegExp(`accepted options are [^;]*\\b${accepted}\\b`).test(e.message),
    );
    assert.ok(
      tf.memory().numTensors <= before + 4,
      `no tensors left behind (${tf.memory().numTensors - before})`,
    );
  });
}

test("loss: 'bogus' is refused by the constructor, before run() creates a tensor", () => {
  const before = tf.memory().numTensors;
  for (const name of ATTACK_NAMES) {
    assert.throws(
      () => createAttack(name, { loss: 'bogus' } as never),
      (e: unknown) =>
        e instanceof AdvkitError &&
        e.code === 'INVALID_OPTION' &&
        /unknown loss "bogus"; expected one of ce, cw, dlr/.test(e.message),
      name,
    );
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
});

test("goal { kind: 'bogus' } is refused (it ran untargeted), by run() and by evaluate", async () => {
  const { model, dispose } = lin();
  const x = tf.fill([2, 2, 2, 1], 0.5) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  await assert.rejects(
    new FGSM().run(model, { x, labels: [0, 1], goal: { kind: 'bogus' } as never }, [0.1]),
    (e: unknown) =>
      e instanceof AdvkitError &&
      e.code === 'INVALID_OPTION' &&
      /goal\.kind must be 'untargeted' or 'targeted' .*received "bogus"/.test(e.message),
  );
  await assert.rejects(
    new FGSM().run(
      model,
      { x, labels: [0, 1], goal: { kind: 'targeted', rule: { kind: 'nearest' } } as never },
      [0.1],
    ),
    (e: unknown) =>
      e instanceof AdvkitError &&
      /goal\.rule\.kind must be one of fixed, random, least-likely, list; received "nearest"/.test(
        e.message,
      ),
  );
  assert.equal(tf.memory().numTensors, before, 'a refused goal leaks no tensor');
  await assert.rejects(
    evaluate(model, data(), { ...suite, goal: { kind: 'bogus' } } as never, quick),
    (e: unknown) => e instanceof AdvkitError && /suite\.goal\.kind must be/.test(e.message),
  );
  x.dispose();
  dispose();
});

test('evaluate takes images and labels as plain arrays, with the same report as typed arrays', async () => {
  const { model, dispose } = lin();
  const typed = await evaluate(model, data(), suite, quick);
  const d = data();
  const plain = await evaluate(
    model,
    { ...d, images: Array.from(d.images), labels: Array.from(d.labels) } as never,
    suite,
    quick,
  );
  assert.deepEqual(plain.attacks, typed.attacks);
  await assert.rejects(
    evaluate(model, { ...d, images: 'pixels' } as never, suite, quick),
    (e: unknown) =>
      e instanceof AdvkitError &&
      /data\.images must be a Float32Array or an array of numbers/.test(e.message),
  );
  await assert.rejects(
    evaluate(model, { ...d, labels: [0, 1.5] } as never, suite, quick),
    (e: unknown) =>
      e instanceof AdvkitError &&
      e.code === 'INVALID_LABELS' &&
      /data\.labels\[1\] = 1\.5 is not a class index/.test(e.message),
  );
  dispose();
});
