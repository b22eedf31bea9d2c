/**
 * How training examples are crafted: FGSM-RS from an unclipped start (Wong et
 * al.'s reference code) versus the clipped start of the FGSM-RS attack, on a
 * linear model whose input gradient is known: z = (−Σx, Σx), so the
 * cross-entropy of label 0 rises along +1 on every pixel.
 *
 * On a black image (x = 0), ε = 0.3, α = 0.375, with u ~ U(−ε, ε):
 *   unclipped: clip(0 + clamp(u + α, −ε, ε)) = min(u + 0.375, 0.3) ∈ [0.075, 0.3],
 *              below 0.3 wherever u < −0.075 (about 3/8 of the pixels);
 *   clipped:   clip(Π(max(u, 0) + α)) = 0.3 everywhere.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { Classifier, setBackend } from '../../src/index.js';
import { resolveOptions, TrainOptimizer, trainingAttack } from '../../src/train/index.js';
import { craftBatch, type StepContext, widensBounds } from '../../src/train/step.js';

before(async () => {
  await setBackend();
});

function sumModel(): tf.Sequential {
  const m = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [4, 4, 1] }),
      tf.layers.dense({ units: 2, useBias: false }),
    ],
  });
  const k = tf.tensor2d(
    Array.from({ length: 16 }, () => [-1, 1]),
    [16, 2],
  );
  m.setWeights([k]);
  k.dispose();
  return m;
}

async function craft(clipStart: boolean): Promise<Float32Array> {
  const net = sumModel();
  const r = resolveOptions({ method: 'fgsm-rs', eps: 0.3, alpha: 0.375, clipStart });
  const evalModel = Classifier.create(net);
  const craftModel = widensBounds(r) ? Classifier.create(net, { bounds: [-0.3, 1.3] }) : evalModel;
  const vars = net.trainableWeights.map((w) => w.read() as tf.Variable);
  const optimizer = new TrainOptimizer('adam', vars);
  const ctx: StepContext = {
    evalModel,
    craftModel,
    trainModel: evalModel,
    attack: trainingAttack(r),
    vars,
    optimizer,
    options: r,
  };
  const x = tf.zeros([8, 4, 4, 1]) as tf.Tensor4D;
  const xAdv = await craftBatch(
    ctx,
    { x, labels: new Int32Array(8), indices: Int32Array.from({ length: 8 }, (_, i) => i) },
    5,
  );
  assert.ok(xAdv, 'xAdv');
  const values = new Float32Array(await xAdv.data());
  tf.dispose([x, xAdv]);
  optimizer.dispose();
  if (craftModel !== evalModel) craftModel.dispose();
  evalModel.dispose();
  net.dispose();
  return values;
}

test('FGSM-RS training examples take the gradient at the unclipped start by default', async () => {
  const v = await craft(false);
  assert.ok(
    v.every((p) => p >= 0.075 - 1e-6 && p <= 0.3 + 1e-6),
    'v.every((p) => p >= 0.075 - 1e-6 && p <= 0.3 + 1e-6)',
  );
  const below = v.filter((p) => p < 0.3 - 1e-4).length;
  // 128 pixels, each below 0.3 with probability 3/8.
  assert.ok(below > 25 && below < 75, `${below} of 128 pixels below 0.3`);
});

test('clipStart: true crafts with the FGSM-RS attack exactly as specified', async () => {
  const v = await craft(true);
  assert.ok(
    v.every((p) => Math.abs(p - 0.3) < 1e-6),
    'v.every((p) => Math.abs(p - 0.3) < 1e-6)',
  );
});
