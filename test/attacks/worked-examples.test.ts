/**
 * The spec's two worked examples (fgsm.md), as exact tests.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { createRng, FGSM, Linf, setBackend } from '../../src/index.js';
import { linearModel } from '../fixtures.js';

before(async () => {
  await setBackend();
});

// Worked example 1, with concrete numbers:
//   x = [0.20, 0.50, 0.70, 0.90], g = [0.3, −1.2, 0, 0.4], ε = 0.1
//   sign(g) = [1, −1, 0, 1]; ε·sign(g) = [0.1, −0.1, 0, 0.1]
//   x + δ = [0.30, 0.40, 0.70, 1.00]; clip to [0, 1] changes nothing.
// The third pixel stays put: sign(0) = 0.
const X = [0.2, 0.5, 0.7, 0.9];
const G = [0.3, -1.2, 0, 0.4];
const EXPECTED = [0.3, 0.4, 0.7, 1.0];

test('worked example 1: four-pixel FGSM step on the given gradient', () => {
  const out = tf.tidy(() => {
    const step = tf.mul(Linf.steepest(tf.tensor2d([G])), 0.1);
    return tf.clipByValue(tf.add(tf.tensor2d([X]), step), 0, 1).dataSync();
  });
  for (let i = 0; i < 4; i++)
    assert.ok(Math.abs(out[i] - EXPECTED[i]) < 1e-6, `pixel ${i}: ${out[i]}`);
});

test('worked example 1 through FGSM on a model whose input gradient has that sign pattern', async () => {
  // Two-class linear model z = [0, w·x]; with label 0 the cross-entropy
  // gradient is p₁·w, so sign(g) = sign(w) = [1, −1, 0, 1].
  const lin = linearModel([[0, 0, 0, 0], G], [0, 0], [1, 4, 1]);
  const x = tf.tensor4d(X, [1, 1, 4, 1]);
  const [r] = await new FGSM().run(lin.model, { x, labels: [0] }, [0.1]);
  const v = await r.xAdv.data();
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(v[i] - EXPECTED[i]) < 1e-6, `pixel ${i}: ${v[i]}`);
  assert.equal(v[2], Math.fround(0.7), 'zero-gradient pixel moved');
  // Clipping: from 0.95 the same step would reach 1.05 and is clipped to 1.
  const x2 = tf.tensor4d([0.2, 0.5, 0.7, 0.95], [1, 1, 4, 1]);
  const [r2] = await new FGSM().run(lin.model, { x: x2, labels: [0] }, [0.1]);
  assert.equal((await r2.xAdv.data())[3], 1);
  tf.dispose([x, x2, r.xAdv, r2.xAdv]);
  lin.dispose();
});

test('worked example 2: the sign step attains ε‖g‖₁ and no point of the ε-ball beats it', () => {
  const eps = 0.1;
  const gain = tf.tidy(() => {
    const g = tf.tensor2d([G]);
    return tf.sum(tf.mul(g, tf.mul(Linf.steepest(g), eps))).dataSync()[0];
  });
  const l1 = G.reduce((a, b) => a + Math.abs(b), 0);
  assert.ok(Math.abs(gain - eps * l1) < 1e-6, `gain ${gain} vs ε‖g‖₁ = ${eps * l1}`);
  const rng = createRng(99);
  for (let trial = 0; trial < 2000; trial++) {
    // Random points of the ball, including its corners.
    const d = G.map(() =>
      rng.next() < 0.3 ? (rng.next() < 0.5 ? -eps : eps) : (2 * rng.next() - 1) * eps,
    );
    const other = d.reduce((a, di, i) => a + di * G[i], 0);
    assert.ok(other <= gain + 1e-9, `δ = [${d}] gains ${other} > ${gain}`);
  }
});
