/**
 * A convolution followed by an inference-mode batch norm is one convolution
 * whose filter and bias absorb the batch norm: with s = γ/√(σ² + ε) per
 * output channel, `bn(conv(x, W) + b) = conv(x, W·s) + (b − μ)·s + β`. The
 * layer plans (`src/model/layer-plan.ts`) run a Conv2D / DepthwiseConv2D
 * → BatchNormalization pair (and a ReLU after it) as kernel
 * `AdvkitFoldedConv2D`, and its input gradient as
 * `AdvkitFoldedConv2DBackpropInput` (the folded filter's `Conv2DBackpropInput`),
 * which saves the batch norm's pass over the activation both ways.
 *
 * The folded weights are computed once per set of source weights (see
 * `derived-cache.ts`), outside the engine's tensor count, so that XNNPACK
 * keeps its packed operator and the rotated filter of the input gradient is
 * cached too.
 */
import type * as tf from '@tensorflow/tfjs';
import { derived } from './derived-cache.js';
import { type Info, KernelRunner } from './kernel-util.js';

export const FOLDED_CONV = 'AdvkitFoldedConv2D';
export const FOLDED_CONV_INPUT_GRAD = 'AdvkitFoldedConv2DBackpropInput';

export interface FoldedConvAttrs {
  strides: [number, number];
  pad: 'valid' | 'same';
  /** The batch norm's ε. */
  eps: number;
  /** A depthwise filter [kh, kw, c, multiplier] rather than [kh, kw, cin, cout]. */
  depthwise: boolean;
  /** Activation fused after the batch norm (forward only). */
  activation?: 'linear' | 'relu';
  /** The convolution's input shape (input gradient only). */
  inputShape?: number[];
}

/**
 * W·s: the output channel of a filter entry is its index modulo the channel
 * count, for [.., cin, cout] and depthwise [.., c, multiplier] (channel
 * c·multiplier + m) alike.
 */
function foldedFilter(
  r: KernelRunner,
  filter: Info,
  variance: Info,
  scale: Info | undefined,
  eps: number,
) {
  return derived(r.backend, `folded-filter-${eps}`, [filter, variance, scale], () => {
    const w = r.read(filter);
    const v = r.read(variance);
    const g = scale == null ? undefined : r.read(scale);
    const c = v.length;
    const s = Float64Array.from(v, (vi, i) => (g == null ? 1 : g[i]) / Math.sqrt(vi + eps));
    const out = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) out[i] = w[i] * s[i % c];
    return r.write(out, filter.shape);
  });
}

/** (b − μ)·s + β. */
function foldedBias(r: KernelRunner, inputs: Record<string, Info | undefined>, eps: number) {
  const { bias, mean, variance, scale, offset } = inputs as Record<string, Info>;
  return derived(r.backend, `folded-bias-${eps}`, [bias, mean, variance, scale, offset], () => {
    const mu = r.read(mean);
    const v = r.read(variance);
    const g = scale == null ? undefined : r.read(scale);
    const beta = offset == null ? undefined : r.read(offset);
    const b = bias == null ? undefined : r.read(bias);
    const out = new Float32Array(mu.length);
    for (let i = 0; i < mu.length; i++) {
      const s = (g == null ? 1 : g[i]) / Math.sqrt(v[i] + eps);
      out[i] = ((b == null ? 0 : b[i]) - mu[i]) * s + (beta == null ? 0 : beta[i]);
    }
    return r.write(out, [mu.length]);
  });
}

function release(r: KernelRunner, ...made: { value: Info; owned: boolean }[]): void {
  for (const m of made) if (m.owned) r.free(m.value);
}

export function foldedConvConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: FOLDED_CONV,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const r = new KernelRunner(backend, backendName);
      const a = attrs as unknown as FoldedConvAttrs;
      const i = inputs as Record<string, Info | undefined>;
      const filter = foldedFilter(r, i.filter as Info, i.variance as Info, i.scale, a.eps);
      const bias = foldedBias(r, i, a.eps);
      const y = r.run(
        a.depthwise ? 'FusedDepthwiseConv2D' : 'FusedConv2D',
        { x: i.x as Info, filter: filter.value, bias: bias.value },
        {
          strides: a.strides,
          pad: a.pad,
          dataFormat: 'NHWC',
          dilations: [1, 1],
          activation: a.activation ?? 'linear',
        },
      );
      release(r, filter, bias);
      return y;
    },
  };
}

export function foldedConvInputGradConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: FOLDED_CONV_INPUT_GRAD,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const r = new KernelRunner(backend, backendName);
      const a = attrs as unknown as FoldedConvAttrs;
      const i = inputs as Record<string, Info | undefined>;
      const filter = foldedFilter(r, i.filter as Info, i.variance as Info, i.scale, a.eps);
      const dx = a.depthwise
        ? r.run(
            'DepthwiseConv2dNativeBackpropInput',
            { dy: i.dy as Info, filter: filter.value },
            { strides: a.strides, pad: a.pad, dilations: [1, 1], inputShape: a.inputShape },
          )
        : r.run(
            'Conv2DBackpropInput',
            { dy: i.dy as Info, filter: filter.value },
            { strides: a.strides, pad: a.pad, dataFormat: 'NHWC', inputShape: a.inputShape },
          );
      release(r, filter);
      return dx;
    },
  };
}
