/**
 * One training step: craft the batch's adversarial examples with advkit's
 * own attacks on the model in eval mode, then descend the mean
 * cross-entropy of the model in training mode.
 *
 *   standard  L = CE(x)
 *   fgsm      L = w·CE(x) + (1 − w)·CE(FGSM(x))            (Goodfellow et al., w = 0.5)
 *   fgsm-rs   L = CE(FGSM-RS(x)), α = 1.25ε by default      (Wong et al.)
 *   pgd       L = CE(PGD_k(x)) from a random start           (Madry et al.)
 */
import * as tf from '@tensorflow/tfjs';
import { BIM } from '../attacks/bim.js';
import { FGSM } from '../attacks/fgsm.js';
import { FGSMRandomStart } from '../attacks/fgsm-random-start.js';
import { PGD } from '../attacks/pgd.js';
import type { Attack } from '../attacks/types.js';
import type { Classifier } from '../model/classifier.js';
import { clipToBounds } from '../threat-model/bounds.js';
import { crossEntropy } from '../threat-model/losses.js';
import type { Batch } from './batch.js';
import type { TrainOptimizer } from './optimizer.js';
import type { ResolvedOptions } from './options.js';

/** Whether the training attack runs on bounds widened by ε (FGSM-RS, unclipped start). */
export function widensBounds(r: ResolvedOptions): boolean {
  return r.method === 'fgsm-rs' && r.randomStart && !r.clipStart;
}

/** The attack that crafts training examples, or undefined for standard training. */
export function trainingAttack(r: ResolvedOptions): Attack | undefined {
  switch (r.method) {
    case 'standard':
      return undefined;
    case 'fgsm':
      return new FGSM();
    case 'fgsm-rs':
      return r.randomStart
        ? new FGSMRandomStart({ stepSize: r.alpha })
        : new BIM({ steps: 1, stepSize: r.alpha });
    case 'pgd':
      return new PGD({ steps: r.pgdSteps, stepSize: r.alpha, restarts: 1, randomStart: true });
  }
}

/** Sums over the batch, for the epoch means. */
export interface StepStats {
  loss: number;
  cleanLossSum: number;
  cleanCorrect: number;
  advLossSum: number;
  advCorrect: number;
}

export interface StepContext {
  evalModel: Classifier;
  /**
   * The model the training attack runs on: `evalModel`, or for FGSM-RS with
   * an unclipped start the same network with bounds widened by ε, so that
   * x + u is not clipped before the gradient (the result is clipped after).
   */
  craftModel: Classifier;
  trainModel: Classifier;
  attack: Attack | undefined;
  vars: tf.Variable[];
  optimizer: TrainOptimizer;
  options: ResolvedOptions;
}

/** Cross-entropy sum and correct count of `x` under the eval-mode model. */
async function judge(
  model: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
): Promise<[number, number]> {
  const [loss, correct] = tf.tidy(() => {
    const z = model.logits(x);
    return [
      tf.sum(crossEntropy(z, labels)),
      tf.sum(tf.cast(tf.equal(tf.argMax(z, 1), tf.cast(labels, 'int32')), 'float32')),
    ];
  });
  const [l, c] = await Promise.all([loss.data(), correct.data()]);
  tf.dispose([loss, correct]);
  return [l[0], c[0]];
}

/**
 * The batch's training examples: the training attack on `craftModel` (eval
 * mode), from the true or the predicted labels, clipped to the model's
 * bounds. Undefined for standard training; the caller disposes the tensor.
 */
export async function craftBatch(
  ctx: StepContext,
  batch: Batch,
  attackSeed: number,
): Promise<tf.Tensor4D | undefined> {
  const { evalModel, craftModel, attack, options: r } = ctx;
  if (!attack) return undefined;
  const labels =
    r.attackLabel === 'predicted' ? (await evalModel.predict(batch.x)).labels : batch.labels;
  const [res] = await attack.run(
    craftModel,
    { x: batch.x, labels, seed: attackSeed, indices: batch.indices },
    [r.eps],
  );
  if (craftModel === evalModel) return res.xAdv;
  const clipped = clipToBounds(res.xAdv, evalModel.bounds);
  res.xAdv.dispose();
  return clipped;
}

/** Craft, measure and update on one batch. Creates no lasting tensors. */
export async function trainStep(
  ctx: StepContext,
  batch: Batch,
  lr: number,
  attackSeed: number,
): Promise<StepStats> {
  const { evalModel, trainModel, options: r } = ctx;
  const yT = tf.tensor1d(batch.labels, 'int32');
  let xAdv: tf.Tensor4D | undefined;
  try {
    const [cleanLossSum, cleanCorrect] = await judge(evalModel, batch.x, yT);
    let advLossSum = 0;
    let advCorrect = 0;
    xAdv = await craftBatch(ctx, batch, attackSeed);
    if (xAdv) [advLossSum, advCorrect] = await judge(evalModel, xAdv, yT);
    const adv = xAdv;
    const { value, grads } = tf.variableGrads((): tf.Scalar => {
      if (!adv) return tf.mean(crossEntropy(trainModel.logits(batch.x), yT)) as tf.Scalar;
      const advLoss = tf.mean(crossEntropy(trainModel.logits(adv), yT)) as tf.Scalar;
      if (r.method !== 'fgsm' || r.cleanWeight === 0) return advLoss;
      const cleanLoss = tf.mean(crossEntropy(trainModel.logits(batch.x), yT));
      return tf.add(tf.mul(cleanLoss, r.cleanWeight), tf.mul(advLoss, 1 - r.cleanWeight));
    }, ctx.vars);
    ctx.optimizer.apply(grads, lr);
    const loss = (await value.data())[0];
    value.dispose();
    tf.dispose(grads);
    return { loss, cleanLossSum, cleanCorrect, advLossSum, advCorrect };
  } finally {
    yT.dispose();
    xAdv?.dispose();
  }
}
