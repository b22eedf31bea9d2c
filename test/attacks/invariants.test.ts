/**
 * One table runs every exported attack, norm and goal through the same
 * invariants: ‖x_adv − x‖ ≤ ε, bounds, ε = 0 is identity, batch equals
 * per-example, the input is untouched, and no tensor is leaked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  ATTACKS,
  type Attack,
  type AttackName,
  createAttack,
  disposeResults,
  NORM_NAMES,
  setBackend,
  targeted,
  UNTARGETED,
} from '../../src/index.js';
import { seededTensor, tinyCnn } from '../fixtures.js';

const TOL = 1e-5;
const EPS = [0, 0.03, 0.25];

/** Fast settings so the table stays quick; defaults are tested elsewhere. */
const CONFIGS: Record<AttackName, object> = {
  fgsm: {},
  'fgsm-rs': {},
  rfgsm: {},
  bim: { steps: 3 },
  pgd: { steps: 3, restarts: 2 },
  mifgsm: { steps: 3 },
  apgd: { steps: 6 },
  'apgd-t': { steps: 4, targets: 2 },
  square: { queries: 40 },
  'fab-t': { steps: 4, restarts: 2, targets: 2 },
  noise: { restarts: 4 },
};

let cnn: ReturnType<typeof tinyCnn>;
let x: tf.Tensor4D;
let labels: number[];

before(async () => {
  await setBackend();
  cnn = tinyCnn();
  x = seededTensor([5, 8, 8, 1], 21) as tf.Tensor4D;
  labels = [0, 1, 2, 3, 1];
});
after(() => {
  x.dispose();
  cnn.dispose();
});

async function arr(t: tf.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}

for (const name of Object.keys(CONFIGS) as AttackName[]) {
  for (const norm of NORM_NAMES) {
    // The registry lists each attack's norms (APGD, FAB-T, Square and noise: L∞ and L2).
    if (!ATTACKS[name].norms.includes(norm)) continue;
    for (const goal of [UNTARGETED, targeted({ kind: 'least-likely' })]) {
      describe(`${name} ${norm} ${goal.kind}`, () => {
        const make = (): Attack => createAttack(name, { ...CONFIGS[name], norm });

        test('stays in the ε-ball and the bounds; ε = 0 is identity; input untouched; no leak', async () => {
          const xBefore = await arr(x);
          const n0 = tf.memory().numTensors;
          const results = await make().run(cnn.model, { x, labels, goal, seed: 7 }, EPS);
          assert.equal(results.length, EPS.length);
          for (const r of results) {
            const v = await arr(r.xAdv);
            assert.deepEqual(r.xAdv.shape, x.shape);
            for (let i = 0; i < v.length; i++) {
              assert.ok(v[i] >= 0 && v[i] <= 1, `pixel ${i} = ${v[i]} outside [0, 1]`);
            }
            for (const d of r.distance)
              assert.ok(d <= r.epsilon * (1 + TOL) + TOL, `‖δ‖ = ${d} > ε = ${r.epsilon}`);
            if (r.epsilon === 0) assert.deepEqual(v, xBefore);
            assert.equal(r.success.length, 5);
            if (goal.kind === 'targeted') assert.equal(r.targets?.length, 5);
          }
          disposeResults(results);
          assert.deepEqual(await arr(x), xBefore, 'input was modified');
          assert.equal(tf.memory().numTensors, n0, 'tensors leaked');
        });

        test('a batch equals its examples run one by one', async () => {
          const attack = make();
          const [batch] = await attack.run(cnn.model, { x, labels, goal, seed: 3 }, [0.1]);
          const all = await arr(batch.xAdv);
          const d = 64;
          for (const i of [0, 3]) {
            const xi = x.slice([i, 0, 0, 0], [1, 8, 8, 1]);
            const [single] = await attack.run(
              cnn.model,
              { x: xi, labels: [labels[i]], goal, seed: 3, indices: [i] },
              [0.1],
            );
            const v = await arr(single.xAdv);
            for (let j = 0; j < d; j++) {
              assert.ok(
                Math.abs(v[j] - all[i * d + j]) <= 1e-5,
                `example ${i} coordinate ${j}: ${v[j]} vs ${all[i * d + j]}`,
              );
            }
            assert.equal(single.predicted[0], batch.predicted[i]);
            single.xAdv.dispose();
            xi.dispose();
          }
          batch.xAdv.dispose();
        });
      });
    }
  }
}
