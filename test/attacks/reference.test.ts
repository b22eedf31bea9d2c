/**
 * Frozen reference values on a fixed seeded model and input: any change in
 * the numerics of an attack shows up here. Values were computed once with
 * the wasm backend and agree with the cpu backend to the tolerances used.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { type AttackName, createAttack, setBackend } from '../../src/index.js';
import { seededTensor, tinyCnn } from '../fixtures.js';

const REFERENCE: [AttackName, object, { l1Delta: number; predicted: number[]; loss: number[] }][] =
  [
    [
      'fgsm',
      {},
      { l1Delta: 24.64094, predicted: [1, 1, 1, 1], loss: [2.20285, 0.61295, 2.1596, 2.69315] },
    ],
    [
      'fgsm',
      { norm: 'l2' },
      { l1Delta: 2.48301, predicted: [1, 1, 1, 1], loss: [1.69801, 0.30525, 1.11533, 2.20425] },
    ],
    [
      'fgsm',
      { norm: 'l1' },
      { l1Delta: 0.38003, predicted: [1, 1, 1, 1], loss: [1.63563, 0.27308, 0.99521, 2.10885] },
    ],
    [
      'pgd',
      { steps: 5 },
      { l1Delta: 15.75149, predicted: [1, 1, 1, 1], loss: [1.55609, 0.61899, 1.47677, 1.99881] },
    ],
    [
      'mifgsm',
      { steps: 5 },
      { l1Delta: 23.00011, predicted: [1, 1, 1, 1], loss: [2.37509, 0.63287, 2.19562, 2.80051] },
    ],
    [
      'apgd',
      { steps: 10 },
      { l1Delta: 18.23149, predicted: [1, 1, 1, 1], loss: [1.55609, 0.65221, 2.12032, 1.99881] },
    ],
    [
      'apgd-t',
      { steps: 5, targets: 2 },
      { l1Delta: 18.18194, predicted: [1, 1, 1, 1], loss: [1.55609, 0.45344, 2.12332, 1.99881] },
    ],
    [
      'rfgsm',
      {},
      { l1Delta: 13.30352, predicted: [1, 1, 1, 1], loss: [1.90699, 0.45292, 1.57581, 2.47508] },
    ],
  ];

let cnn: ReturnType<typeof tinyCnn>;
let x: tf.Tensor4D;
before(async () => {
  await setBackend();
  cnn = tinyCnn();
  x = seededTensor([4, 8, 8, 1], 77) as tf.Tensor4D;
});
after(() => {
  x.dispose();
  cnn.dispose();
});

for (const [name, options, expected] of REFERENCE) {
  test(`frozen reference: ${name} ${JSON.stringify(options)} at ε = 0.1`, async () => {
    const [r] = await createAttack(name, options).run(
      cnn.model,
      { x, labels: [0, 1, 2, 3], seed: 5 },
      [0.1],
    );
    const l1 = tf.tidy(() => tf.sum(tf.abs(tf.sub(r.xAdv, x))).dataSync()[0]);
    r.xAdv.dispose();
    assert.ok(
      Math.abs(l1 - expected.l1Delta) < 2e-4 * expected.l1Delta,
      `‖δ‖₁ summed: ${l1} vs ${expected.l1Delta}`,
    );
    assert.deepEqual(r.predicted, expected.predicted);
    for (const [i, l] of r.loss.entries()) {
      assert.ok(Math.abs(l - expected.loss[i]) < 1e-4, `loss[${i}]: ${l} vs ${expected.loss[i]}`);
    }
  });
}
