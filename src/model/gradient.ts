/**
 * The one place attacks differentiate a model: the per-example objective,
 * its gradient with respect to the pixel-space input, and the logits seen
 * on the way (so a step loop never pays for an extra forward pass). On wasm
 * a batch too large for the heap is split into chunks (see
 * `memory-budget.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { withInputOnlyGradients } from '../backend/index.js';
import { InputError } from '../errors.js';
import { type ObjectiveName, objective, objectiveWithGradient } from '../threat-model/losses.js';
import type { Classifier } from './classifier.js';
import type { LayerPlan } from './layer-plan.js';
import { gradientChunk, memoryBounded, recordForwardBytes } from './memory-budget.js';
import { PlanMismatch } from './step-graph.js';

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
  loss: ObjectiveName,
  targets?: tf.Tensor1D,
): GradientStep {
  if (!model.differentiable) {
    throw new InputError(
      'NOT_DIFFERENTIABLE',
      `objectiveGradient: the model ${JSON.stringify(model.info.name)} is query-only (it has no gradient); only attacks that query the model (no gradient) run on it`,
    );
  }
  const n = x.shape[0];
  // A model in 'train' mode is never split: batch norm uses batch statistics.
  if (!memoryBounded() || model.info.mode === 'train')
    return gradientOf(model, x, labels, loss, targets);
  const chunk = gradientChunk(model, model.plan() ? 'plan' : 'autodiff');
  if (chunk === undefined) {
    // First gradient of this model: measure it on one example.
    if (n === 1) return gradientOf(model, x, labels, loss, targets, true);
    return inChunks(model, x, labels, loss, targets, [1, n - 1], true);
  }
  if (n <= chunk) return gradientOf(model, x, labels, loss, targets);
  const sizes = Array.from({ length: Math.ceil(n / chunk) }, (_, i) =>
    Math.min(chunk, n - i * chunk),
  );
  return inChunks(model, x, labels, loss, targets, sizes, false);
}

function gradientOf(
  model: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  loss: ObjectiveName,
  targets: tf.Tensor1D | undefined,
  measure = false,
): GradientStep {
  const plan = model.plan();
  if (plan) {
    try {
      return planGradient(model, plan, x, labels, loss, targets, measure);
    } catch (e) {
      // A layer met an input its step does not cover: TF.js's autodiff does.
      if (!(e instanceof PlanMismatch)) throw e;
    }
  }
  let logits: tf.Tensor2D | undefined;
  let obj: tf.Tensor1D | undefined;
  const f = (xi: tf.Tensor4D): tf.Scalar => {
    const before = measure ? tf.memory().numBytes : 0;
    const z = model.logits(xi);
    if (measure)
      recordForwardBytes(model, 'autodiff', (tf.memory().numBytes - before) / xi.shape[0]);
    const o = objective(loss, z, labels, targets);
    logits = tf.keep(z);
    obj = tf.keep(o);
    return tf.sum(o);
  };
  // Attacks never use weight gradients: skip computing them.
  const { value, grad } = withInputOnlyGradients(() => tf.valueAndGrad(f)(x));
  value.dispose();
  return step(grad as tf.Tensor4D, logits as tf.Tensor2D, obj as tf.Tensor1D);
}

/** `gradientOf` through the model's layer plan (see `layer-plan.ts`). */
function planGradient(
  model: Classifier,
  plan: LayerPlan,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  loss: ObjectiveName,
  targets: tf.Tensor1D | undefined,
  measure: boolean,
): GradientStep {
  const before = measure ? tf.memory().numBytes : 0;
  const input = model.networkInput(x);
  const free = (t: tf.Tensor) => {
    if (t !== x) t.dispose();
  };
  let pass: ReturnType<LayerPlan['run']>;
  try {
    pass = plan.run(input);
  } catch (e) {
    free(input);
    throw e;
  }
  if (measure) recordForwardBytes(model, 'plan', (tf.memory().numBytes - before) / x.shape[0]);
  let logits: tf.Tensor2D | undefined;
  let obj: tf.Tensor1D | undefined;
  let dOutput: tf.Tensor2D;
  try {
    const closed =
      plan.outputSoftmax || model.info.output !== 'logits' || pass.output.dtype !== 'float32'
        ? undefined
        : objectiveWithGradient(loss, pass.output, labels, targets);
    if (closed) {
      logits = pass.output;
      obj = closed.objective;
      dOutput = closed.grad;
    } else {
      const head = tf.valueAndGrad((out: tf.Tensor2D): tf.Scalar => {
        const z = model.logitsFromOutput(plan.outputSoftmax ? tf.softmax(out) : out);
        const o = objective(loss, z, labels, targets);
        logits = tf.keep(z);
        obj = tf.keep(o);
        return tf.sum(o);
      })(pass.output);
      head.value.dispose();
      dOutput = head.grad as tf.Tensor2D;
    }
  } catch (e) {
    pass.release();
    if (pass.output !== logits) pass.output.dispose();
    free(input);
    throw e;
  }
  const dInput = pass.backward(dOutput);
  if (pass.output !== logits) pass.output.dispose();
  dOutput.dispose();
  if (input === x) return step(dInput, logits as tf.Tensor2D, obj as tf.Tensor1D);
  input.dispose();
  let grad: tf.Tensor4D;
  try {
    grad = model.networkInputBackward(x, dInput);
  } catch (e) {
    // A custom preprocessing with an op TF.js cannot differentiate.
    tf.dispose([logits as tf.Tensor2D, obj as tf.Tensor1D]);
    throw e;
  } finally {
    dInput.dispose();
  }
  return step(grad, logits as tf.Tensor2D, obj as tf.Tensor1D);
}

/** The gradient of consecutive slices of the batch (`sizes` sum to n), joined. */
function inChunks(
  model: Classifier,
  x: tf.Tensor4D,
  labels: tf.Tensor1D,
  loss: ObjectiveName,
  targets: tf.Tensor1D | undefined,
  sizes: number[],
  measureFirst: boolean,
): GradientStep {
  const parts: GradientStep[] = [];
  try {
    let start = 0;
    for (const [i, size] of sizes.entries()) {
      const [xs, ls, ts] = tf.tidy(() => [
        tf.slice(x, [start, 0, 0, 0], [size, -1, -1, -1]),
        tf.slice(labels, [start], [size]),
        targets === undefined ? undefined : tf.slice(targets, [start], [size]),
      ]) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D | undefined];
      try {
        parts.push(
          measureFirst && i === 0
            ? gradientOf(model, xs, ls, loss, ts, true)
            : objectiveGradient(model, xs, ls, loss, ts),
        );
      } finally {
        tf.dispose([xs, ls, ...(ts ? [ts] : [])]);
      }
      start += size;
    }
    return step(
      tf.concat(parts.map((p) => p.grad)) as tf.Tensor4D,
      tf.concat(parts.map((p) => p.logits)) as tf.Tensor2D,
      tf.concat(parts.map((p) => p.objective)) as tf.Tensor1D,
    );
  } finally {
    for (const p of parts) p.dispose();
  }
}

function step(grad: tf.Tensor4D, logits: tf.Tensor2D, objective: tf.Tensor1D): GradientStep {
  const s = {
    grad,
    logits,
    objective,
    dispose() {
      s.grad.dispose();
      s.logits.dispose();
      s.objective.dispose();
    },
  };
  return s;
}
