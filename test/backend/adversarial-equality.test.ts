/**
 * No accuracy change from the fast kernels: FGSM steps computed with advkit's
 * kernels and gradients have the sign pattern of those computed with TF.js's
 * stock kernels (wasm) and with the cpu backend, except where |g| is within
 * float noise of 0 (below 1e-5 of the largest |g| of that example).
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { buildBenchModel } from '../../bench/models.js';
import { setBackend, useKernels } from '../../src/backend/index.js';
import { Classifier } from '../../src/model/classifier.js';
import { objectiveGradient } from '../../src/model/gradient.js';
import { seeded } from './helpers.js';

after(() => useKernels('advkit'));

async function gradient(
  name: 'mnist-cnn' | 'resnet-small',
  backend: 'wasm' | 'cpu',
  kernels: 'advkit' | 'stock',
): Promise<Float32Array> {
  await setBackend(backend);
  useKernels(kernels);
  const bm = buildBenchModel(name);
  const model = Classifier.create(bm.model);
  const batch = 4;
  const per = bm.inputShape.reduce((a, b) => a * b);
  const x = tf.tensor4d(seeded(batch * per, 21, 0, 1), [batch, ...bm.inputShape]);
  const labels = tf.tensor1d([3, 1, 4, 1], 'int32');
  const before = tf.memory().numTensors;
  const g = objectiveGradient(model, x, labels, 'ce');
  const values = g.grad.dataSync() as Float32Array;
  g.dispose();
  assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  tf.dispose([x, labels]);
  bm.model.dispose();
  useKernels('advkit');
  return values;
}

function assertSameSigns(a: Float32Array, b: Float32Array, per: number, what: string): void {
  let compared = 0;
  for (let e = 0; e < a.length / per; e++) {
    let peak = 0;
    for (let i = e * per; i < (e + 1) * per; i++) peak = Math.max(peak, Math.abs(b[i]));
    for (let i = e * per; i < (e + 1) * per; i++) {
      if (Math.abs(b[i]) <= 1e-5 * peak && Math.abs(a[i]) <= 1e-5 * peak) continue;
      compared++;
      if (Math.sign(a[i]) !== Math.sign(b[i]))
        assert.fail(`${what}: sign differs at ${i}: ${a[i]} vs ${b[i]} (peak ${peak})`);
    }
  }
  assert.ok(compared > a.length / 2, `${what}: most coordinates compared (${compared})`);
}

for (const name of ['mnist-cnn', 'resnet-small'] as const) {
  test(`${name}: FGSM directions from advkit's kernels equal stock wasm and cpu`, async () => {
    const per = name === 'mnist-cnn' ? 28 * 28 : 32 * 32 * 3;
    const fast = await gradient(name, 'wasm', 'advkit');
    const stock = await gradient(name, 'wasm', 'stock');
    const cpu = await gradient(name, 'cpu', 'advkit');
    assertSameSigns(fast, stock, per, 'advkit wasm vs stock wasm');
    assertSameSigns(fast, cpu, per, 'advkit wasm vs cpu');
  });
}
