/** Putting one analysis on the page. */
import type * as tf from '@tensorflow/tfjs';
import { type Classifier, getNorm } from 'advkit';
import type { Analysis } from './analysis.js';
import {
  $,
  fmt,
  linearRows,
  numberTable,
  paint,
  paintPerturbation,
  predictionTable,
} from './render.js';
import { ATTACK_PARAMS, type AttackSettings } from './settings.js';

export async function showAnalysis(
  a: Analysis,
  x: tf.Tensor4D,
  model: Classifier,
  s: AttackSettings,
) {
  const [lo, hi] = model.bounds;
  await paint($('img-original'), x, lo, hi);
  await paint($('img-adversarial'), a.xAdv, lo, hi);
  const { maxAbs, gain } = await paintPerturbation($('img-perturbation'), a.delta, hi - lo);
  $('pert-scale').textContent =
    maxAbs > 0 ? `(×${fmt(gain, 3)}; grey = 0, white = +${fmt(maxAbs)})` : '(zero)';
  await paint($('img-sign'), a.stepSign, -1, 1);
  $('sign-caption').textContent =
    a.target === undefined
      ? 'step direction: sign of δ*(∇ₓL(x, y))'
      : `step direction: sign of −δ*(∇ₓL(x, t=${a.target}))`;
  const clean = $('clean-pred');
  clean.textContent = `${a.cleanPred} (${(100 * a.clean[0].p).toFixed(1)} %)`;
  clean.dataset.class = String(a.cleanPred);
  const adv = $('adv-pred');
  const advTop = a.adv.find((r) => r.cls === a.advPred);
  adv.textContent = `${a.advPred}${advTop ? ` (${(100 * advTop.p).toFixed(1)} %)` : ''}`;
  adv.dataset.class = String(a.advPred);
  predictionTable($('preds-clean'), a.clean, a.lossClass);
  predictionTable($('preds-adv'), a.adv, a.lossClass);
  const goal = a.target === undefined ? 'untargeted' : `targeted at ${a.target}`;
  const verdict = $('verdict');
  verdict.textContent = `${ATTACK_PARAMS[s.attack].label} (${goal}, ${getNorm(s.norm).label}, ε = ${fmt(s.eps)}): ${a.success ? 'attack succeeded' : 'attack failed'} — ${a.cleanPred} → ${a.advPred}`;
  verdict.dataset.success = String(a.success);
  numberTable($('linear'), linearRows(a, s.norm));
  const pn = $('pert-norm');
  pn.textContent = `${fmt(a.distance, 5)} (${getNorm(s.norm).label}, ε = ${fmt(s.eps)})`;
  pn.dataset.value = String(a.distance);
  const q = $('queries-used');
  q.textContent =
    a.queries === undefined
      ? '– (a gradient attack: no query budget)'
      : `${a.queries} of ${s.queries * s.restarts} (the clean check included; a fooled image stops being queried)`;
  q.dataset.value = a.queries === undefined ? '' : String(a.queries);
  numberTable($('norms'), [
    ['‖δ‖∞', fmt(a.norms.linf, 5)],
    ['‖δ‖₂', fmt(a.norms.l2, 5)],
    ['‖δ‖₁', fmt(a.norms.l1, 5)],
  ]);
}
