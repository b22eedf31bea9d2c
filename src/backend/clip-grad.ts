/**
 * Gradients of `ClipByValue` (Keras `ReLU(maxValue)`, ReLU6 in MobileNets),
 * `Relu6` and `Relu`: `dx = dy` where x is inside the range, else 0. TF.js
 * builds the mask from two to five elementwise ops (compare, compare, and,
 * select, zeros — or step and multiply), each a pass over the activation; on
 * wasm the clip masks alone took a third of a MobileNetV2 input gradient.
 * Here the wasm backend gets one pass in place in its heap (kernel
 * `AdvkitClipGrad`: SIMD, or a branch-free JS loop without it), with TF.js's
 * masks: ClipByValue keeps `min ≤ x ≤ max` (NaN gets 0), Relu6 `0 < x ≤ 6`
 * and Relu `0 < x` (NaN gets NaN, as TF.js's `dy·step(x)`); only the sign
 * of a zero can differ from TF.js's products. Other backends keep TF.js's
 * formulas, and so does Relu without SIMD (its two wasm ops beat the JS loop).
 */
import * as tf from '@tensorflow/tfjs';
import { heapViews, type Info } from './kernel-util.js';
import { simdKernels } from './simd/index.js';

export const CLIP_GRAD = 'AdvkitClipGrad';
const NAN_BITS = 0x7fc00000;

/** Which x let the gradient through: min < x (openMin) or min ≤ x, and x ≤ max. */
export interface ClipMask {
  min: number;
  max: number;
  /** x = min is outside and NaN stays NaN (Relu's `step(x)`); else ClipByValue's mask. */
  openMin: boolean;
}

export function clipGradValues(
  dy: Float32Array,
  x: Float32Array,
  dx: Float32Array,
  { min, max, openMin }: ClipMask,
): Float32Array {
  const dyBits = new Int32Array(dy.buffer, dy.byteOffset, dy.length);
  const dxBits = new Int32Array(dx.buffer, dx.byteOffset, dx.length);
  if (openMin) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      dxBits[i] = (dyBits[i] & -(+(v > min) & +(v <= max))) | (NAN_BITS & -+Number.isNaN(v));
    }
  } else {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      dxBits[i] = dyBits[i] & -(+(v >= min) & +(v <= max));
    }
  }
  return dx;
}

export function clipGradKernelConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: CLIP_GRAD,
    backendName,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { dy, x } = inputs as { dy: Info; x: Info };
      const heap = heapViews(backend);
      if (heap == null) throw new Error(`advkit: ${CLIP_GRAD} needs the wasm heap`);
      const a = attrs as unknown as ClipMask;
      const out = heap.makeOutput(x.shape, 'float32');
      const simd = simdKernels(backend);
      if (simd != null) simd.clipGrad(dy, x, out, a.min, a.max, a.openMin);
      else clipGradValues(heap.view(dy), heap.view(x), heap.view(out), a);
      return out;
    },
  };
}

export const RELU_MASK: ClipMask = { min: 0, max: Number.POSITIVE_INFINITY, openMin: true };
export const RELU6_MASK: ClipMask = { min: 0, max: 6, openMin: true };

/** `dy` where x passes `mask`, else 0, in one pass where the backend allows. */
export function clipGradient(dy: tf.Tensor, x: tf.Tensor, attrs: ClipMask): tf.Tensor {
  const fast =
    x.dtype === 'float32' &&
    dy.dtype === 'float32' &&
    tf.util.arraysEqual(dy.shape, x.shape) &&
    tf.getKernel(CLIP_GRAD, tf.getBackend()) != null &&
    (attrs !== RELU_MASK || simdKernels(tf.backend()) != null);
  if (fast) return tf.engine().runKernel(CLIP_GRAD, { dy, x }, attrs as unknown as tf.NamedAttrMap);
  return tf.tidy(() => {
    if (attrs === RELU_MASK) return tf.mul(dy, tf.step(tf.cast(x, 'float32')));
    if (attrs.openMin)
      return tf.mul(dy, tf.cast(tf.mul(tf.lessEqual(x, attrs.max), tf.step(x)), 'float32'));
    const inside = tf.logicalAnd(tf.greaterEqual(x, attrs.min), tf.lessEqual(x, attrs.max));
    return tf.where(inside, dy, tf.zerosLike(dy));
  });
}

export const clipByValueGradConfig: tf.GradConfig = {
  kernelName: tf.ClipByValue,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved;
    const { clipValueMin, clipValueMax } = attrs as { clipValueMin: number; clipValueMax: number };
    return {
      x: () =>
        clipGradient(dy as tf.Tensor, x, { min: clipValueMin, max: clipValueMax, openMin: false }),
    };
  },
};

export const relu6GradConfig: tf.GradConfig = {
  kernelName: tf.Relu6,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return { x: () => clipGradient(dy as tf.Tensor, x, RELU6_MASK) };
  },
};

export const reluGradConfig: tf.GradConfig = {
  kernelName: tf.Relu,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved;
    return { x: () => clipGradient(dy as tf.Tensor, x, RELU_MASK) };
  },
};

/** Second order: the clip gradient is linear in `dy` and flat in `x`. */
export const clipGradGradConfig: tf.GradConfig = {
  kernelName: CLIP_GRAD,
  inputsToSave: ['x'],
  gradFunc: (g, saved, attrs) => {
    const [x] = saved;
    return {
      dy: () => clipGradient(g as tf.Tensor, x, attrs as unknown as ClipMask),
      x: () => tf.zerosLike(x),
    };
  },
};
