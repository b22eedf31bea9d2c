/**
 * FAB-T: the box-constrained hyperplane projection against an independent
 * solve, the exact minimal perturbation of linear models (worked by hand),
 * successes counted only within ε, the target order, option checks and
 * the 'logit-diff' gradient on both gradient paths.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { planeScratch, projectOntoPlaneInBox } from '../../src/attacks/fab-projection.js';
import { randomNear, rowDistance } from '../../src/attacks/fab-step.js';
import {
  AdvkitError,
  Classifier,
  createAttack,
  createRng,
  disposeResults,
  FABT,
  objectiveGradient,
  setBackend,
  targeted,
} from '../../src/index.js';
import { linearModel, seededTensor, tinyCnn } from '../fixtures.js';

before(async () => {
  await setBackend();
});

/**
 * The least λ with F(λ) = Σ min(λ·u_i, v_i) = c by bisection: an
 * independent solve of the problem the projection solves by selection.
 */
function bisectProjection(
  norm: 'linf' | 'l2',
  t: number[],
  w: number[],
  c: number,
  lo: number,
  hi: number,
): number[] {
  const s = c < 0 ? -1 : 1;
  const room = w.map((wi, i) => (s * wi > 0 ? t[i] - lo : s * wi < 0 ? hi - t[i] : 0));
  const move = (l: number) =>
    w.map((wi, i) => {
      const step = Math.min(norm === 'linf' ? l : l * Math.abs(wi), room[i]);
      return s * wi > 0 ? -step : s * wi < 0 ? step : 0;
    });
  const reach = (l: number) => -s * move(l).reduce((a, di, i) => a + w[i] * di, 0);
  let a = 0;
  let b = 1;
  while (reach(b) < Math.abs(c) && b < 1e9) b *= 2;
  for (let k = 0; k < 200; k++) {
    const mid = (a + b) / 2;
    if (reach(mid) >= Math.abs(c)) b = mid;
    else a = mid;
  }
  return move(b);
}

describe('projection onto a hyperplane inside the box', () => {
  test('hand-worked: ⟨(1,1,1,1), δ⟩ = 0.4 from (0.95, 0.95, 0.2, 0.2) in [0, 1]', () => {
    // L∞: coordinates 0 and 1 can rise only 0.05, so 2·0.05 + 2λ = 0.4, λ = 0.15.
    // L2: the same two saturate; the other two share 0.3: 0.15 each,
    // ‖δ‖ = √(2·0.05² + 2·0.15²) = √0.05.
    const t = [0.95, 0.95, 0.2, 0.2];
    const w = [1, 1, 1, 1];
    const delta = new Float64Array(4);
    const linf = projectOntoPlaneInBox('linf', t, w, -0.4, 0, 1, delta, planeScratch(4));
    assert.ok(Math.abs(linf - 0.15) < 1e-12, `L∞ norm ${linf}, expected 0.15`);
    for (const [i, e] of [0.05, 0.05, 0.15, 0.15].entries())
      assert.ok(Math.abs(delta[i] - e) < 1e-12, `L∞ δ[${i}] = ${delta[i]}, expected ${e}`);
    const l2 = projectOntoPlaneInBox('l2', t, w, -0.4, 0, 1, delta, planeScratch(4));
    assert.ok(Math.abs(l2 - Math.sqrt(0.05)) < 1e-12, `L2 norm ${l2}, expected √0.05`);
    for (const [i, e] of [0.05, 0.05, 0.15, 0.15].entries())
      assert.ok(Math.abs(delta[i] - e) < 1e-12, `L2 δ[${i}] = ${delta[i]}, expected ${e}`);
  });

  test('a hyperplane that misses the box: every coordinate goes to its face', () => {
    const delta = new Float64Array(3);
    const size = projectOntoPlaneInBox(
      'l2',
      [0.5, 0.2, 0.7],
      [1, -2, 0],
      5,
      0,
      1,
      delta,
      planeScratch(3),
    );
    // c > 0 asks to lower ⟨w, ·⟩: x0 down to 0, x1 up to 1, x2 (w = 0) stays.
    assert.deepEqual(Array.from(delta), [-0.5, 0.8, 0]);
    assert.ok(Math.abs(size - Math.hypot(0.5, 0.8)) < 1e-12, `norm ${size}`);
  });

  test('random problems agree with an independent bisection (L∞ and L2, bounds [−1, 2])', () => {
    const rng = createRng(5);
    for (const norm of ['linf', 'l2'] as const) {
      for (let trial = 0; trial < 60; trial++) {
        const d = 1 + rng.int(30);
        const t = Array.from({ length: d }, () => {
          const r = rng.next();
          return r < 0.15 ? -1 : r > 0.85 ? 2 : -1 + 3 * rng.next();
        });
        const w = Array.from({ length: d }, () => (rng.next() < 0.1 ? 0 : rng.normal()));
        const c = (rng.next() - 0.5) * 4 * w.reduce((a, wi) => a + Math.abs(wi), 0);
        const delta = new Float64Array(d);
        const size = projectOntoPlaneInBox(norm, t, w, c, -1, 2, delta, planeScratch(d));
        const expected = bisectProjection(norm, t, w, c, -1, 2);
        for (let i = 0; i < d; i++) {
          assert.ok(
            Math.abs(delta[i] - expected[i]) < 1e-9,
            `${norm} trial ${trial} δ[${i}] = ${delta[i]}, bisection ${expected[i]}`,
          );
          assert.ok(t[i] + delta[i] >= -1 - 1e-12 && t[i] + delta[i] <= 2 + 1e-12, 'left the box');
        }
        const e = norm === 'linf' ? Math.max(0, ...delta.map(Math.abs)) : Math.hypot(...delta);
        assert.ok(
          Math.abs(size - e) < 1e-12,
          `${norm} trial ${trial}: returned norm ${size} vs ${e}`,
        );
      }
    }
  });
});

test('restart points lie at distance radius from x (before clipping) and inside the bounds', () => {
  const d = 50;
  const x0 = new Float32Array(3 * d).fill(0.5);
  x0.fill(0.98, 2 * d); // row 2 sits near the top of the box: clipping binds there
  for (const norm of ['linf', 'l2'] as const) {
    const rngs = [1, 2, 3].map((s) => createRng(s));
    const x1 = randomNear(x0, rngs, norm, 0.1, 0, 1);
    for (const j of [0, 1]) {
      const r = rowDistance(norm, x1, x0, j, d);
      assert.ok(Math.abs(r - 0.1) < 1e-6, `${norm} row ${j}: distance ${r}, expected 0.1`);
    }
    assert.ok(rowDistance(norm, x1, x0, 2, d) <= 0.1 + 1e-6, `${norm} row 2 beyond the radius`);
    assert.ok(
      x1.every((v) => v >= 0 && v <= 1),
      `${norm}: a coordinate left [0, 1]`,
    );
  }
});

describe('FAB-T on linear models (closed-form minimal perturbation)', () => {
  // Two classes, z0 = 0 and z1 = Σ x_i − b: the boundary is Σ x_i = b, and
  // class 0 holds while Σ x_i < b. Both start points need Σ x to rise 0.4.
  const cases = [
    // Free: L∞ 0.4/4 = 0.1; L2 0.4/‖(1,1,1,1)‖ = 0.2.
    { name: 'box not binding', x: [0.5, 0.5, 0.2, 0.2], b: 1.8, linf: 0.1, l2: 0.2 },
    // Two coordinates have only 0.05 of room: L∞ 0.15, L2 √0.05 (as above).
    { name: 'box binding', x: [0.95, 0.95, 0.2, 0.2], b: 2.7, linf: 0.15, l2: Math.sqrt(0.05) },
  ];
  for (const cs of cases) {
    for (const norm of ['linf', 'l2'] as const) {
      test(`${cs.name}, ${norm}: finds the minimum, and counts it only within ε`, async () => {
        const lin = linearModel(
          [
            [0, 0, 0, 0],
            [1, 1, 1, 1],
          ],
          [0, -cs.b],
          [2, 2, 1],
        );
        const x = tf.tensor4d(cs.x, [1, 2, 2, 1]);
        const best = cs[norm];
        try {
          const n0 = tf.memory().numTensors;
          const attack = new FABT({ norm });
          const [wide, tight] = await attack.run(lin.model, { x, labels: [0] }, [1, best * 0.98]);
          const found = wide.distance[0];
          assert.ok(wide.success[0], 'no adversarial found within ε = 1');
          assert.ok(found >= best * (1 - 1e-5), `found ${found} below the minimum ${best}`);
          assert.ok(
            found <= best * 1.01,
            `found ${found}, more than 1 % above the minimum ${best}`,
          );
          // Just under the minimum nothing exists: not a success, x returned.
          assert.equal(tight.success[0], false, 'success below the minimal perturbation');
          assert.deepEqual(Array.from(await tight.xAdv.data()), Array.from(await x.data()));
          disposeResults([wide, tight]);
          assert.equal(tf.memory().numTensors, n0, 'tensors leaked');
        } finally {
          x.dispose();
          lin.dispose();
        }
      });
    }
  }
});

describe('FAB-T on a small CNN', () => {
  let cnn: ReturnType<typeof tinyCnn>;
  let x: tf.Tensor4D;
  let labels: number[];
  before(async () => {
    cnn = tinyCnn();
    x = seededTensor([6, 8, 8, 1], 4) as tf.Tensor4D;
    // Attack the model's own predictions so every example is attacked.
    labels = Array.from((await cnn.model.predict(x)).labels);
  });
  after(() => {
    x.dispose();
    cnn.dispose();
  });

  test('successes lie within ε, the rest are returned unchanged; a larger ε never loses one', async () => {
    const eps = [0.02, 0.05, 0.2];
    const results = await new FABT({ steps: 20, targets: 3 }).run(cnn.model, { x, labels }, eps);
    const clean = (await x.data()) as Float32Array;
    const d = 64;
    for (const r of results) {
      const v = (await r.xAdv.data()) as Float32Array;
      for (let i = 0; i < 6; i++) {
        if (r.success[i]) {
          assert.ok(
            r.distance[i] <= r.epsilon + 1e-6,
            `ε ${r.epsilon}: success at ‖δ‖ ${r.distance[i]}`,
          );
          assert.notEqual(r.predicted[i], labels[i]);
        } else {
          for (let j = 0; j < d; j++)
            assert.equal(v[i * d + j], clean[i * d + j], `ε ${r.epsilon} example ${i}: unchanged`);
        }
      }
    }
    for (let i = 0; i < 6; i++) {
      assert.ok(!results[0].success[i] || results[1].success[i], `example ${i} lost at ε 0.05`);
      assert.ok(!results[1].success[i] || results[2].success[i], `example ${i} lost at ε 0.2`);
    }
    assert.ok(results[2].success.some(Boolean), 'nothing found at ε = 0.2 on an undefended net');
    disposeResults(results);
  });

  test('the step that reuses the gradient pass for the success check matches the one with a separate forward pass', async () => {
    // A surrogate that is the same function takes the unfused path.
    const twin = Classifier.create((xi: tf.Tensor4D) => cnn.model.logits(xi), {
      inputShape: [8, 8, 1],
    });
    const options = { steps: 15, targets: 2 };
    const [fused] = await new FABT(options).run(cnn.model, { x, labels }, [0.1]);
    const [apart] = await new FABT({ ...options, surrogate: twin }).run(
      cnn.model,
      { x, labels },
      [0.1],
    );
    const [a, b] = [await fused.xAdv.data(), await apart.xAdv.data()];
    for (let i = 0; i < a.length; i++)
      assert.ok(Math.abs(a[i] - b[i]) <= 1e-6, `pixel ${i}: ${a[i]} vs ${b[i]}`);
    assert.deepEqual(fused.success, apart.success);
    assert.ok(fused.success.some(Boolean), 'no success: the pull-back rows went unexercised');
    disposeResults([fused, apart]);
    twin.dispose();
  });

  test('a targeted call succeeds only on its target', async () => {
    const goal = targeted({ kind: 'least-likely' });
    const [r] = await new FABT({ steps: 20 }).run(cnn.model, { x, labels, goal }, [0.5]);
    for (let i = 0; i < 6; i++) {
      assert.equal(r.success[i], r.predicted[i] === r.targets?.[i], `example ${i}`);
    }
    assert.ok(r.success.some(Boolean), 'no least-likely target reached at ε = 0.5');
    r.xAdv.dispose();
  });

  test('restarts are seeded per example: same seed, same result; misclassified examples untouched', async () => {
    const wrong = labels.map((l, i) => (i === 2 ? (l + 1) % 4 : l));
    const attack = new FABT({ steps: 8, restarts: 3, targets: 2 });
    const [a] = await attack.run(cnn.model, { x, labels: wrong, seed: 9 }, [0.03]);
    const [b] = await attack.run(cnn.model, { x, labels: wrong, seed: 9 }, [0.03]);
    assert.deepEqual(Array.from(await a.xAdv.data()), Array.from(await b.xAdv.data()));
    assert.equal(a.success[2], true, 'a misclassified example counts as a success');
    assert.equal(a.distance[2], 0, 'a misclassified example is not moved');
    disposeResults([a, b]);
  });
});

test('createAttack builds fab-t; bad options are INVALID_OPTION / UNKNOWN_NORM naming the option', () => {
  const a = createAttack('fab-t', { norm: 'l2', steps: 10 });
  assert.equal(a.describe().options.steps, 10);
  assert.equal(a.describe().options.alphaMax, 0.1);
  const bad: [object, string, RegExp][] = [
    [{ norm: 'l1' }, 'UNKNOWN_NORM', /linf and l2/],
    [{ steps: 0 }, 'INVALID_OPTION', /steps/],
    [{ targets: 1.5 }, 'INVALID_OPTION', /targets/],
    [{ alphaMax: 2 }, 'INVALID_OPTION', /alphaMax.*\[0, 1\].*2/],
    [{ beta: 0 }, 'INVALID_OPTION', /beta.*\(0, 1\]/],
    [{ eta: -1 }, 'INVALID_OPTION', /eta/],
    [{ loss: 'ce' }, 'INVALID_OPTION', /no loss option/],
    [{ stepz: 3 }, 'INVALID_OPTION', /stepz/],
  ];
  for (const [options, code, message] of bad) {
    assert.throws(
      () => new FABT(options),
      (e: unknown) => e instanceof AdvkitError && e.code === code && message.test(e.message),
      JSON.stringify(options),
    );
  }
});

test("the 'logit-diff' gradient is the same through the layer plan and through autodiff", async () => {
  const net = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 4, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  const model = Classifier.create(net);
  assert.ok(model.plan(), 'the fixture should have a layer plan');
  const x = seededTensor([3, 6, 6, 1], 8) as tf.Tensor4D;
  const labels = tf.tensor1d([0, 1, 2], 'int32');
  const targets = tf.tensor1d([3, 0, 2], 'int32');
  const step = objectiveGradient(model, x, labels, 'logit-diff', targets);
  const [auto, gaps] = tf.tidy(() => {
    const f = (xi: tf.Tensor4D) => {
      const z = net.apply(xi) as tf.Tensor2D;
      return tf.sub(
        tf.sum(tf.mul(z, tf.oneHot(targets, 4)), 1),
        tf.sum(tf.mul(z, tf.oneHot(labels, 4)), 1),
      );
    };
    return [tf.grad((xi) => tf.sum(f(xi as tf.Tensor4D)))(x), f(x)];
  });
  const [g1, g2, o1, o2] = await Promise.all([
    step.grad.data(),
    auto.data(),
    step.objective.data(),
    gaps.data(),
  ]);
  for (let i = 0; i < g1.length; i++)
    assert.ok(Math.abs(g1[i] - g2[i]) < 1e-5, `grad[${i}] ${g1[i]} vs ${g2[i]}`);
  for (let i = 0; i < 3; i++)
    assert.ok(Math.abs(o1[i] - o2[i]) < 1e-5, `gap[${i}] ${o1[i]} vs ${o2[i]}`);
  // Target = label: the gap and its gradient are zero.
  assert.equal(o1[2], 0);
  step.dispose();
  tf.dispose([auto, gaps, x, labels, targets]);
  net.dispose();
});
