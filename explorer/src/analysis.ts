/**
 * One attack on one input, and everything the page shows about it: top-5
 * before and after, the loss before and after against the first-order
 * prediction (the linear explanation), the step direction, and δ's norms.
 */
import * as tf from '@tensorflow/tfjs';
import { type Classifier, crossEntropy, getNorm, L1, L2, Linf, objectiveGradient } from 'advkit';
import { type AttackSettings, buildAttack, goalOf } from './settings.js';

export interface Ranked {
  cls: number;
  p: number;
}

export interface Analysis {
  clean: Ranked[];
  adv: Ranked[];
  cleanPred: number;
  advPred: number;
  success: boolean;
  target?: number;
  /** Loss of the attacked class: the label (untargeted) or the target. */
  lossClass: number;
  lossBefore: number;
  lossAfter: number;
  /** ‖g‖ in the dual of the attack's norm (‖g‖₁ for L∞, ‖g‖₂ for L2, ‖g‖∞ for L1). */
  gradDual: number;
  /** L ± ε‖g‖_* : the best first-order change over the whole ε-ball. */
  firstOrder: number;
  /** L + gᵀδ with the δ actually applied (after clipping to the bounds). */
  linearActual: number;
  /** ‖δ‖ in the attack's norm, as the library reports it. */
  distance: number;
  /** Model queries spent, for a query-based attack (Square). */
  queries?: number;
  norms: { linf: number; l2: number; l1: number };
  /** Fraction of zero gradient coordinates (gradient-masking hint). */
  zeroGrad: number;
  xAdv: tf.Tensor4D;
  delta: tf.Tensor4D;
  /** Sign of the first step's direction: +1, 0, −1 per coordinate. */
  stepSign: tf.Tensor4D;
  dispose(): void;
}

async function top5(model: Classifier, x: tf.Tensor4D): Promise<Ranked[]> {
  const { values, indices } = tf.tidy(() => {
    const p = tf.softmax(model.logits(x)).reshape([-1]);
    return tf.topk(p, Math.min(5, model.numClasses));
  });
  const [v, i] = await Promise.all([values.data(), indices.data()]);
  tf.dispose([values, indices]);
  return Array.from(i, (cls, k) => ({ cls, p: v[k] }));
}

const DUAL = { linf: L1, l2: L2, l1: Linf } as const;

export async function analyse(
  model: Classifier,
  x: tf.Tensor4D,
  label: number,
  s: AttackSettings,
): Promise<Analysis> {
  const attack = buildAttack(s);
  const [r] = await attack.run(model, { x, labels: [label], goal: goalOf(s), seed: s.seed }, [
    s.eps,
  ]);
  const target = r.targets?.[0];
  const lossClass = target ?? label;
  const sign = target === undefined ? 1 : -1;
  const cls = tf.tensor1d([lossClass], 'int32');
  const g = objectiveGradient(model, x, cls, 'ce');
  const [delta, stepSign, scalars] = tf.tidy(() => {
    const d = tf.sub(r.xAdv, x) as tf.Tensor4D;
    const dual = DUAL[s.norm].distance(g.grad);
    const lossAfter = crossEntropy(model.logits(r.xAdv), cls);
    const gDotDelta = tf.sum(tf.mul(g.grad, d));
    const zeros = tf.mean(tf.cast(tf.equal(g.grad, 0), 'float32'));
    const dir = tf.sign(tf.mul(getNorm(s.norm).steepest(g.grad), sign)) as tf.Tensor4D;
    const packed = tf.concat([
      g.objective.reshape([1]),
      lossAfter.reshape([1]),
      dual.reshape([1]),
      gDotDelta.reshape([1]),
      zeros.reshape([1]),
      Linf.distance(d).reshape([1]),
      L2.distance(d).reshape([1]),
      L1.distance(d).reshape([1]),
    ]);
    return [d, dir, packed];
  });
  const v = await scalars.data();
  scalars.dispose();
  g.dispose();
  cls.dispose();
  const [clean, adv] = await Promise.all([top5(model, x), top5(model, r.xAdv)]);
  const [lossBefore, lossAfter, gradDual, gDotDelta, zeroGrad, nInf, n2, n1] = Array.from(v);
  return {
    clean,
    adv,
    cleanPred: clean[0].cls,
    advPred: r.predicted[0],
    success: r.success[0],
    target,
    lossClass,
    lossBefore,
    lossAfter,
    gradDual,
    firstOrder: lossBefore + sign * s.eps * gradDual,
    linearActual: lossBefore + gDotDelta,
    distance: r.distance[0],
    ...(r.queries ? { queries: r.queries[0] } : {}),
    norms: { linf: nInf, l2: n2, l1: n1 },
    zeroGrad,
    xAdv: r.xAdv,
    delta,
    stepSign,
    dispose() {
      tf.dispose([r.xAdv, delta, stepSign]);
    },
  };
}
