import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  APGD,
  apgdCheckpoints,
  BIM,
  Classifier,
  crossEntropy,
  cwMargin,
  dlr,
  FGSM,
  MIFGSM,
  objectiveGradient,
  PGD,
  resolveTargets,
  setBackend,
  targeted,
} from '../../src/index.js';
import { seededTensor, tinyCnn } from '../fixtures.js';

let cnn: ReturnType<typeof tinyCnn>;
let x: tf.Tensor4D;
let labels: number[];

before(async () => {
  await setBackend();
  cnn = tinyCnn();
  x = seededTensor([24, 8, 8, 1], 31) as tf.Tensor4D;
  // Label every example with its clean prediction, so all start clean-correct.
  labels = Array.from((await cnn.model.predict(x)).labels);
});
after(() => {
  x.dispose();
  cnn.dispose();
});

const count = (b: boolean[]) => b.filter(Boolean).length;

test('targeted attacks reach the target far more often than chance', async () => {
  const results = await new BIM({ steps: 20, relStepSize: 0.1 }).run(
    cnn.model,
    { x, labels, goal: targeted({ kind: 'random' }), seed: 4 },
    [0.3],
  );
  const r = results[0];
  const hits = r.predicted.filter((p, i) => p === r.targets![i]).length;
  assert.equal(hits, count(r.success));
  assert.ok(
    r.targets!.every((t, i) => t !== labels[i]),
    'random target equal to the label',
  );
  assert.ok(
    hits / labels.length > 0.5,
    `targeted success ${hits}/${labels.length} not above chance (1/4)`,
  );
  r.xAdv.dispose();
});

test('PGD is never weaker than FGSM at the same ε on the same examples', async () => {
  const eps = [0.02, 0.05, 0.1, 0.2];
  const f = await new FGSM().run(cnn.model, { x, labels }, eps);
  const p = await new PGD({ steps: 10, restarts: 2 }).run(cnn.model, { x, labels, seed: 1 }, eps);
  for (let i = 0; i < eps.length; i++) {
    assert.ok(
      count(p[i].success) >= count(f[i].success),
      `ε=${eps[i]}: PGD ${count(p[i].success)} < FGSM ${count(f[i].success)}`,
    );
    assert.ok(
      count(f[i].success) < labels.length || i === eps.length - 1,
      'count(f[i].success) < labels.length || i === eps.length - 1',
    );
  }
  for (const r of [...f, ...p]) r.xAdv.dispose();
});

test('MI-FGSM and BIM succeed at least where they should on a large budget', async () => {
  const [m] = await new MIFGSM().run(cnn.model, { x, labels }, [0.3]);
  assert.ok(count(m.success) >= labels.length * 0.8, 'count(m.success) >= labels.length * 0.8');
  m.xAdv.dispose();
});

test('gradients through preprocessing equal the gradients of the composed function', async () => {
  const mean = [0.3];
  const std = [0.2];
  const net = (z: tf.Tensor4D) =>
    tf.tidy(() =>
      tf.reshape(tf.conv2d(z, tf.ones([8, 8, 1, 3]), 1, 'valid'), [-1, 3]).mul([1, -1, 0.5]),
    );
  const withPre = Classifier.create(net, { inputShape: [8, 8, 1], preprocess: { mean, std } });
  const composed = Classifier.create(
    (z: tf.Tensor4D) => net(tf.div(tf.sub(z, 0.3), 0.2) as tf.Tensor4D),
    { inputShape: [8, 8, 1] },
  );
  const lab = tf.tensor1d([0, 1, 2, 0], 'int32');
  const xs = x.slice(0, 4);
  const a = objectiveGradient(withPre, xs, lab, 'ce');
  const b = objectiveGradient(composed, xs, lab, 'ce');
  const [ga, gb] = [await a.grad.data(), await b.grad.data()];
  for (let i = 0; i < ga.length; i++)
    assert.ok(
      Math.abs(ga[i] - gb[i]) <= 1e-5 * (1 + Math.abs(gb[i])),
      'Math.abs(ga[i] - gb[i]) <= 1e-5 * (1 + Math.abs(gb[i]))',
    );
  // and against central finite differences of the loss
  const h = 1e-2;
  const loss = (v: tf.Tensor4D) =>
    tf.tidy(() => tf.sum(crossEntropy(withPre.logits(v), lab)).dataSync()[0]);
  for (const idx of [0, 77, 200]) {
    const bump = tf.tidy(() => tf.oneHot([idx], 256).reshape([4, 8, 8, 1]).mul(h));
    const up = tf.add(xs, bump) as tf.Tensor4D;
    const down = tf.sub(xs, bump) as tf.Tensor4D;
    const fd = (loss(up) - loss(down)) / (2 * h);
    assert.ok(
      Math.abs(fd - ga[idx]) < 1e-2 * (1 + Math.abs(fd)),
      `coordinate ${idx}: fd ${fd} vs ${ga[idx]}`,
    );
    tf.dispose([bump, up, down]);
  }
  a.dispose();
  b.dispose();
  tf.dispose([lab, xs]);
  withPre.dispose();
  composed.dispose();
});

test('a pixel-space budget stays in pixel space when the model normalises', async () => {
  const scaled = tinyCnn({ preprocess: { mean: [0.5], std: [0.1] } });
  const [r] = await new FGSM().run(scaled.model, { x, labels }, [0.05]);
  const d = await tf.tidy(() => tf.max(tf.abs(tf.sub(r.xAdv, x)))).data();
  assert.ok(
    d[0] <= 0.05 + 1e-6 && d[0] > 0.049,
    `max |δ| = ${d[0]} (std 0.1 would make a normalised budget 0.005)`,
  );
  r.xAdv.dispose();
  scaled.dispose();
});

test('bounds [0, 255]: ε is in pixel units and results stay in the bounds', async () => {
  const cnn255 = tinyCnn({ bounds: [0, 255], preprocess: { mean: [0], std: [255] } });
  const x255 = tf.mul(x, 255) as tf.Tensor4D;
  const [r] = await new FGSM().run(cnn255.model, { x: x255, labels }, [8]);
  const [f] = await new FGSM().run(cnn.model, { x, labels }, [8 / 255]);
  const [a, b] = [await r.xAdv.data(), await f.xAdv.data()];
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i] / 255 - b[i]) < 1e-4, 'Math.abs(a[i] / 255 - b[i]) < 1e-4');
  assert.deepEqual(r.predicted, f.predicted);
  tf.dispose([x255, r.xAdv, f.xAdv]);
  cnn255.dispose();
});

test('surrogate FGSM: gradient from the surrogate, success judged on the target model', async () => {
  const other = tinyCnn({ preprocess: { mean: [0.1], std: [1] } });
  const [t] = await new FGSM({ surrogate: other.model }).run(cnn.model, { x, labels }, [0.1]);
  const [direct] = await new FGSM().run(other.model, { x, labels }, [0.1]);
  // Same perturbed images as attacking the surrogate directly …
  const [a, b] = [await t.xAdv.data(), await direct.xAdv.data()];
  assert.deepEqual(Array.from(a), Array.from(b));
  // … but predictions come from the target model.
  const judged = await cnn.model.predict(t.xAdv);
  assert.deepEqual(t.predicted, Array.from(judged.labels));
  tf.dispose([t.xAdv, direct.xAdv]);
  other.dispose();
});

test('a probability-output model gives the same attack as its logit twin (no double softmax)', async () => {
  const W = seededTensor([64, 4], 3, -1, 1) as tf.Tensor2D;
  const logitNet = (z: tf.Tensor4D) => tf.matMul(z.reshape([-1, 64]), W);
  const probNet = (z: tf.Tensor4D) => tf.softmax(logitNet(z));
  const a = Classifier.create(logitNet, { inputShape: [8, 8, 1] });
  const b = Classifier.create(probNet, { inputShape: [8, 8, 1], output: 'probabilities' });
  const [ra] = await new FGSM().run(a, { x, labels: labels.map((l) => l % 4) }, [0.1]);
  const [rb] = await new FGSM().run(b, { x, labels: labels.map((l) => l % 4) }, [0.1]);
  assert.deepEqual(ra.predicted, rb.predicted);
  ra.loss.forEach((l, i) => {
    assert.ok(Math.abs(l - rb.loss[i]) < 1e-4, 'Math.abs(l - rb.loss[i]) < 1e-4');
  });
  tf.dispose([ra.xAdv, rb.xAdv, W]);
});

test('a LayersModel ending in softmax is detected as probabilities', async () => {
  const m = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [8, 8, 1] }),
      tf.layers.dense({
        units: 3,
        activation: 'softmax',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
    ],
  });
  const c = Classifier.create(m);
  assert.equal(c.info.output, 'probabilities');
  assert.equal(c.numClasses, 3);
  const [r] = await new FGSM().run(c, { x, labels: labels.map((l) => l % 3) }, [0.05]);
  assert.equal(r.success.length, 24);
  r.xAdv.dispose();
  m.dispose();
});

test('losses: cross-entropy, CW margin and DLR on hand-computed logits', () => {
  const z = tf.tensor2d([[2, 1, 0, -1]]);
  const y = tf.tensor1d([0], 'int32');
  const ce = crossEntropy(z, y).dataSync()[0];
  const lse = Math.log(Math.exp(2) + Math.exp(1) + 1 + Math.exp(-1));
  assert.ok(Math.abs(ce - (lse - 2)) < 1e-5, 'Math.abs(ce - (lse - 2)) < 1e-5');
  assert.ok(
    Math.abs(cwMargin(z, y).dataSync()[0] - (1 - 2)) < 1e-6,
    'Math.abs(cwMargin(z, y).dataSync()[0] - (1 - 2)) < 1e-6',
  );
  // DLR = −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3) = −(2 − 1) / (2 − 0)
  assert.ok(
    Math.abs(dlr(z, y).dataSync()[0] + 0.5) < 1e-6,
    'Math.abs(dlr(z, y).dataSync()[0] + 0.5) < 1e-6',
  );
  tf.dispose([z, y]);
});

test('target rules: fixed, random ≠ label and seeded, least-likely, list', () => {
  const labs = [0, 1, 2, 3, 0, 1];
  const idx = [0, 1, 2, 3, 4, 5];
  assert.deepEqual(
    Array.from(resolveTargets({ kind: 'fixed', target: 2 }, labs, 4, 0, idx)),
    [2, 2, 2, 2, 2, 2],
  );
  const r1 = resolveTargets({ kind: 'random' }, labs, 4, 9, idx);
  const r2 = resolveTargets({ kind: 'random' }, labs, 4, 9, idx);
  assert.deepEqual(r1, r2);
  r1.forEach((t, i) => {
    assert.notEqual(t, labs[i]);
  });
  assert.deepEqual(
    Array.from(resolveTargets({ kind: 'least-likely' }, labs, 4, 0, idx, [3, 3, 0, 1, 2, 2])),
    [3, 3, 0, 1, 2, 2],
  );
  assert.deepEqual(
    Array.from(resolveTargets({ kind: 'list', targets: [1, 1, 1, 1, 1, 2] }, labs, 4, 0, idx)),
    [1, 1, 1, 1, 1, 2],
  );
});

test('APGD: checkpoints follow the paper, and APGD is at least as strong as FGSM', async () => {
  // Windows of 22, 19, 16, 13, 10, 7, 6, 6 iterations (the reference's integer schedule).
  assert.deepEqual(apgdCheckpoints(100), [22, 41, 57, 70, 80, 87, 93, 99]);
  const eps = [0.02, 0.05];
  const f = await new FGSM().run(cnn.model, { x, labels }, eps);
  const a = await new APGD({ steps: 20 }).run(cnn.model, { x, labels, seed: 2 }, eps);
  const d = await new APGD({ steps: 20, loss: 'dlr' }).run(cnn.model, { x, labels, seed: 2 }, eps);
  for (let i = 0; i < eps.length; i++) {
    assert.ok(
      count(a[i].success) >= count(f[i].success),
      `ε=${eps[i]}: APGD-CE ${count(a[i].success)} < FGSM ${count(f[i].success)}`,
    );
    assert.ok(
      count(d[i].success) >= count(f[i].success),
      `ε=${eps[i]}: APGD-DLR ${count(d[i].success)} < FGSM ${count(f[i].success)}`,
    );
  }
  for (const r of [...f, ...a, ...d]) r.xAdv.dispose();
  assert.throws(() => new APGD({ norm: 'l1' }), /linf and l2/);
});

test('CW and DLR losses drive attacks, untargeted and targeted', async () => {
  for (const loss of ['cw', 'dlr'] as const) {
    for (const goal of [undefined, targeted({ kind: 'least-likely' })]) {
      const [r] = await new PGD({ steps: 5, loss }).run(
        cnn.model,
        { x, labels, goal, seed: 1 },
        [0.2],
      );
      assert.ok(
        count(r.success) > 0,
        `${loss} ${goal ? 'targeted' : 'untargeted'} never succeeded`,
      );
      assert.ok(
        r.distance.every((d) => d <= 0.2 + 1e-6),
        'r.distance.every((d) => d <= 0.2 + 1e-6)',
      );
      r.xAdv.dispose();
    }
  }
});
