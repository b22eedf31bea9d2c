/**
 * The steps the benchmarks time, shared by the in-process and the
 * data-parallel benchmark so that both time the same work.
 */
import * as tf from '@tensorflow/tfjs';
import { type Classifier, clipToBounds, Linf, objectiveGradient } from '../src/index.js';

/** One FGSM step: x + ε·sign(∇ₓ CE), clipped to the bounds. */
export function fgsmStep(
  model: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  eps: number,
): tf.Tensor4D {
  const g = objectiveGradient(model, x, labels, 'ce');
  const out = tf.tidy(() =>
    clipToBounds(tf.add(x, tf.mul(Linf.steepest(g.grad), eps)), model.bounds),
  );
  g.dispose();
  return out as tf.Tensor4D;
}

/** FGSM-RS (Wong et al. 2020): uniform start, one signed step of 1.25ε, projection. */
export function fgsmRsExamples(
  model: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  eps: number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const start = clipToBounds(tf.add(x, tf.randomUniform(x.shape, -eps, eps)), model.bounds);
    const g = objectiveGradient(model, start as tf.Tensor4D, labels, 'ce');
    const stepped = tf.add(start, tf.mul(Linf.steepest(g.grad), 1.25 * eps));
    g.dispose();
    const projected = tf.add(x, tf.clipByValue(tf.sub(stepped, x), -eps, eps));
    return clipToBounds(projected, model.bounds) as tf.Tensor4D;
  });
}

/**
 * The gradient half of an FGSM-RS training step: the weights' gradients of
 * the mean cross-entropy on the FGSM-RS examples, in `trainableWeights` order.
 */
export function fgsmRsStep(
  model: Classifier,
  network: tf.LayersModel,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  classes: number,
  eps: number,
): tf.Tensor[] {
  const xAdv = fgsmRsExamples(model, x, labels, eps);
  const oneHot = tf.oneHot(labels, classes);
  const vars = network.trainableWeights.map((w) => w.read() as tf.Variable);
  const { value, grads } = tf.variableGrads(
    () => tf.losses.softmaxCrossEntropy(oneHot, model.logits(xAdv)) as tf.Scalar,
    vars,
  );
  tf.dispose([xAdv, oneHot, value]);
  return vars.map((v) => grads[v.name]);
}
