/**
 * The `FusedBatchNorm` kernel: absent optional inputs dropped on every
 * backend, and on wasm one XNNPACK pass.
 *
 * `tf.batchNorm` passes `{x, scale, offset, mean, variance}` with `scale` or
 * `offset` undefined when a model has none (Keras `scale: false` /
 * `center: false`). The engine records that same object on the gradient
 * tape, and the tape reads `.id` of every entry, so any gradient through such
 * a layer throws "Cannot read properties of undefined (reading 'id')". The
 * wrapper deletes the undefined entries from the engine's input map before
 * running the kernel; the tape then sees only real tensors.
 *
 * On wasm, with per-channel statistics (the batch-norm layer's case), the
 * normalisation is the affine map `x·s + b` per channel, with
 * `s = γ/√(σ² + ε)` and `b = β − μ·s` computed from the few channel values;
 * that is a 1×1 depthwise convolution with a bias, which XNNPACK runs in one
 * multi-threaded pass — TF.js's wasm kernel takes two to three times as long
 * on activations of 100k values and more. Below that TF.js's kernel is
 * faster than the depthwise operator's setup, and runs instead.
 */
import type * as tf from '@tensorflow/tfjs';
import { derived } from './derived-cache.js';
import { heapViews, type Info, KernelRunner } from './kernel-util.js';

interface Inputs {
  x: Info;
  mean: Info;
  variance: Info;
  scale?: Info;
  offset?: Info;
}

/** Activations smaller than this go to TF.js's kernel (measured crossover ≈ 100k). */
const MIN_SIZE = 100_000;

function affineOnWasm(r: KernelRunner, inputs: Inputs, eps: number): Info | undefined {
  const { x, mean, variance, scale, offset } = inputs;
  const c = x.shape[x.shape.length - 1];
  const perChannel = (t: Info | undefined) =>
    t == null || (t.shape.length === 1 && t.shape[0] === c && t.dtype === 'float32');
  if (
    x.dtype !== 'float32' ||
    x.shape.length === 0 ||
    x.shape.reduce((p, d) => p * d, 1) < MIN_SIZE ||
    ![mean, variance, scale, offset].every(perChannel) ||
    heapViews(r.backend) == null
  )
    return undefined;
  const sources = [mean, variance, scale, offset];
  // s = γ/√(σ² + ε); b = β − μ·s. Cached per set of statistics, so XNNPACK
  // keeps its operator too (building one costs more than a small layer).
  let map: { s: Float32Array; b: Float32Array } | undefined;
  const affine = () => {
    if (map != null) return map;
    const mu = r.read(mean);
    const v = r.read(variance);
    const g = scale == null ? undefined : r.read(scale);
    const beta = offset == null ? undefined : r.read(offset);
    const s = new Float32Array(c);
    const b = new Float32Array(c);
    for (let i = 0; i < c; i++) {
      s[i] = (g == null ? 1 : g[i]) / Math.sqrt(v[i] + eps);
      b[i] = (beta == null ? 0 : beta[i]) - mu[i] * s[i];
    }
    map = { s, b };
    return map;
  };
  const filter = derived(r.backend, `batch-norm-scale-${eps}`, sources, () =>
    r.write(affine().s, [1, 1, c, 1]),
  );
  const bias = derived(r.backend, `batch-norm-shift-${eps}`, sources, () =>
    r.write(affine().b, [c]),
  );
  const size = x.shape.reduce((p, d) => p * d, 1);
  const x4 = r.reshape(x, [1, 1, size / c, c]);
  const y4 = r.run(
    'FusedDepthwiseConv2D',
    { x: x4, filter: filter.value, bias: bias.value },
    { strides: 1, pad: 'valid', dilations: 1, dataFormat: 'NHWC', activation: 'linear' },
  );
  r.free(x4);
  if (filter.owned) r.free(filter.value);
  if (bias.owned) r.free(bias.value);
  const y = r.reshape(y4, x.shape);
  r.free(y4);
  return y;
}

export function batchNormConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  if (stock == null) throw new Error(`advkit: no FusedBatchNorm kernel on ${backendName} to wrap`);
  return {
    ...stock,
    kernelFunc: (args) => {
      const inputs = args.inputs as Record<string, tf.TensorInfo | undefined>;
      for (const name of Object.keys(inputs)) if (inputs[name] == null) delete inputs[name];
      if (backendName === 'wasm') {
        const eps = (args.attrs as { varianceEpsilon?: number }).varianceEpsilon ?? 0.001;
        const y = affineOnWasm(
          new KernelRunner(args.backend, backendName),
          args.inputs as unknown as Inputs,
          eps,
        );
        if (y != null) return y;
      }
      return stock.kernelFunc(args);
    },
  };
}
