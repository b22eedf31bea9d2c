/**
 * APGD and APGD-T against the authors' reference algorithm
 * (fra31/auto-attack, autoattack/autopgd_base.py): the checkpoint schedule,
 * the iterates on a one-pixel problem next to a plain-JS transcription of
 * the reference loop (step-size halving, reset to the best point with its
 * gradient, momentum kept), the targeted DLR loss with 2–4 classes, the
 * target ranking, and APGD-T's strength against APGD-CE.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  APGD,
  APGDT,
  apgdCheckpoints,
  Classifier,
  dlrTargeted,
  rankedTargets,
  setBackend,
} from '../../src/index.js';
import { seededTensor, tinyCnn } from '../fixtures.js';

const count = (b: boolean[]) => b.filter(Boolean).length;

test('checkpoints equal the reference schedule for several N', () => {
  // From the reference's counter loop (n_iter_2 = max(int(0.22N), 1), each
  // window shorter by max(int(0.03N), 1), never below max(int(0.06N), 1)),
  // run in Python for these N.
  const want: [number, number[]][] = [
    [1, [1]],
    [5, [1, 2, 3, 4, 5]],
    [10, [2, 3, 4, 5, 6, 7, 8, 9, 10]],
    [20, [4, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]],
    [50, [11, 21, 30, 38, 45]],
    [100, [22, 41, 57, 70, 80, 87, 93, 99]],
    [250, [55, 103, 144, 178, 205, 225, 240]],
    [1000, [220, 410, 570, 700, 800, 870, 930, 990]],
  ];
  for (const [n, w] of want) assert.deepEqual(apgdCheckpoints(n), w, `N = ${n}`);
});

/**
 * The reference loop for one example and one pixel under L∞, in doubles:
 * returns the points where the loss is evaluated, x_0 … x_N, and how many
 * halvings restarted from a best point other than the previous iterate.
 */
function referenceIterates(
  x0: number,
  center: number,
  eps: number,
  steps: number,
  lossAndGrad: (x: number) => [number, number],
): { points: number[]; movingResets: number } {
  const project = (v: number) =>
    Math.min(1, Math.max(0, Math.min(center + eps, Math.max(center - eps, v))));
  let x = x0;
  let [f, g] = lossAndGrad(x);
  let xBest = x;
  let gBest = g;
  let fBest = f;
  let fLast = f;
  let xPrev = x;
  let eta = 2 * eps;
  let window = Math.max(Math.floor(0.22 * steps), 1);
  const shrink = Math.max(Math.floor(0.03 * steps), 1);
  const shortest = Math.max(Math.floor(0.06 * steps), 1);
  let since = 0;
  let increases = 0;
  let reducedLast = true;
  let fBestAtCheck = fBest;
  let movingResets = 0;
  const points = [x];
  for (let i = 0; i < steps; i++) {
    const a = i > 0 ? 0.75 : 1;
    const z = project(x + eta * Math.sign(g));
    const next = project(x + a * (z - x) + (1 - a) * (x - xPrev));
    xPrev = x;
    x = next;
    points.push(x);
    [f, g] = lossAndGrad(x);
    if (f > fLast) increases += 1;
    fLast = f;
    if (f > fBest) {
      fBest = f;
      xBest = x;
      gBest = g;
    }
    since += 1;
    if (since === window) {
      const reduce: boolean = increases <= 0.75 * window || (!reducedLast && fBestAtCheck >= fBest);
      reducedLast = reduce;
      fBestAtCheck = fBest;
      if (reduce) {
        eta /= 2;
        if (xBest !== xPrev) movingResets += 1;
        x = xBest;
        g = gBest;
      }
      increases = 0;
      since = 0;
      window = Math.max(window - shrink, shortest);
    }
  }
  return { points, movingResets };
}

test('APGD iterates equal the reference loop (halving, reset to x_best, momentum kept)', async () => {
  // Two classes, logits [s(x), 0] with s = 3·sin(8x), label 0: the CE loss
  // softplus(−s) has several local maxima in the ball, so the step halves
  // and examples jump back to their best point.
  const seen: number[] = [];
  const model = Classifier.create(
    (x: tf.Tensor4D) => {
      seen.push(x.dataSync()[0]);
      return tf.tidy(() => {
        const s = tf.mul(tf.sin(tf.mul(x.reshape([-1, 1]), 8)), 3);
        return tf.concat([s, tf.zerosLike(s)], 1) as tf.Tensor2D;
      });
    },
    { inputShape: [1, 1, 1], numClasses: 2 },
  );
  const lossAndGrad = (v: number): [number, number] => {
    const s = 3 * Math.sin(8 * v);
    const ds = 24 * Math.cos(8 * v);
    return [Math.log1p(Math.exp(-s)), (-1 / (1 + Math.exp(s))) * ds];
  };
  const steps = 20;
  const eps = 0.4;
  const x = tf.tensor4d([0.45], [1, 1, 1, 1]);
  let movingResets = 0;
  for (const seed of [1, 2, 3, 4]) {
    seen.length = 0;
    const [r] = await new APGD({ steps }).run(model, { x, labels: [0], seed }, [eps]);
    r.xAdv.dispose();
    const ref = referenceIterates(seen[0], 0.45, eps, steps, lossAndGrad);
    const got = seen.slice(0, steps + 1);
    for (const [k, want] of ref.points.entries()) {
      assert.ok(
        Math.abs(got[k] - want) < 1e-5,
        `seed ${seed}, x_${k}: ${got[k]} vs reference ${want}`,
      );
    }
    movingResets += ref.movingResets;
  }
  assert.ok(movingResets > 0, 'the starts exercise resets whose momentum is not 0');
  x.dispose();
});

test('targeted DLR: the paper form from 4 classes, defined for 3 and 2 without NaN', async () => {
  // Example: z = [3, 1, 0.5, −1, −2], y = 0, t = 2; π1..π4 = 3, 1, 0.5, −1.
  // −(3 − 0.5)/(3 − (0.5 − 1)/2) = −2.5/3.25.
  const cases: [number[], number, number, number][] = [
    [[3, 1, 0.5, -1, -2], 0, 2, -2.5 / 3.25],
    // 3 classes: scale z_π1 − z_π3 = 3 − (−1).
    [[3, 1, -1], 0, 1, -2 / 4],
    // 2 classes: the plain margin z_t − z_y.
    [[3, 1], 0, 1, -2],
    [[1, 3], 0, 1, 2],
  ];
  for (const [z, y, t, want] of cases) {
    const logits = tf.tensor2d([z]);
    const labels = tf.tensor1d([y], 'int32');
    const targets = tf.tensor1d([t], 'int32');
    const got = dlrTargeted(logits, labels, targets);
    const g = tf.grad((v) => tf.sum(dlrTargeted(v as tf.Tensor2D, labels, targets)))(logits);
    const gv = await g.data();
    assert.ok(
      Math.abs((await got.data())[0] - want) < 1e-6,
      `${z}: ${got.dataSync()[0]} vs ${want}`,
    );
    assert.ok(
      gv.every(Number.isFinite) && gv.some((v) => v !== 0),
      `${z}: gradient ${Array.from(gv)} is finite and not 0`,
    );
    tf.dispose([logits, labels, targets, got, g]);
  }
});

test('rankedTargets: the 2nd, 3rd, … largest logits per example, ties to the lower class', () => {
  const z = Float32Array.from([0.1, 5, 2, 2, /* */ 9, 8, 7, 6]);
  assert.deepEqual(
    rankedTargets(z, 2, 4, 3).map((t) => Array.from(t)),
    [
      [2, 1],
      [3, 2],
      [0, 3],
    ],
  );
});

let cnn: ReturnType<typeof tinyCnn>;
let xs: tf.Tensor4D;
let labels: number[];
before(async () => {
  await setBackend();
  cnn = tinyCnn({ classes: 10 });
  xs = seededTensor([24, 8, 8, 1], 31) as tf.Tensor4D;
  labels = Array.from((await cnn.model.predict(xs)).labels);
});
after(() => {
  xs.dispose();
  cnn.dispose();
});

test('APGD-T is at least as strong as APGD-CE in aggregate, and no weaker than its first target alone', async () => {
  const eps = [0.02, 0.05];
  const n0 = tf.memory().numTensors;
  const ce = await new APGD({ steps: 20 }).run(cnn.model, { x: xs, labels, seed: 2 }, eps);
  const t = await new APGDT({ steps: 20 }).run(cnn.model, { x: xs, labels, seed: 2 }, eps);
  const t1 = await new APGDT({ steps: 20, targets: 1 }).run(
    cnn.model,
    { x: xs, labels, seed: 2 },
    eps,
  );
  let sumCe = 0;
  let sumT = 0;
  for (let i = 0; i < eps.length; i++) {
    sumCe += count(ce[i].success);
    sumT += count(t[i].success);
    // Later targets run only where the first failed, and a success is final.
    for (let j = 0; j < labels.length; j++) {
      assert.ok(
        !t1[i].success[j] || t[i].success[j],
        `ε=${eps[i]} example ${j}: 9 targets lost a success`,
      );
    }
    assert.ok(t[i].loss.every(Number.isFinite), 'finite losses');
  }
  assert.ok(sumT >= sumCe, `APGD-T ${sumT} successes < APGD-CE ${sumCe}`);
  for (const r of [...ce, ...t, ...t1]) r.xAdv.dispose();
  assert.equal(tf.memory().numTensors, n0, 'tensors leaked');
});

test('APGD-T with 2 and 3 classes: capped targets, no NaN, success is misclassification', async () => {
  for (const classes of [2, 3]) {
    const small = tinyCnn({ classes });
    const l = Array.from((await small.model.predict(xs)).labels);
    const attack = new APGDT({ steps: 10 });
    const [r] = await attack.run(small.model, { x: xs, labels: l, seed: 1 }, [0.1]);
    assert.ok(r.loss.every(Number.isFinite), `${classes} classes: finite losses`);
    assert.ok(count(r.success) > 0, `${classes} classes: some example misclassified`);
    for (const [i, s] of r.success.entries()) {
      assert.equal(s, r.predicted[i] !== l[i], `${classes} classes, example ${i}: success`);
    }
    assert.equal(attack.describe().options.targets, 9);
    r.xAdv.dispose();
    small.dispose();
  }
  assert.throws(() => new APGDT({ targets: 0 }), /targets must be a positive integer/);
  assert.throws(() => new APGDT({ norm: 'l1' }), /linf and l2/);
});
