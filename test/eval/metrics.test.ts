import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ADVKIT_VERSION, attackMetrics, cleanAccuracy, ratio } from '../../src/eval/index.js';

test('10 examples, 2 already wrong, 3 flipped: robust accuracy 5/10, success rate 3/8', () => {
  // Examples 0–1 are wrong before the attack; 2–4 are flipped; 5–9 survive.
  const labels = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1];
  const clean = [1, 0, 2, 3, 0, 1, 2, 3, 0, 1];
  const adv = [1, 2, 0, 0, 1, 1, 2, 3, 0, 1];
  const success = adv.map((p, i) => p !== labels[i]);
  const m = attackMetrics({
    labels,
    cleanPredictions: clean,
    adversarialPredictions: adv,
    success,
  });
  assert.deepEqual(
    [m.robustAccuracy.numerator, m.robustAccuracy.denominator, m.robustAccuracy.value],
    [5, 10, 0.5],
  );
  assert.deepEqual(
    [m.successRate.numerator, m.successRate.denominator, m.successRate.value],
    [3, 8, 0.375],
  );
  assert.equal(m.alreadyWrong, 2);
  assert.equal(m.alreadyWrongSuccess, 2);
  assert.match(m.robustAccuracy.definition, /all examples/);
  assert.match(m.successRate.definition, /clean-correct/);
  assert.deepEqual(cleanAccuracy(labels, clean).numerator, 8);
});

test('targeted: success means reaching the target; missing it can still cost accuracy', () => {
  // 4 clean-correct examples, targets 3: #0 reaches it, #1 moves to class 2
  // (not the target, so no success, but no longer correct), #2–3 stay.
  const labels = [0, 1, 0, 1];
  const adv = [3, 2, 0, 1];
  const targets = [3, 3, 3, 3];
  const m = attackMetrics({
    labels,
    cleanPredictions: labels,
    adversarialPredictions: adv,
    success: adv.map((p, i) => p === targets[i]),
  });
  assert.equal(m.successRate.numerator, 1);
  assert.equal(m.successRate.denominator, 4);
  assert.equal(m.robustAccuracy.numerator, 2);
  assert.equal(m.alreadyWrong, 0);
});

test('a zero denominator gives value null, not NaN', () => {
  const r = ratio(0, 0, 'x');
  assert.equal(r.value, null);
  const m = attackMetrics({
    labels: [0, 1],
    cleanPredictions: [1, 0],
    adversarialPredictions: [1, 0],
    success: [true, true],
  });
  assert.equal(m.successRate.denominator, 0);
  assert.equal(m.successRate.value, null);
  assert.equal(m.alreadyWrong, 2);
});

test('the version in reports is the package version', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  assert.equal(ADVKIT_VERSION, pkg.version);
});
