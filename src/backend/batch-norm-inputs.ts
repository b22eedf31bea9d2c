/**
 * `FusedBatchNorm` kernel wrapper that drops absent optional inputs.
 *
 * `tf.batchNorm` passes `{x, scale, offset, mean, variance}` with `scale` or
 * `offset` undefined when a model has none (Keras `scale: false` /
 * `center: false`). The engine records that same object on the gradient
 * tape, and the tape reads `.id` of every entry, so any gradient through such
 * a layer throws "Cannot read properties of undefined (reading 'id')". The
 * wrapper deletes the undefined entries from the engine's input map before
 * running the backend's own kernel; the tape then sees only real tensors.
 */
import type * as tf from '@tensorflow/tfjs';

export function batchNormInputsConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  if (stock == null) throw new Error(`advkit: no FusedBatchNorm kernel on ${backendName} to wrap`);
  return {
    ...stock,
    kernelFunc: (args) => {
      const inputs = args.inputs as Record<string, tf.TensorInfo | undefined>;
      for (const name of Object.keys(inputs)) if (inputs[name] == null) delete inputs[name];
      return stock.kernelFunc(args);
    },
  };
}
