/**
 * The one place attacks differentiate a model: the per-example objective,
 * its gradient with respect to the pixel-space input, and the logits seen
 * on the way (so a step loop never pays for an extra forward pass).
 */
import * as tf from '@tensorflow/tfjs';
import { withInputOnlyGradients } from '../backend/index.js';
import type { Classifier } from '../model/classifier.js';
import { type LossName, objective } from '../threat-model/losses.js';

export interface GradientStep {
  grad: tf.Tensor4D;
  logits: tf.Tensor2D;
  objective: tf.Tensor1D;
  dispose(): void;
}

export function objectiveGradient(
  model: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  loss: LossName,
  targets?: tf.Tensor1D,
): GradientStep {
  let logits: tf.Tensor2D | undefined;
  let obj: tf.Tensor1D | undefined;
  const f = (xi: tf.Tensor4D): tf.Scalar => {
    const z = model.logits(xi);
    const o = objective(loss, z, labels, targets);
    logits = tf.keep(z);
    obj = tf.keep(o);
    return tf.sum(o);
  };
  // Attacks never use weight gradients: skip computing them.
  const { value, grad } = withInputOnlyGradients(() => tf.valueAndGrad(f)(x));
  value.dispose();
  const step = {
    grad: grad as tf.Tensor4D,
    logits: logits as tf.Tensor2D,
    objective: obj as tf.Tensor1D,
    dispose() {
      step.grad.dispose();
      step.logits.dispose();
      step.objective.dispose();
    },
  };
  return step;
}
