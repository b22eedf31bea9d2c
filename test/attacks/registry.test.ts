/**
 * The attack registry (src/attacks/registry.ts) against what the attacks do:
 * every row's factory builds an attack of that name, on exactly its listed
 * norms; the shared options it lists are ones the attack accepts (the CLI's
 * flags set them); `needsGradient` and the family agree with the attack on
 * a query-only model; every name is accepted by the CLI and is either
 * offered by the explorer or listed there as left out.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, test } from 'node:test';
import type * as tf from '@tensorflow/tfjs';
import { attackNames, attackOptions, attacksOrPreset, suiteAttack } from '../../src/cli/options.js';
import { makePlan } from '../../src/eval/plan.js';
import {
  ATTACK_NAMES,
  ATTACKS,
  Classifier,
  createAttack,
  disposeResults,
  InputError,
  type ModelFunction,
  NORM_NAMES,
  queryOnly,
  setBackend,
} from '../../src/index.js';
import { seededTensor, tinyCnn } from '../fixtures.js';

/** Settings small enough to run each attack once in well under a second. */
const QUICK: Record<string, object> = {
  bim: { steps: 2 },
  pgd: { steps: 2 },
  mifgsm: { steps: 2 },
  apgd: { steps: 2 },
  'apgd-t': { steps: 2, targets: 1 },
  square: { queries: 5 },
  'fab-t': { steps: 2, targets: 1 },
  noise: { restarts: 2 },
};

let cnn: ReturnType<typeof tinyCnn>;
let query: Classifier;
let x: tf.Tensor4D;

before(async () => {
  await setBackend();
  cnn = tinyCnn();
  query = Classifier.create(queryOnly(cnn.model.network as ModelFunction), {
    inputShape: [8, 8, 1],
  });
  x = seededTensor([2, 8, 8, 1], 3) as tf.Tensor4D;
});
after(() => {
  x.dispose();
  query.dispose();
  cnn.dispose();
});

test('every row builds its attack, on exactly the norms it lists', () => {
  for (const name of ATTACK_NAMES) {
    const entry = ATTACKS[name];
    assert.equal(entry.name, name);
    assert.equal(createAttack(name).name, name, `${name}: factory builds another attack`);
    for (const norm of NORM_NAMES) {
      if (entry.norms.includes(norm)) {
        assert.equal(createAttack(name, { norm } as never).norm, norm);
      } else {
        assert.throws(
          () => createAttack(name, { norm } as never),
          (e: unknown) => e instanceof InputError && e.code === 'UNKNOWN_NORM',
          `${name} should refuse ${norm}, which its row does not list`,
        );
      }
    }
  }
  assert.throws(
    () => createAttack('deepfool' as never),
    (e: unknown) => e instanceof InputError && e.code === 'INVALID_OPTION',
  );
});

test('the shared options a row lists are accepted by the attack; the CLI sets exactly those', () => {
  const flags = { norm: 'l2' as const, steps: 3, 'step-size': 0.05, restarts: 2 };
  const byFlag: Record<string, unknown> = { norm: 'l2', steps: 3, stepSize: 0.05, restarts: 2 };
  for (const name of ATTACK_NAMES) {
    const entry = ATTACKS[name];
    const options = attackOptions(name, flags) as Record<string, unknown>;
    const expected = entry.shared.filter((o) => o in byFlag);
    assert.deepEqual(Object.keys(options).sort(), [...expected].sort(), `${name}: CLI options`);
    for (const k of expected) assert.equal(options[k], byFlag[k], `${name}.${k}`);
    // The attack takes them all (an unknown option would be INVALID_OPTION).
    createAttack(name, options as never);
    if (entry.shared.includes('surrogate')) createAttack(name, { surrogate: cnn.model } as never);
    assert.deepEqual(suiteAttack(name, flags), { name, options });
  }
});

test('needsGradient and the family agree with each attack on a query-only model; the plan reads them', async () => {
  for (const name of ATTACK_NAMES) {
    const entry = ATTACKS[name];
    assert.equal(
      entry.family === 'query',
      !entry.needsGradient,
      `${name}: family ${entry.family} vs needsGradient ${entry.needsGradient}`,
    );
    const run = createAttack(name, (QUICK[name] ?? {}) as never).run(
      query,
      { x, labels: [0, 1] },
      [0.1],
    );
    if (entry.needsGradient) {
      await assert.rejects(
        run,
        (e: unknown) => e instanceof InputError && e.code === 'NOT_DIFFERENTIABLE',
        `${name} needs gradients, so it should refuse a query-only model`,
      );
    } else {
      disposeResults(await run);
    }
  }
  const plan = makePlan(
    cnn.model,
    { attacks: ATTACK_NAMES.map((name) => ({ name })), epsilons: [0.1] },
    0,
    {
      minimalEpsilon: false,
    },
  );
  for (const a of plan.attacks) {
    const entry = ATTACKS[a.name];
    assert.equal(a.role, entry.stronger ? 'stronger' : 'baseline', `${a.name}: role`);
    assert.equal(a.blackBox, !entry.needsGradient, `${a.name}: black box`);
  }
  // One-step attacks never count as stronger than FGSM.
  for (const name of ATTACK_NAMES.filter((n) => ATTACKS[n].family === 'one-step')) {
    assert.equal(ATTACKS[name].stronger, false, `${name} is one-step`);
  }
});

test('every registry name is accepted by the CLI and listed by the explorer', () => {
  for (const name of ATTACK_NAMES) {
    assert.deepEqual(attackNames(name.toUpperCase(), 'attack'), [name]);
    assert.deepEqual(attacksOrPreset(`fgsm,${name}`, 'attacks'), ['fgsm', name]);
  }
  // The explorer resolves 'advkit' to src/ through its own tsconfig paths.
  const res = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "import('./explorer/src/settings.ts').then((m) => console.log(JSON.stringify({ offered: m.EXPLORER_ATTACKS, left: Object.keys(m.NOT_IN_EXPLORER), params: Object.keys(m.ATTACK_PARAMS), built: m.EXPLORER_ATTACKS.map((a) => m.buildAttack({ attack: a, norm: 'linf', eps: 0.1, goal: 'untargeted', targetRule: 'random', targetClass: 0, steps: 2, relStep: 0.25, restarts: 1, decay: 1, queries: 5, seed: 0 }).name) })))",
    ],
    { encoding: 'utf8', env: { ...process.env, TSX_TSCONFIG_PATH: 'explorer/tsconfig.json' } },
  );
  assert.equal(res.status, 0, res.stderr);
  const explorer = JSON.parse(res.stdout.trim().split('\n').at(-1) ?? '{}') as Record<
    string,
    string[]
  >;
  assert.deepEqual([...explorer.offered, ...explorer.left].sort(), [...ATTACK_NAMES].sort());
  assert.deepEqual(explorer.params, explorer.offered);
  assert.deepEqual(explorer.built, explorer.offered);
});
