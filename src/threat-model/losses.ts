/**
 * Per-example losses on logits. Attacks maximise `objective(...)`, which
 * folds the goal in: untargeted attacks push the true label's loss up,
 * targeted attacks push the target's loss down. Nothing here averages over
 * the batch, so the batch size never rescales a gradient.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';

export type LossName = 'ce' | 'cw' | 'dlr';
export const LOSS_NAMES: readonly LossName[] = ['ce', 'cw', 'dlr'];

/**
 * Cross-entropy of softmax(logits) against `labels`, per example, with a
 * gradient that does not saturate in float32 (see `crossEntropyParts`).
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  // TF.js passes the inputs, then the save function, as one rest list.
  const ce = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [z, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const { loss, grad } = crossEntropyParts(z, labels);
    save([grad]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0], tf.expandDims(dy, 1)),
    };
  });
  return tf.tidy(() => ce(logits) as tf.Tensor1D);
}

/**
 * The loss and its gradient with respect to the logits, both formed so that
 * neither rounds to 0 on a confident example. With m = max z and a its
 * class, CE = (m − z_y) + log1p(Σ_{j≠a} exp(z_j − m)): log(Σ_j exp(z_j − m))
 * would round 1 + 1e-9 to 1. The gradient is p_j off the label and
 * −Σ_{j≠y} p_j on it: p_y − 1 is exactly 0 in float32 once 1 − p_y < 2⁻²⁴,
 * and FGSM would then step along the other classes' terms alone, which
 * lowers their logits, i.e. the wrong way.
 */
function crossEntropyParts(logits: tf.Tensor2D, labels: tf.Tensor1D) {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const onehot = tf.oneHot(tf.cast(labels, 'int32'), k);
    const m = tf.max(logits, 1, true);
    const shifted = tf.sub(logits, m);
    const atMax = tf.oneHot(tf.argMax(logits, 1), k);
    const rest = tf.sum(tf.mul(tf.exp(shifted), tf.sub(1, atMax)), 1);
    const zyShift = tf.sum(tf.mul(shifted, onehot), 1);
    const loss = tf.sub(log1p(rest), zyShift) as tf.Tensor1D;
    const others = tf.mul(tf.softmax(logits), tf.sub(1, onehot));
    const grad = tf.sub(others, tf.mul(onehot, tf.sum(others, 1, true))) as tf.Tensor2D;
    return { loss, grad };
  });
}

/**
 * log(1 + x) for x ≥ 0, accurate for tiny x: wasm's Log1p computes
 * log(1 + x) literally, which is 0 below 6e-8. With u = 1 + x rounded,
 * log(u)·x/(u − 1) cancels the rounding of u (Goldberg 1991, thm. 4).
 */
function log1p(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const u = tf.add(x, 1);
    const d = tf.sub(u, 1);
    const exact = tf.equal(d, 0);
    return tf.where(exact, x, tf.div(tf.mul(tf.log(u), x), tf.where(exact, tf.onesLike(d), d)));
  });
}

/** z_label (`zy`) and the largest other logit (`best`), with the one-hot and masked logits behind them. */
function bestOtherParts(logits: tf.Tensor2D, labels: tf.Tensor1D) {
  const onehot = tf.oneHot(tf.cast(labels, 'int32'), logits.shape[1]);
  const zy = tf.sum(tf.mul(logits, onehot), 1) as tf.Tensor1D;
  // Push the label's own logit far below the rest so `max` picks another class.
  const others = tf.sub(logits, tf.mul(onehot, 1e9));
  return { onehot, zy, others, best: tf.max(others, 1) as tf.Tensor1D };
}

/**
 * The k largest logits per example, largest first. Built from max and
 * argMax (whose gradients TF.js defines) because TopK has no gradient.
 */
function largestLogits(logits: tf.Tensor2D, k: number): tf.Tensor1D[] {
  const out: tf.Tensor1D[] = [];
  let rest: tf.Tensor2D = logits;
  for (let i = 0; i < k; i++) {
    out.push(tf.max(rest, 1) as tf.Tensor1D);
    rest = tf.sub(rest, tf.mul(tf.oneHot(tf.argMax(rest, 1), logits.shape[1]), 1e9));
  }
  return out;
}

/**
 * Carlini–Wagner margin, max_{i≠y} z_i − z_y: positive exactly when the
 * example is misclassified.
 */
export function cwMargin(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const { zy, best: zOther } = bestOtherParts(logits, labels);
    return tf.sub(zOther, zy) as tf.Tensor1D;
  });
}

/**
 * Difference of logits ratio (Croce & Hein 2020), untargeted form:
 * −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3 + 1e-12), π sorting logits
 * descending. Invariant to shifting and scaling the logits.
 */
export function dlr(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    if (logits.shape[1] < 3) {
      throw new InputError(
        'INVALID_OPTION',
        `the DLR loss needs at least 3 classes; the model has ${logits.shape[1]}`,
      );
    }
    const { zy, best: zOther } = bestOtherParts(logits, labels);
    const [z1, , z3] = largestLogits(logits, 3);
    return tf.neg(tf.div(tf.sub(zy, zOther), tf.add(tf.sub(z1, z3), 1e-12))) as tf.Tensor1D;
  });
}

/**
 * Targeted DLR (Croce & Hein 2020), the loss of APGD-T:
 * −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2 + 1e-12), π sorting logits
 * descending; like `dlr`, invariant to shifting and scaling the logits.
 * With fewer than 4 classes π4 does not exist: 3 classes use z_π1 − z_π3
 * (untargeted DLR's scale); 2 classes have no third logit to scale by
 * (z_π1 − z_π2 = |z_y − z_t| would make the loss a constant ±1 with a zero
 * gradient), so the loss there is the plain margin −(z_y − z_t).
 */
export function dlrTargeted(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  targets: tf.Tensor1D,
): tf.Tensor1D {
  return tf.tidy(() => {
    const k = logits.shape[1];
    const zy = tf.sum(tf.mul(logits, tf.oneHot(tf.cast(labels, 'int32'), k)), 1);
    const zt = tf.sum(tf.mul(logits, tf.oneHot(tf.cast(targets, 'int32'), k)), 1);
    const margin = tf.sub(zy, zt);
    if (k < 3) return tf.neg(margin) as tf.Tensor1D;
    const [z1, , z3, z4] = largestLogits(logits, Math.min(k, 4));
    const scale = k < 4 ? tf.sub(z1, z3) : tf.sub(z1, tf.div(tf.add(z3, z4), 2));
    return tf.neg(tf.div(margin, tf.add(scale, 1e-12))) as tf.Tensor1D;
  });
}

/**
 * What the shared gradient path can differentiate: the losses a user picks,
 * and `'logit-diff'`, z_t − z_y (target minus label), whose zero set is the
 * decision boundary between the two classes. FAB linearises that boundary;
 * it is no loss to ascend, so it is not in `LOSS_NAMES`, and it needs targets.
 */
export type ObjectiveName = LossName | 'logit-diff';

/** z_t − z_y per example. */
export function logitDiff(
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  targets: tf.Tensor1D | undefined,
): tf.Tensor1D {
  if (!targets) {
    throw new InputError(
      'INVALID_OPTION',
      "the 'logit-diff' objective (z_target − z_label) needs target classes; received none",
    );
  }
  return tf.tidy(() => {
    const k = logits.shape[1];
    const gap = tf.sub(
      tf.oneHot(tf.cast(targets, 'int32'), k),
      tf.oneHot(tf.cast(labels, 'int32'), k),
    );
    return tf.sum(tf.mul(logits, gap), 1) as tf.Tensor1D;
  });
}

/** The loss a report shows for `name`, against `labels` (true labels). */
export function lossByName(name: LossName, logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Tensor1D {
  switch (name) {
    case 'ce':
      return crossEntropy(logits, labels);
    case 'cw':
      return cwMargin(logits, labels);
    case 'dlr':
      return dlr(logits, labels);
    default:
      throw new InputError(
        'INVALID_OPTION',
        `unknown loss ${JSON.stringify(name)}; expected one of ${LOSS_NAMES.join(', ')}`,
      );
  }
}

/**
 * The quantity an attack maximises, per example. Untargeted: the loss of the
 * true label. Targeted (targets given): the negated loss of the target
 * (cross-entropy), the target's margin over the best other class (CW), or the
 * targeted DLR.
 */
export function objective(
  name: ObjectiveName,
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  targets?: tf.Tensor1D,
): tf.Tensor1D {
  if (name === 'logit-diff') return logitDiff(logits, labels, targets);
  if (!targets) return lossByName(name, logits, labels);
  return tf.tidy(() => {
    switch (name) {
      case 'ce':
        return tf.neg(crossEntropy(logits, targets));
      case 'cw':
        return tf.neg(cwMargin(logits, targets));
      case 'dlr':
        return dlrTargeted(logits, labels, targets);
      default:
        return lossByName(name, logits, labels);
    }
  });
}

/**
 * `objective(...)` and its gradient with respect to the logits, in closed
 * form, for CE and CW; undefined for DLR (differentiate `objective` there).
 * An attack takes this gradient every step, and on a [batch, classes] tensor
 * TF.js's tape costs far more than the arithmetic: for 64 × 10 logits on
 * wasm, 1.5 ms through autodiff against about 0.1 ms here. The values are
 * autodiff's: CE's is softmax − onehot (its label term as −Σ_{j≠y} p_j, which
 * `crossEntropy`'s custom gradient also uses); CW's is +1 on every class tied for
 * the largest other logit (as TF.js's max gradient spreads it) and −1 on the
 * label; both negated for a targeted attack.
 */
export function objectiveWithGradient(
  name: ObjectiveName,
  logits: tf.Tensor2D,
  labels: tf.Tensor1D,
  targets?: tf.Tensor1D,
): { objective: tf.Tensor1D; grad: tf.Tensor2D } | undefined {
  if (name === 'logit-diff') {
    // Linear in the logits: the gradient is onehot(t) − onehot(y).
    const objective = logitDiff(logits, labels, targets);
    const grad = tf.tidy(() => {
      const k = logits.shape[1];
      return tf.sub(
        tf.oneHot(tf.cast(targets as tf.Tensor1D, 'int32'), k),
        tf.oneHot(tf.cast(labels, 'int32'), k),
      ) as tf.Tensor2D;
    });
    return { objective, grad };
  }
  if (name !== 'ce' && name !== 'cw') return undefined;
  return tf.tidy(() => {
    const sign = targets ? -1 : 1;
    const of = targets ?? labels;
    let loss: tf.Tensor1D;
    let grad: tf.Tensor2D;
    if (name === 'ce') {
      ({ loss, grad } = crossEntropyParts(logits, of));
    } else {
      const { onehot, zy, others, best } = bestOtherParts(logits, of);
      loss = tf.sub(best, zy);
      grad = tf.sub(tf.cast(tf.equal(others, tf.expandDims(best, 1)), 'float32'), onehot);
    }
    return sign > 0
      ? { objective: loss, grad }
      : { objective: tf.neg(loss) as tf.Tensor1D, grad: tf.neg(grad) as tf.Tensor2D };
  });
}

export function checkLoss(name: string): LossName {
  if (!(LOSS_NAMES as readonly string[]).includes(name)) {
    throw new InputError(
      'INVALID_OPTION',
      `unknown loss ${JSON.stringify(name)}; expected one of ${LOSS_NAMES.join(', ')}`,
    );
  }
  return name as LossName;
}
