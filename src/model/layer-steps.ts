/**
 * The steps of a layer plan (`layer-plan.ts`): for each tfjs-layers layer
 * kind, its inference-mode forward with the fused kernels `predict` uses and
 * its input-only backward, or the reason a configuration has no step.
 */
import * as tf from '@tensorflow/tfjs';
import { type ClipMask, clipGradient, RELU_MASK, RELU6_MASK } from '../backend/clip-grad.js';
import {
  FOLDED_CONV,
  FOLDED_CONV_INPUT_GRAD,
  type FoldedConvAttrs,
} from '../backend/folded-conv.js';
import { PlanMismatch, type Step } from './step-graph.js';

/* ---------- activations ---------- */

type Activation = 'linear' | 'relu' | 'relu6' | 'sigmoid' | 'tanh';
const ACTIVATIONS: readonly string[] = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh'];
/** Fused by TF.js's kernels, with a gradient that is a function of the output. */
type Fusable = 'linear' | 'relu' | 'sigmoid';
const FUSABLE: readonly string[] = ['linear', 'relu', 'sigmoid'] satisfies Fusable[];

function activate(a: Activation, z: tf.Tensor): tf.Tensor {
  switch (a) {
    case 'linear':
      return tf.clone(z);
    case 'relu':
      return tf.relu(z);
    case 'relu6':
      return tf.relu6(z);
    case 'sigmoid':
      return tf.sigmoid(z);
    case 'tanh':
      return tf.tanh(z);
  }
}

/**
 * The gradient through activation `a`. `s` is its output, except for relu6,
 * whose mask needs the input (x = 6 and x > 6 both give 6). relu's output is
 * positive exactly where its input is, so its mask is TF.js's.
 */
function activationGrad(a: Activation, dy: tf.Tensor, s: tf.Tensor | undefined): tf.Tensor {
  if (a === 'linear' || s === undefined) return tf.clone(dy);
  if (a === 'relu') return clipGradient(dy, s, RELU_MASK);
  if (a === 'relu6') return clipGradient(dy, s, RELU6_MASK);
  return tf.tidy(() =>
    a === 'sigmoid' ? tf.mul(dy, tf.mul(s, tf.sub(1, s))) : tf.mul(dy, tf.sub(1, tf.square(s))),
  );
}

/**
 * A convolution or dense layer: its linear map `f` (fused with the bias and,
 * when the gradient allows, the activation) and the map's input gradient.
 */
function linearStep(
  act: Activation,
  f: (x: tf.Tensor, fused: Fusable) => tf.Tensor,
  inputGrad: (dz: tf.Tensor, xShape: number[]) => tf.Tensor,
): Step {
  const fused = FUSABLE.includes(act);
  return {
    forward([x]) {
      if (fused) {
        const y = f(x, act as Fusable);
        return { y, saved: act === 'linear' ? [] : [y] };
      }
      const z = f(x, 'linear');
      const y = activate(act, z);
      if (act === 'relu6') return { y, saved: [z] };
      z.dispose();
      return { y, saved: [y] };
    },
    backward(dy, [s], [xShape]) {
      const dz = act === 'linear' ? dy : activationGrad(act, dy, s);
      const dx = inputGrad(dz, xShape);
      if (dz !== dy) dz.dispose();
      return [dx];
    },
    unmaskedBackward:
      act === 'relu' ? (dy, _saved, [xShape]) => [inputGrad(dy, xShape)] : undefined,
  };
}

/* ---------- layers ---------- */

export type Config = Record<string, unknown>;
type Pair = [number, number];
/** A step for the layer, or why there is none. */
type Maker = (cfg: Config, weights: tf.Tensor[], last: boolean) => Step | string;

const pair = (v: unknown): Pair | undefined => {
  if (Number.isInteger(v)) return [v as number, v as number];
  if (Array.isArray(v) && v.length === 2 && v.every((n) => Number.isInteger(n))) return v as Pair;
  return undefined;
};
const padOf = (v: unknown): 'valid' | 'same' | undefined =>
  v === 'valid' || v === 'same' ? v : undefined;

/** A layer's `activation` option, if plans have it. */
function activationOf(cfg: Config): Activation | undefined {
  const a = cfg.activation ?? 'linear';
  return typeof a === 'string' && ACTIVATIONS.includes(a) ? (a as Activation) : undefined;
}
const noActivation = (cfg: Config) => `activation ${JSON.stringify(cfg.activation)}`;

function convOptions(cfg: Config): { strides: Pair; pad: 'valid' | 'same' } | string {
  const strides = pair(cfg.strides);
  const pad = padOf(cfg.padding);
  const dilation = pair(cfg.dilationRate ?? 1);
  if (!strides || !pad) return `strides ${cfg.strides}, padding ${cfg.padding}`;
  // TF.js's input-gradient ops take no dilation.
  if (dilation?.[0] !== 1 || dilation[1] !== 1) return `dilation ${cfg.dilationRate}`;
  if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') return `${cfg.dataFormat}`;
  return { strides, pad };
}

const passThrough: Step = {
  forward: ([x]) => ({ y: tf.clone(x), saved: [] }),
  backward: (dy) => [tf.clone(dy)],
};

/** Conv2D, or DepthwiseConv2D: fused forward, `Conv2DBackpropInput` or its depthwise twin back. */
function convolution(depthwise: boolean): Maker {
  return (cfg, [kernel, bias]) => {
    const o = convOptions(cfg);
    const act = activationOf(cfg);
    if (typeof o === 'string') return o;
    if (act === undefined) return noActivation(cfg);
    const filter = kernel as tf.Tensor4D;
    const { strides, pad } = o;
    return linearStep(
      act,
      (x, activation) => {
        const args = {
          x: x as tf.Tensor4D,
          filter,
          strides,
          pad,
          bias: cfg.useBias ? bias : undefined,
          activation,
        };
        return depthwise ? tf.fused.depthwiseConv2d(args) : tf.fused.conv2d(args);
      },
      (dz, xShape) =>
        depthwise
          ? (tf
              .engine()
              .runKernel(
                tf.DepthwiseConv2dNativeBackpropInput,
                { dy: dz, filter },
                { strides, pad, dilations: [1, 1], inputShape: xShape },
              ) as tf.Tensor)
          : tf.conv2dTranspose(
              dz as tf.Tensor4D,
              filter,
              xShape as [number, number, number, number],
              strides,
              pad,
            ),
    );
  };
}

export const makers: Record<string, Maker> = {
  Conv2D: convolution(false),
  DepthwiseConv2D: convolution(true),

  Dense(cfg, [kernel, bias], last) {
    // A final softmax is left to the caller (see `outputSoftmax`).
    const act = last && cfg.activation === 'softmax' ? 'linear' : activationOf(cfg);
    if (act === undefined) return noActivation(cfg);
    const w = kernel as tf.Tensor2D;
    return linearStep(
      act,
      (x, activation) => {
        if (x.rank !== 2) throw new PlanMismatch(`Dense on a rank-${x.rank} input`);
        return tf.fused.matMul({
          a: x as tf.Tensor2D,
          b: w,
          bias: cfg.useBias ? bias : undefined,
          activation,
        });
      },
      (dz) => tf.matMul(dz as tf.Tensor2D, w, false, true),
    );
  },

  BatchNormalization(cfg, weights) {
    if (cfg.axis !== -1 && cfg.axis !== 3) return `batch norm on axis ${cfg.axis}`;
    const { gamma, beta, mean, variance, eps } = batchNormWeights(cfg, weights);
    return {
      forward: ([x]) => ({
        y: tf.batchNorm(x as tf.Tensor4D, mean, variance, beta, gamma, eps),
        saved: [],
      }),
      // dy·γ/√(σ² + ε) is batch norm with mean 0 and no offset, which runs
      // as one fast kernel; a broadcast multiply is several times slower on wasm.
      backward: (dy) => [
        tf.tidy(() =>
          tf.batchNorm(dy as tf.Tensor4D, tf.zerosLike(mean), variance, undefined, gamma, eps),
        ),
      ],
    };
  },

  ReLU(cfg) {
    const max = cfg.maxValue;
    if (max == null) return activationStep('relu');
    if (typeof max !== 'number') return `maxValue ${max}`;
    // tfjs-layers clips relu(x): the gradient passes 0 < x ≤ max.
    const mask: ClipMask = { min: 0, max, openMin: true };
    return {
      forward: ([x]) => ({ y: tf.clipByValue(x, 0, max), saved: [x] }),
      backward: (dy, [x]) => [clipGradient(dy, x, mask)],
    };
  },

  Activation(cfg, _w, last) {
    if (last && cfg.activation === 'softmax') return passThrough;
    const a = activationOf(cfg);
    return a === undefined ? noActivation(cfg) : activationStep(a);
  },

  Softmax(cfg, _w, last) {
    // The output is [batch, classes]: axis 1 (tfjs-layers' default) is the last.
    const axis = [cfg.axis ?? -1].flat().join();
    if (!last) return 'a softmax before the last layer';
    return axis === '-1' || axis === '1' ? passThrough : `softmax on axis ${axis}`;
  },

  MaxPooling2D: (cfg) => maxPoolStep(cfg, false),

  AveragePooling2D(cfg) {
    const size = pair(cfg.poolSize);
    const strides = pair(cfg.strides ?? cfg.poolSize);
    const pad = padOf(cfg.padding);
    if (!size || !strides || !pad || cfg.dataFormat !== 'channelsLast') return 'pooling options';
    return {
      forward: ([x]) => ({ y: tf.avgPool(x as tf.Tensor4D, size, strides, pad), saved: [x] }),
      backward: (dy, [x]) => [
        tf
          .engine()
          .runKernel(
            tf.AvgPoolGrad,
            { dy, input: x },
            { filterSize: size, strides, pad },
          ) as tf.Tensor,
      ],
    };
  },

  GlobalAveragePooling2D(cfg) {
    if ((cfg.dataFormat ?? 'channelsLast') !== 'channelsLast') return `${cfg.dataFormat}`;
    return {
      forward: ([x]) => ({ y: tf.mean(x, [1, 2]), saved: [] }),
      // Spread dy/(h·w) over the window: a 1×1 → h×w nearest-neighbour resize
      // is one pass (broadcastTo's Tile is ~80× slower on wasm).
      backward: (dy, _s, [[n, h, w, c]]) => [
        tf.tidy(() =>
          tf.image.resizeNearestNeighbor(
            tf.reshape(tf.mul(dy, 1 / (h * w)), [n, 1, 1, c]) as tf.Tensor4D,
            [h, w],
          ),
        ),
      ],
    };
  },

  Flatten: () => reshapeStep((x) => [x.shape[0], -1]),

  Reshape(cfg) {
    const target = cfg.targetShape;
    if (!Array.isArray(target)) return 'target shape';
    return reshapeStep((x) => [x.shape[0], ...(target as number[])]);
  },

  ZeroPadding2D(cfg) {
    const p = cfg.padding as [Pair, Pair] | undefined;
    if (cfg.dataFormat !== 'channelsLast' || !Array.isArray(p) || !p.every((q) => pair(q)))
      return 'padding options';
    const [[top, bottom], [left, right]] = p;
    return {
      forward: ([x]) => ({
        y: tf.pad(x, [
          [0, 0],
          [top, bottom],
          [left, right],
          [0, 0],
        ]),
        saved: [],
      }),
      backward: (dy, _s, [shape]) => [tf.slice(dy, [0, top, left, 0], shape)],
    };
  },

  Add: () => ({
    forward: (xs) => ({ y: xs.length === 2 ? tf.add(xs[0], xs[1]) : tf.addN(xs), saved: [] }),
    backward: (dy, _s, shapes) => shapes.map(() => tf.clone(dy)),
  }),

  Concatenate: (cfg) => concatStep(cfg.axis as number),

  // Inference mode: these are the identity.
  Dropout: () => passThrough,
  SpatialDropout1D: () => passThrough,
  GaussianNoise: () => passThrough,
  GaussianDropout: () => passThrough,
  AlphaDropout: () => passThrough,
};

/**
 * MaxPooling2D. With `reluMask`, its input is a ReLU's output that only this
 * pool reads, and the ReLU's mask is applied here (the producer runs its
 * `unmaskedBackward`): MaxPoolGrad routes each dy to one input equal to the
 * window's maximum y, where the ReLU's mask x > 0 is y > 0. So the mask is
 * taken on the pooled tensor, a quarter of the size for 2×2 windows, with
 * the same result.
 */
export function maxPoolStep(cfg: Config, reluMask: boolean): Step | string {
  const size = pair(cfg.poolSize);
  const strides = pair(cfg.strides ?? cfg.poolSize);
  const pad = padOf(cfg.padding);
  if (!size || !strides || !pad || cfg.dataFormat !== 'channelsLast') return 'pooling options';
  return {
    forward: ([x]) => {
      const y = tf.maxPool(x as tf.Tensor4D, size, strides, pad);
      return { y, saved: [x, y] };
    },
    backward: (dy, [x, y]) => {
      const masked = reluMask ? clipGradient(dy, y, RELU_MASK) : dy;
      const dx = tf
        .engine()
        .runKernel(
          tf.MaxPoolGrad,
          { dy: masked, input: x, output: y },
          { filterSize: size, strides, pad },
        ) as tf.Tensor;
      if (masked !== dy) masked.dispose();
      return [dx];
    },
  };
}

/** γ, β, μ, σ² of a batch-norm layer (γ and β absent with `scale` / `center` false). */
function batchNormWeights(cfg: Config, weights: tf.Tensor[]) {
  const w = [...weights];
  const gamma = cfg.scale ? w.shift() : undefined;
  const beta = cfg.center ? w.shift() : undefined;
  const [mean, variance] = w as tf.Tensor1D[];
  return { gamma, beta, mean, variance, eps: cfg.epsilon as number };
}

const defined = (m: Record<string, tf.Tensor | undefined>): tf.NamedTensorMap =>
  Object.fromEntries(Object.entries(m).filter(([, t]) => t !== undefined)) as tf.NamedTensorMap;

/**
 * Conv2D / DepthwiseConv2D (linear) → BatchNormalization (→ ReLU) as one
 * convolution with the batch norm folded into its weights (`folded-conv.ts`).
 */
export function foldedStep(
  conv: { cfg: Config; weights: tf.Tensor[]; depthwise: boolean },
  bn: { cfg: Config; weights: tf.Tensor[] },
  relu: boolean,
): Step | string {
  const o = convOptions(conv.cfg);
  if (typeof o === 'string') return o;
  const [filter, bias] = conv.weights;
  const { gamma, beta, mean, variance, eps } = batchNormWeights(bn.cfg, bn.weights);
  const attrs: FoldedConvAttrs = {
    strides: o.strides,
    pad: o.pad,
    eps,
    depthwise: conv.depthwise,
    activation: relu ? 'relu' : 'linear',
  };
  const inputs = { filter, bias: conv.cfg.useBias ? bias : undefined, mean, variance };
  const inputGrad: Step['backward'] = (dz, _saved, [xShape]) => [
    tf
      .engine()
      .runKernel(FOLDED_CONV_INPUT_GRAD, defined({ dy: dz, filter, variance, scale: gamma }), {
        ...attrs,
        inputShape: xShape,
      } as unknown as tf.NamedAttrMap) as tf.Tensor,
  ];
  return {
    forward([x]) {
      if (tf.getKernel(FOLDED_CONV, tf.getBackend()) == null)
        throw new PlanMismatch(`no ${FOLDED_CONV} kernel on ${tf.getBackend()}`);
      const y = tf
        .engine()
        .runKernel(
          FOLDED_CONV,
          defined({ x, ...inputs, scale: gamma, offset: beta }),
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor;
      return { y, saved: relu ? [y] : [] };
    },
    backward(dy, [y], [xShape]) {
      const dz = relu ? clipGradient(dy, y, RELU_MASK) : dy;
      const [dx] = inputGrad(dz, [], [xShape]);
      if (dz !== dy) dz.dispose();
      return [dx];
    },
    unmaskedBackward: relu ? inputGrad : undefined,
  };
}

function activationStep(a: Activation): Step {
  return {
    forward([x]) {
      const y = activate(a, x);
      return { y, saved: a === 'linear' ? [] : [a === 'relu6' ? x : y] };
    },
    backward: (dy, [s]) => [activationGrad(a, dy, s)],
    unmaskedBackward: a === 'relu' ? (dy) => [tf.clone(dy)] : undefined,
  };
}

/** Concatenation along `axis`; its gradient splits `dy` back into the inputs' extents. */
export function concatStep(axis: number): Step {
  return {
    forward: (xs) => ({ y: tf.concat(xs, axis), saved: [] }),
    backward: (dy, _s, shapes) => {
      const a = axis < 0 ? dy.rank + axis : axis;
      return tf.split(
        dy,
        shapes.map((s) => s[a]),
        a,
      );
    },
  };
}

function reshapeStep(shape: (x: tf.Tensor) => number[]): Step {
  return {
    forward: ([x]) => ({ y: tf.reshape(x, shape(x)), saved: [] }),
    backward: (dy, _s, [xShape]) => [tf.reshape(dy, xShape)],
  };
}
