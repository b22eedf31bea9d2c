/**
 * The steps of an ONNX plan (`plan.ts`): for a translated node's spec
 * (`graph.ts`), its forward with TF.js's fused kernels and its input-only
 * backward. Any node without a step of its own gets `autodiffStep`, whose
 * backward is TF.js's autodiff of the node's `apply`: correct for every op,
 * slower, so every graph has a plan and the steps here are about speed.
 *
 * ONNX pads are explicit, and differ from TF's 'same' wherever the stride
 * is 2 (ResNet's 7×7/2 stem pads 3 on both sides, 'same' would pad 2 and 3):
 * convolutions and pools pass them to the kernels as explicit paddings.
 */
import * as tf from '@tensorflow/tfjs';
import { type ClipMask, clipGradient, RELU_MASK } from '../../backend/clip-grad.js';
import { withInputOnlyGradients } from '../../backend/index.js';
import { PlanMismatch, type Step } from '../step-graph.js';
import type { NodeSpec, Pads2D } from './graph.js';

type Spec<K extends NodeSpec['kind']> = Extract<NodeSpec, { kind: K }>;
type PoolSpec = Spec<'maxpool' | 'avgpool'>;
type Explicit = tf.backend_util.ExplicitPadding;

const explicit = ([top, bottom, left, right]: Pads2D): Explicit => [
  [0, 0],
  [top, bottom],
  [left, right],
  [0, 0],
];

/**
 * Any node: `apply` forward, saving its inputs; TF.js's autodiff of `apply`
 * back (an input `apply` reads only through non-differentiable ops, like a
 * shape, gets a zero gradient).
 */
export function autodiffStep(apply: (xs: tf.Tensor[]) => tf.Tensor): Step {
  return {
    forward: (xs) => ({ y: tf.tidy(() => apply(xs)), saved: xs }),
    backward: (dy, saved) =>
      withInputOnlyGradients(() => {
        const { value, grads } = tf.engine().gradients(() => apply(saved), saved, dy, true);
        value.dispose();
        return grads.map((g, i) => g ?? tf.zerosLike(saved[i]));
      }),
  };
}

/**
 * A convolution or dense node: its linear map fused with the bias and, when
 * a ReLU alone reads it, the ReLU; backward the map's input gradient after
 * the mask y > 0 (or without it, `unmaskedBackward`, for a max pool that
 * applies it on its smaller output).
 */
function linearStep(
  relu: boolean,
  f: (x: tf.Tensor) => tf.Tensor,
  inputGrad: (dz: tf.Tensor, xShape: number[]) => tf.Tensor,
): Step {
  return {
    forward([x]) {
      const y = f(x);
      return { y, saved: relu ? [y] : [] };
    },
    backward(dy, [y], [xShape]) {
      const dz = relu ? clipGradient(dy, y, RELU_MASK) : dy;
      const dx = inputGrad(dz, xShape);
      if (dz !== dy) dz.dispose();
      return [dx];
    },
    unmaskedBackward: relu ? (dy, _saved, [xShape]) => [inputGrad(dy, xShape)] : undefined,
  };
}

/**
 * A dilated filter as the undilated one it equals, zeros between the taps:
 * TF.js's input-gradient ops take no dilation (and its conv2d gradient
 * refuses one), so a dilated Conv runs as a (k − 1)·d + 1 wide one.
 */
function undilated(filter: tf.Tensor4D, [dh, dw]: [number, number]): tf.Tensor4D {
  const [kh, kw, a, b] = filter.shape;
  return tf.tidy(() => {
    const spread = tf.pad(tf.reshape(filter, [kh, 1, kw, 1, a, b]), [
      [0, 0],
      [0, dh - 1],
      [0, 0],
      [0, dw - 1],
      [0, 0],
      [0, 0],
    ]);
    return tf.slice(
      tf.reshape(spread, [kh * dh, kw * dw, a, b]),
      [0, 0, 0, 0],
      [(kh - 1) * dh + 1, (kw - 1) * dw + 1, a, b],
    ) as tf.Tensor4D;
  });
}

/** Conv, plain, depthwise or dilated (grouped ones keep `autodiffStep`). */
export function convStep(spec: Spec<'conv'>, relu: boolean): Step | string {
  const { bias, strides, depthwise, dilations } = spec;
  if (spec.groups !== 1 && !depthwise) return `${spec.groups} groups`;
  const dilated = dilations[0] !== 1 || dilations[1] !== 1;
  /** The filter to run, and whether it is a new tensor. */
  const filterOf = (): [tf.Tensor4D, boolean] =>
    dilated ? [undilated(spec.filter, dilations), true] : [spec.filter, false];
  const pad = explicit(spec.pads);
  const activation = relu ? 'relu' : 'linear';
  const conv = (x: tf.Tensor, filter: tf.Tensor4D) =>
    tf.engine().runKernel(
      depthwise ? tf.FusedDepthwiseConv2D : tf.FusedConv2D,
      { x, filter, ...(bias ? { bias } : {}) },
      // The kernels take explicit paddings; tf.fused.depthwiseConv2d's types do not.
      { strides, pad, dataFormat: 'NHWC', dilations: [1, 1], activation } as never,
    ) as tf.Tensor;
  const inputGrad = (dz: tf.Tensor, filter: tf.Tensor4D, xShape: number[]) =>
    depthwise
      ? (tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dz, filter }, {
          strides,
          pad,
          dilations: [1, 1],
          inputShape: xShape,
        } as never) as tf.Tensor)
      : (tf.engine().runKernel(tf.Conv2DBackpropInput, { dy: dz, filter }, {
          strides,
          pad,
          dataFormat: 'NHWC',
          inputShape: xShape,
        } as never) as tf.Tensor);
  const withFilter = <T>(f: (filter: tf.Tensor4D) => T): T => {
    const [filter, owned] = filterOf();
    try {
      return f(filter);
    } finally {
      if (owned) filter.dispose();
    }
  };
  return linearStep(
    relu,
    (x) => withFilter((filter) => conv(x, filter)),
    (dz, xShape) => withFilter((filter) => inputGrad(dz, filter, xShape)),
  );
}

/**
 * Gemm, or MatMul by a constant: x · kernel + bias on the last axis (of a
 * [batch, in] input, or per position of tokens or a feature map, as
 * ConvNeXt's and ViT's MLPs run it).
 */
export function denseStep(spec: Spec<'dense'>, relu: boolean): Step {
  const { kernel, bias } = spec;
  const [inner, outer] = kernel.shape;
  const rows = (t: tf.Tensor, width: number) =>
    (t.rank === 2 ? t : tf.reshape(t, [-1, width])) as tf.Tensor2D;
  return linearStep(
    relu,
    (x) =>
      tf.tidy(() => {
        const y = tf.fused.matMul({
          a: rows(x, inner),
          b: kernel,
          bias,
          activation: relu ? 'relu' : 'linear',
        });
        return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), outer]);
      }),
    (dz, xShape) =>
      tf.tidy(() => tf.reshape(tf.matMul(rows(dz, outer), kernel, false, true), xShape)),
  );
}

/**
 * Paddings that make a pool's floor division give ONNX's ceil_mode count:
 * extra rows and columns at the bottom and right, which a max pool ignores
 * (padding is never a window's maximum). A window that would start in the
 * right padding is dropped, as ONNX and PyTorch do.
 */
function poolPads(spec: PoolSpec, [, h, w]: number[]): Explicit {
  const [top, bottom, left, right] = spec.pads;
  if (!spec.ceilMode) return explicit(spec.pads);
  const extra = (size: number, k: number, s: number, before: number, after: number) => {
    const span = size + before + after - k;
    let out = Math.ceil(span / s) + 1;
    if ((out - 1) * s >= size + before) out--;
    return Math.max(0, (out - 1) * s + k - (size + before + after));
  };
  const [kh, kw] = spec.kernel;
  const [sh, sw] = spec.strides;
  return explicit([
    top,
    bottom + extra(h, kh, sh, top, bottom),
    left,
    right + extra(w, kw, sw, left, right),
  ]);
}

/**
 * MaxPool. With `reluMask`, its input is a ReLU's output that only this
 * pool reads, and the ReLU's mask is applied here (the producer runs its
 * `unmaskedBackward`): MaxPoolGrad routes each dy to one input equal to the
 * window's maximum y, where the ReLU's mask x > 0 is y > 0, so the mask is
 * taken on the pooled tensor (a quarter of the size for stride 2).
 */
export function maxPoolStep(spec: PoolSpec, reluMask: boolean): Step {
  const { kernel: filterSize, strides } = spec;
  return {
    forward: ([x]) => {
      const pad = poolPads(spec, x.shape);
      const y = tf.maxPool(x as tf.Tensor4D, filterSize, strides, pad as never);
      return { y, saved: [x, y] };
    },
    backward: (dy, [x, y]) => {
      const masked = reluMask ? clipGradient(dy, y, RELU_MASK) : dy;
      const dx = tf.engine().runKernel(tf.MaxPoolGrad, { dy: masked, input: x, output: y }, {
        filterSize,
        strides,
        pad: poolPads(spec, x.shape),
      } as never) as tf.Tensor;
      if (masked !== dy) masked.dispose();
      return [dx];
    },
  };
}

/** AveragePool without padding (padded ones keep `autodiffStep`: count_include_pad, ceil_mode). */
export function avgPoolStep(spec: PoolSpec): Step | string {
  if (spec.pads.some((p) => p !== 0) || spec.ceilMode) return 'a padded average pool';
  const { kernel: filterSize, strides } = spec;
  return {
    forward: ([x]) => ({
      y: tf.avgPool(x as tf.Tensor4D, filterSize, strides, 'valid'),
      saved: [x],
    }),
    backward: (dy, [x]) => [
      tf.engine().runKernel(tf.AvgPoolGrad, { dy, input: x }, {
        filterSize,
        strides,
        pad: 'valid',
      } as never) as tf.Tensor,
    ],
  };
}

/** GlobalAveragePool: [n, h, w, c] → [n, 1, 1, c] (or [n, c] when `keepDims` is false). */
export function globalAvgPoolStep(keepDims: boolean): Step {
  return {
    forward: ([x]) => {
      if (x.rank !== 4) throw new PlanMismatch(`a global average pool on a rank-${x.rank} input`);
      return { y: tf.mean(x, [1, 2], keepDims), saved: [] };
    },
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
}

/* ---------- elementwise ---------- */

/** Relu alone (one read by a max pool leaves its mask to the pool). */
export const reluStep: Step = {
  forward: ([x]) => {
    const y = tf.relu(x);
    return { y, saved: [y] };
  },
  backward: (dy, [y]) => [clipGradient(dy, y, RELU_MASK)],
  unmaskedBackward: (dy) => [tf.clone(dy)],
};

/** Clip (ReLU6 in MobileNets): TF.js's ClipByValue mask, min ≤ x ≤ max, as `apply`'s autodiff. */
export function clipStep(spec: Spec<'clip'>): Step {
  const mask: ClipMask = { min: spec.min, max: spec.max, openMin: false };
  return {
    forward: ([x]) => ({ y: tf.clipByValue(x, spec.min, spec.max), saved: [x] }),
    backward: (dy, [x]) => [clipGradient(dy, x, mask)],
  };
}

/** A unary op whose gradient is a function of its output `y` or input `x`. */
function unary(
  f: (x: tf.Tensor) => tf.Tensor,
  keep: 'x' | 'y',
  grad: (dy: tf.Tensor, s: tf.Tensor) => tf.Tensor,
): Step {
  return {
    forward: ([x]) => {
      const y = tf.tidy(() => f(x));
      return { y, saved: [keep === 'x' ? x : y] };
    },
    backward: (dy, [s]) => [tf.tidy(() => grad(dy, s))],
  };
}

export const sigmoidStep = unary(tf.sigmoid, 'y', (dy, y) => tf.mul(dy, tf.mul(y, tf.sub(1, y))));
export const tanhStep = unary(tf.tanh, 'y', (dy, y) => tf.mul(dy, tf.sub(1, tf.square(y))));

/** HardSigmoid max(0, min(1, αx + β)): slope α where 0 ≤ αx + β ≤ 1 (ClipByValue's mask). */
export function hardSigmoidStep({ alpha, beta }: Spec<'hardsigmoid'>): Step {
  return unary(
    (x) => tf.clipByValue(tf.add(tf.mul(x, alpha), beta), 0, 1),
    'x',
    (dy, x) => {
      const z = tf.add(tf.mul(x, alpha), beta);
      const inside = tf.logicalAnd(tf.greaterEqual(z, 0), tf.lessEqual(z, 1));
      return tf.where(inside, tf.mul(dy, alpha), tf.zerosLike(dy));
    },
  );
}

/** HardSwish x · relu6(x + 3) / 6: gradient 0 below −3, (2x + 3)/6 between, 1 above 3. */
export const hardSwishStep = unary(
  (x) => tf.mul(x, tf.div(tf.relu6(tf.add(x, 3)), 6)),
  'x',
  (dy, x) => {
    const slope = tf.clipByValue(tf.div(tf.add(tf.mul(x, 2), 3), 6), 0, 1);
    const s = tf.where(
      tf.less(x, -3),
      tf.zerosLike(x),
      tf.where(tf.greater(x, 3), tf.onesLike(x), slope),
    );
    return tf.mul(dy, s);
  },
);

/** y = x · scale + offset on the last axis (an unfolded BatchNormalization). */
export function affineStep({ scale, offset }: Spec<'affine'>): Step {
  return {
    forward: ([x]) => ({ y: tf.tidy(() => tf.add(tf.mul(x, scale), offset)), saved: [] }),
    backward: (dy) => [tf.mul(dy, scale)],
  };
}

export const identityStep: Step = {
  forward: ([x]) => ({ y: tf.clone(x), saved: [] }),
  backward: (dy) => [tf.clone(dy)],
};

/* ---------- binary, with broadcasting ---------- */

/** `g` (of the broadcast shape) summed down to `shape`. */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  if (tf.util.arraysEqual(g.shape, shape)) return tf.clone(g);
  return tf.tidy(() => {
    const lead = g.rank - shape.length;
    const axes: number[] = [];
    for (let a = 0; a < g.rank; a++)
      if (a < lead || (shape[a - lead] === 1 && g.shape[a] !== 1)) axes.push(a);
    return tf.reshape(tf.sum(g, axes), shape);
  });
}

/**
 * Add, Sub, Mul, Div with two runtime inputs, or one and a constant (SE
 * blocks multiply a feature map by a [n, 1, 1, c] gate; SiLU is x · σ(x)).
 */
export function binaryStep(
  spec: Spec<'add' | 'sub' | 'mul' | 'div'>,
  runtimeInputs: number,
): Step | string {
  const { kind, constant, constantFirst } = spec;
  const op = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div }[kind];
  if (runtimeInputs === 2) {
    if (constant) return 'a constant beside two runtime inputs';
    const linear = kind === 'add' || kind === 'sub';
    return {
      forward: ([a, b]) => ({ y: op(a, b), saved: linear ? [] : [a, b] }),
      backward: (dy, [a, b], [sa, sb]) =>
        tf.tidy(() => {
          if (kind === 'add') return [reduceTo(dy, sa), reduceTo(dy, sb)];
          if (kind === 'sub') return [reduceTo(dy, sa), reduceTo(tf.neg(dy), sb)];
          if (kind === 'mul') return [reduceTo(tf.mul(dy, b), sa), reduceTo(tf.mul(dy, a), sb)];
          const q = tf.div(dy, b);
          return [reduceTo(q, sa), reduceTo(tf.neg(tf.mul(q, tf.div(a, b))), sb)];
        }),
    };
  }
  if (runtimeInputs !== 1 || !constant) return `${kind} with ${runtimeInputs} runtime inputs`;
  const c = constant;
  const first = constantFirst === true;
  return {
    forward: ([x]) => ({
      y: first ? op(c, x) : op(x, c),
      saved: kind === 'div' && first ? [x] : [],
    }),
    backward: (dy, [x], [shape]) =>
      tf.tidy(() => {
        let g: tf.Tensor;
        if (kind === 'add') g = dy;
        else if (kind === 'sub') g = first ? tf.neg(dy) : dy;
        else if (kind === 'mul') g = tf.mul(dy, c);
        else if (!first) g = tf.div(dy, c);
        else g = tf.neg(tf.div(tf.mul(dy, c), tf.square(x))); // d(c/x) = −c/x²
        return [reduceTo(g, shape)];
      }),
  };
}

/* ---------- layout ---------- */

export function reshapeStep({ shape }: Spec<'reshape'>): Step {
  return {
    forward: ([x]) => ({ y: tf.reshape(x, shape), saved: [] }),
    backward: (dy, _s, [xShape]) => [tf.reshape(dy, xShape)],
  };
}

export function transposeStep({ perm }: Spec<'transpose'>): Step {
  const inverse = perm.map((_, i) => perm.indexOf(i));
  return {
    forward: ([x]) => ({ y: tf.transpose(x, perm), saved: [] }),
    backward: (dy) => [tf.transpose(dy, inverse)],
  };
}
