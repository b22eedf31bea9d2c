/**
 * The closed-form objective gradients (`objectiveWithGradient`) equal
 * TF.js's autodiff of `objective`, untargeted and targeted, on wasm and cpu,
 * including CW's ties for the largest other logit; DLR has none. CE's
 * value and gradient on confident logits match a float64 reference.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { Classifier } from '../../src/model/classifier.js';
import { objectiveGradient } from '../../src/model/gradient.js';
import { crossEntropy, objective, objectiveWithGradient } from '../../src/threat-model/losses.js';
import { assertClose, seeded } from '../backend/helpers.js';

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: CE and CW gradients in closed form equal autodiff, targeted or not`, async () => {
    await setBackend(backend);
    const values = seeded(6 * 5, 3, -4, 4);
    // Example 2: classes 1 and 3 tie for the largest logit other than label 0.
    values.set([0.5, 2, -1, 2, 1], 10);
    const logits = tf.tensor2d(values, [6, 5]);
    const labels = tf.tensor1d([0, 4, 0, 2, 1, 3], 'int32');
    const targets = tf.tensor1d([1, 0, 4, 2, 3, 3], 'int32');
    for (const loss of ['ce', 'cw'] as const) {
      for (const t of [undefined, targets]) {
        const before = tf.memory().numTensors;
        const closed = objectiveWithGradient(loss, logits, labels, t);
        assert.ok(closed, `${loss} has a closed form`);
        assert.equal(tf.memory().numTensors, before + 2, 'only the two results are new');
        const { value, grad } = tf.valueAndGrad((z: tf.Tensor2D) =>
          tf.sum(objective(loss, z, labels, t)),
        )(logits);
        const name = `${loss}${t ? ' targeted' : ''}`;
        const want = tf.tidy(() => objective(loss, logits, labels, t));
        assertClose(closed.objective.dataSync(), want.dataSync(), `${name} objective`, 1e-6, 1e-5);
        assertClose(closed.grad.dataSync(), grad.dataSync(), `${name} gradient`, 1e-6, 1e-5);
        if (loss === 'cw' && !t) {
          assert.deepEqual(
            [...closed.grad.dataSync().slice(10, 15)],
            [-1, 1, 0, 1, 0],
            'both tied classes get the gradient, as autodiff gives them',
          );
        }
        tf.dispose([closed.objective, closed.grad, value, grad, want]);
      }
    }
    assert.equal(objectiveWithGradient('dlr', logits, labels), undefined);
    tf.dispose([logits, labels, targets]);
  });
}

/** CE and its logit gradient in doubles: the true values float32 must approach. */
function crossEntropy64(z: number[], y: number): { loss: number; grad: number[] } {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const total = e.reduce((a, b) => a + b, 0);
  const p = e.map((v) => v / total);
  const others = p.reduce((a, v, j) => (j === y ? a : a + v), 0);
  const rest = z.reduce((a, v, j) => (j === y ? a : a + Math.exp(v - z[y])), 0);
  return { loss: Math.log1p(rest), grad: p.map((v, j) => (j === y ? -others : v)) };
}

/** Relative agreement per element, with a floor far below any value compared here. */
function assertRelClose(got: ArrayLike<number>, want: readonly number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    assert.ok(
      err <= 1e-5 * Math.abs(want[i]) + 1e-30,
      `${what}[${i}]: ${got[i]} vs float64 ${want[i]}`,
    );
  }
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`${backend}: CE and its gradient do not saturate on confident logits (float64 reference)`, async () => {
    await setBackend(backend);
    // Rows 0–2: the label leads by 20, 30 and 60, so 1 − p_y (2e-9, 9e-14, 9e-27) is
    // below float32's 2⁻²⁴ next to 1 and exp(log p_y) − 1 is exactly 0. Row 3:
    // the label is not the largest logit. Row 4: a three-way tie.
    const rows = [
      [25, 5, 3, -2],
      [0, -30, -31, -40],
      [60, 0, -1, 0.5],
      [1, 7, 2, 3],
      [2, 2, 2, -1],
    ];
    const labels = [0, 0, 0, 2, 1];
    const want = rows.map((z, i) => crossEntropy64(z, labels[i]));
    const logits = tf.tensor2d(rows);
    const y = tf.tensor1d(labels, 'int32');
    const before = tf.memory().numTensors;
    const value = crossEntropy(logits, y);
    assertRelClose(
      await value.data(),
      want.map((w) => w.loss),
      'crossEntropy',
    );
    const auto = tf.grad((z) => tf.sum(crossEntropy(z as tf.Tensor2D, y)))(logits);
    const closed = objectiveWithGradient('ce', logits, y);
    assert.ok(closed, 'ce has a closed form');
    for (const [name, g] of [
      ['autodiff', auto],
      ['closed form', closed.grad],
    ] as const) {
      const v = await g.data();
      for (const [i, w] of want.entries()) {
        assertRelClose(v.slice(4 * i, 4 * i + 4), w.grad, `${name} gradient row ${i}`);
      }
      assert.ok(v[0] < 0 && v[4] < 0 && v[8] < 0, `${name}: the label's term is negative, not 0`);
    }
    assertRelClose(
      await closed.objective.data(),
      want.map((w) => w.loss),
      'closed-form CE',
    );
    tf.dispose([value, auto, closed.objective, closed.grad]);
    assert.equal(tf.memory().numTensors, before, 'tensors leaked');
    tf.dispose([logits, y]);
  });
}

test('FGSM gradient on a saturated example: plan path and autodiff path equal the float64 value', async () => {
  await setBackend('wasm');
  // z = W·x + b with one pixel per class row: at x = [1, 0.5, 0.2] the label
  // 0 leads by 25 and 1 − p_0 ≈ 1e-11, far below float32's 2⁻²⁴.
  const W = [
    [30, 0, 0],
    [0, 10, 0],
    [0, 0, 5],
  ];
  const b = [0, 0, 0];
  const xv = [1, 0.5, 0.2];
  const z = W.map((row, i) => row.reduce((a, w, j) => a + w * xv[j], b[i]));
  const { grad: gz } = crossEntropy64(z, 0);
  const want = xv.map((_, j) => W.reduce((a, row, i) => a + row[j] * gz[i], 0));
  const layers = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [1, 3, 1] }),
      tf.layers.dense({
        units: 3,
        weights: [tf.tensor2d(W).transpose(), tf.tensor1d(b)],
      }),
    ],
  });
  const plan = Classifier.create(layers);
  assert.ok(plan.plan(), 'the layers model runs on a layer plan');
  const Wt = tf.tensor2d(W).transpose();
  const fn = Classifier.create(
    (x: tf.Tensor4D) => tf.matMul(x.reshape([-1, 3]), Wt) as tf.Tensor2D,
    {
      inputShape: [1, 3, 1],
    },
  );
  const x = tf.tensor4d(xv, [1, 1, 3, 1]);
  const y = tf.tensor1d([0], 'int32');
  for (const [name, model] of [
    ['plan', plan],
    ['autodiff', fn],
  ] as const) {
    const g = objectiveGradient(model, x, y, 'ce');
    assertRelClose(await g.grad.data(), want, `${name} input gradient`);
    g.dispose();
  }
  tf.dispose([x, y, Wt]);
  layers.dispose();
});
