/**
 * The closed-form objective gradients (`objectiveWithGradient`) equal
 * TF.js's autodiff of `objective`, untargeted and targeted, on wasm and cpu,
 * including CW's ties for the largest other logit; DLR has none.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../../src/backend/index.js';
import { objective, objectiveWithGradient } from '../../src/threat-model/losses.js';
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
