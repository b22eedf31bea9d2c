import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { AdvkitError, createRng, getNorm, L1, L2, Linf, setBackend } from '../../src/index.js';

before(async () => {
  await setBackend();
});

const g = [3, -4, 0, 4];

test('L∞ steepest is sign(g) with sign(0) = 0', () => {
  assert.deepEqual(
    Array.from(tf.tidy(() => Linf.steepest(tf.tensor2d([g])).dataSync())),
    [1, -1, 0, 1],
  );
});

test('L2 steepest is g/‖g‖₂ and a zero gradient gives a zero step', () => {
  const v = tf.tidy(() => L2.steepest(tf.tensor2d([g, [0, 0, 0, 0]])).dataSync());
  const n = Math.sqrt(41);
  [3 / n, -4 / n, 0, 4 / n, 0, 0, 0, 0].forEach((e, i) => {
    assert.ok(Math.abs(v[i] - e) < 1e-6, 'Math.abs(v[i] - e) < 1e-6');
  });
});

test('L1 steepest puts all mass on the largest |g_i|, ties split evenly', () => {
  const v = tf.tidy(() => L1.steepest(tf.tensor2d([g, [0, 0, 0, 0], [1, 2, 0.5, 0]])).dataSync());
  assert.deepEqual(Array.from(v), [0, -0.5, 0, 0.5, 0, 0, 0, 0, 0, 1, 0, 0]);
});

test('first-order gains: ε‖g‖₁ (L∞), ε‖g‖₂ (L2), ε‖g‖∞ (L1)', () => {
  const eps = 0.5;
  const gains = tf.tidy(() =>
    [Linf, L2, L1].map(
      (n) =>
        tf.sum(tf.mul(tf.tensor2d([g]), tf.mul(n.steepest(tf.tensor2d([g])), eps))).dataSync()[0],
    ),
  );
  assert.ok(Math.abs(gains[0] - eps * 11) < 1e-5, 'Math.abs(gains[0] - eps * 11) < 1e-5');
  assert.ok(
    Math.abs(gains[1] - eps * Math.sqrt(41)) < 1e-5,
    'Math.abs(gains[1] - eps * Math.sqrt(41)) < 1e-5',
  );
  assert.ok(Math.abs(gains[2] - eps * 4) < 1e-5, 'Math.abs(gains[2] - eps * 4) < 1e-5');
});

test('projection: inside points unchanged bit for bit, outside points land on the sphere', () => {
  const rng = createRng(5);
  const c = Array.from({ length: 10 }, () => rng.next());
  for (const norm of [Linf, L2, L1]) {
    const inside = c.map((ci) => ci + 0.001 * (rng.next() - 0.5));
    const far = c.map((ci) => ci + 2 * (rng.next() - 0.5));
    const [pi, pf, d] = tf.tidy(() => {
      const center = tf.tensor2d([c, c]);
      const p = norm.projectAround(tf.tensor2d([inside, far]), center, 0.05);
      return [
        p.dataSync().slice(0, 10),
        p.dataSync().slice(10),
        norm.distance(tf.sub(p, center)).dataSync(),
      ];
    });
    assert.deepEqual(
      Array.from(pi),
      Array.from(Float32Array.from(inside)),
      `${norm.name} moved an inside point`,
    );
    assert.ok(Math.abs(d[1] - 0.05) < 1e-5, `${norm.name} projected to norm ${d[1]}`);
    assert.ok(pf.every(Number.isFinite), 'pf.every(Number.isFinite)');
  }
});

test('L1 projection is the nearest point of the ball (checked against random ball points)', () => {
  const rng = createRng(8);
  const c = [0, 0, 0, 0, 0];
  const v = [0.5, -0.2, 0.05, 0.3, -0.01];
  const eps = 0.4;
  const p = tf.tidy(() =>
    Array.from(L1.projectAround(tf.tensor2d([v]), tf.tensor2d([c]), eps).dataSync()),
  );
  const dist = (a: number[]) => Math.hypot(...a.map((ai, i) => ai - v[i]));
  const dp = dist(p);
  for (let t = 0; t < 3000; t++) {
    const q = Array.from(L1.sampleBall(5, eps, rng));
    assert.ok(dist(q) >= dp - 1e-6, 'dist(q) >= dp - 1e-6');
  }
  assert.ok(
    Math.abs(p.reduce((a, b) => a + Math.abs(b), 0) - eps) < 1e-5,
    'Math.abs(p.reduce((a, b) => a + Math.abs(b), 0) - eps) < 1e-5',
  );
});

test('random starts are inside the ball', () => {
  const rng = createRng(1);
  for (const norm of [Linf, L2, L1]) {
    for (let t = 0; t < 50; t++) {
      const s = norm.sampleBall(30, 0.3, rng);
      const d = tf.tidy(() => norm.distance(tf.tensor2d(s, [1, 30])).dataSync()[0]);
      assert.ok(d <= 0.3 + 1e-6, `${norm.name}: ${d}`);
    }
  }
});

test('unknown norm is a coded error', () => {
  assert.throws(
    () => getNorm('l3'),
    (e: unknown) => e instanceof AdvkitError && e.code === 'UNKNOWN_NORM',
  );
  assert.equal(getNorm('Linf').name, 'linf');
  assert.equal(getNorm('2').name, 'l2');
});
