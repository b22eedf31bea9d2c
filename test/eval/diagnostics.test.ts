import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { Plan } from '../../src/eval/batch.js';
import { computeDiagnostics } from '../../src/eval/diagnostics.js';
import { evaluate } from '../../src/eval/index.js';
import { emptyState } from '../../src/eval/state.js';
import { Classifier, createAttack, Linf, setBackend, UNTARGETED } from '../../src/index.js';
import { tinyCnn } from '../fixtures.js';
import { syntheticData } from './helpers.js';

before(async () => {
  await setBackend();
});

test('gradient masking: a step-function model has zero gradients and noise beats FGSM', async () => {
  // z = [0, Σ round(x) − d/4]: piecewise constant, so ∇ₓ = 0 everywhere.
  // Every pixel is 0.45 (round → 0, class 0); ±0.1 sign noise pushes about
  // half the pixels to 0.55 (round → 1) and flips the class. FGSM cannot move.
  const d = 16;
  const net = (x: tf.Tensor4D) =>
    tf.tidy(() => {
      const s = tf.sub(tf.sum(tf.round(x.reshape([x.shape[0], d])), 1, true), d / 4);
      return tf.concat([tf.zerosLike(s), s], 1);
    });
  const model = Classifier.create(net, { inputShape: [4, 4, 1] });
  const n = 6;
  const data = {
    images: new Float32Array(n * d).fill(0.45),
    labels: new Int32Array(n),
    shape: [4, 4, 1] as const,
    numClasses: 2,
    source: 'constant 0.45',
  };
  const r = await evaluate(
    model,
    data,
    { epsilons: [0.1], attacks: [{ name: 'fgsm' }] },
    { minimalEpsilon: false, modelChecksum: 'step' },
  );
  const codes = r.warnings.map((w) => w.code);
  assert.equal(r.diagnostics?.zeroGradientFraction, 1);
  assert.equal(r.diagnostics?.zeroGradientExamples, n);
  assert.ok(codes.includes('ZERO_GRADIENTS'), "codes.includes('ZERO_GRADIENTS')");
  assert.ok(codes.includes('NOISE_BEATS_FGSM'), JSON.stringify(r.diagnostics?.noise));
  assert.ok(codes.includes('NO_STRONGER_ATTACK'), "codes.includes('NO_STRONGER_ATTACK')");
  assert.equal(r.attacks[0].results[0].successRate.numerator, 0, 'FGSM does not move');
  model.dispose();
});

test('a crippled PGD weaker than FGSM is flagged as a broken evaluation', async () => {
  const net = tinyCnn();
  const data = syntheticData(16, [8, 8, 1], 4);
  const r = await evaluate(
    net.model,
    data,
    {
      epsilons: [0.2],
      attacks: [
        { name: 'fgsm' },
        { name: 'pgd', options: { steps: 1, stepSize: 1e-4, randomStart: false } },
      ],
    },
    { minimalEpsilon: false, modelChecksum: 'c' },
  );
  const w = r.warnings.find((x) => x.code === 'PGD_WEAKER_THAN_FGSM');
  assert.ok(w, JSON.stringify(r.diagnostics?.iterativeVsFgsm));
  assert.equal(w.severity, 'error');
  assert.equal(w.attack, 'pgd');
  net.dispose();
});

/** A plan and state filled by hand: 4 clean-correct examples, ε ∈ {0, 0.1}. */
function handMade() {
  const plan: Pick<Plan, 'epsilons' | 'attacks' | 'goal' | 'diagnosticNorm'> = {
    epsilons: [0, 0.1],
    goal: UNTARGETED,
    diagnosticNorm: Linf,
    attacks: [
      { key: 'fgsm', name: 'fgsm', role: 'baseline', minimal: false, attack: createAttack('fgsm') },
      { key: 'pgd', name: 'pgd', role: 'stronger', minimal: false, attack: createAttack('pgd') },
    ],
  };
  const state = emptyState({} as never, 2, 2);
  state.clean.label.push(0, 1, 2, 3);
  state.clean.predicted.push(0, 1, 2, 3);
  state.clean.loss.push(0.1, 0.1, 0.1, 0.1);
  const fill = (a: number, e: number, success: boolean[], distance: number[], oob = false) => {
    const c = state.attacks[a].perEpsilon[e];
    c.success.push(...success);
    c.distance.push(...distance);
    c.outOfBounds.push(...success.map(() => oob));
    c.predicted.push(...success.map((s, i) => (s ? (i + 1) % 4 : i)));
    c.loss.push(...success.map(() => 1));
  };
  return { plan, state, fill };
}

test('FGSM failing where PGD succeeds warns of a curved loss / one-step-trained model', () => {
  const { plan, state, fill } = handMade();
  fill(0, 0, [false, false, false, false], [0, 0, 0, 0]);
  fill(1, 0, [false, false, false, false], [0, 0, 0, 0]);
  fill(0, 1, [true, false, false, false], [0.1, 0.1, 0.1, 0.1]);
  fill(1, 1, [true, true, true, true], [0.1, 0.1, 0.1, 0.1]);
  const { warnings, diagnostics } = computeDiagnostics(plan, state, false);
  assert.equal(diagnostics, null);
  const w = warnings.find((x) => x.code === 'FGSM_WEAKER_THAN_ITERATIVE');
  assert.ok(w, 'w');
  assert.equal(w.epsilon, 0.1);
  assert.ok(
    !warnings.some((x) => x.severity === 'error'),
    "!warnings.some((x) => x.severity === 'error')",
  );
});

test('sanity: ‖δ‖ > ε, out-of-bounds pixels and a moved ε = 0 input are errors', () => {
  const { plan, state, fill } = handMade();
  fill(0, 0, [false, false, false, false], [0, 0.01, 0, 0]);
  fill(1, 0, [false, false, false, false], [0, 0, 0, 0]);
  fill(0, 1, [true, true, true, true], [0.1, 0.1, 0.1000001, 0.1]);
  fill(1, 1, [true, true, true, true], [0.1, 0.25, 0.1, 0.1], true);
  const codes = computeDiagnostics(plan, state, false).warnings.map((w) => `${w.code}:${w.attack}`);
  assert.ok(
    codes.includes('EPSILON_ZERO_CHANGED:fgsm'),
    "codes.includes('EPSILON_ZERO_CHANGED:fgsm')",
  );
  assert.ok(codes.includes('BUDGET_VIOLATION:fgsm'), 'ε = 0 with ‖δ‖ = 0.01');
  assert.ok(codes.includes('BUDGET_VIOLATION:pgd'), "codes.includes('BUDGET_VIOLATION:pgd')");
  assert.ok(codes.includes('BOUNDS_VIOLATION:pgd'), "codes.includes('BOUNDS_VIOLATION:pgd')");
  // Only the ε = 0 entry: 0.1000001 ≤ 0.1 within float tolerance.
  assert.equal(codes.filter((c) => c === 'BUDGET_VIOLATION:fgsm').length, 1);
});
