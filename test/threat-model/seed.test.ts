/**
 * Seeds are integers in [0, 2³² − 1] everywhere a seed is taken — an
 * attack's run, evaluate, adversarialTrain — because a larger, fractional or
 * NaN one used to act silently as some other seed (1e30, 2³², 0.5 and NaN
 * all as 0). Each is an INVALID_OPTION naming the value.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { evaluate } from '../../src/eval/index.js';
import { AdvkitError, checkSeed, createAttack, MAX_SEED, setBackend } from '../../src/index.js';
import { adversarialTrain } from '../../src/train/index.js';
import { syntheticData } from '../eval/helpers.js';
import { tinyCnn } from '../fixtures.js';
import { quadrants, tinyNet } from '../train/helpers.js';

const BAD: unknown[] = [1e30, 2 ** 32, 0.5, Number.NaN, -1, Number.POSITIVE_INFINITY, '3'];
const refused = (v: unknown) => (e: unknown) =>
  e instanceof AdvkitError &&
  e.code === 'INVALID_OPTION' &&
  /seed must be an integer from 0 to 4294967295 \(2³² − 1\); received /.test(e.message) &&
  e.message.endsWith(typeof v === 'string' ? JSON.stringify(v) : String(v));

let net: ReturnType<typeof tinyCnn>;
before(async () => {
  await setBackend('cpu');
  net = tinyCnn();
});
after(() => net.dispose());

test('checkSeed: 0 and 2³² − 1 pass, the rest are refused by value', () => {
  assert.equal(checkSeed(0), 0);
  assert.equal(checkSeed(MAX_SEED), 4294967295);
  for (const v of BAD) assert.throws(() => checkSeed(v), refused(v), String(v));
});

test('an attack run, evaluate and adversarialTrain refuse the same seeds, leaking nothing', async () => {
  const data = syntheticData(4, [8, 8, 1], 4);
  const x = tf.tensor4d(data.images, [4, 8, 8, 1]);
  const labels = Array.from(data.labels);
  const before = tf.memory().numTensors;
  for (const seed of [1e30, 2 ** 32, 0.5, Number.NaN]) {
    await assert.rejects(
      createAttack('pgd', { steps: 1 }).run(net.model, { x, labels, seed }, [0.1]),
      refused(seed),
      `pgd run, seed ${seed}`,
    );
    await assert.rejects(
      evaluate(net.model, data, { attacks: [{ name: 'fgsm' }], epsilons: [0.1] }, { seed }),
      refused(seed),
      `evaluate, seed ${seed}`,
    );
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  x.dispose();
  const model = tinyNet();
  await assert.rejects(
    adversarialTrain(model, quadrants(8, 1), { eps: 0.1, seed: 2 ** 32 }),
    refused(2 ** 32),
  );
  model.dispose();
});
