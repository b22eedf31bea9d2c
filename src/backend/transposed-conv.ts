/**
 * The input gradient of a convolution as a forward convolution.
 *
 * With stride s, dilation d, filter size F and top padding p,
 * `dx[i] = Σ_o Σ_f dy[o]·w[f]·[i = o·s − p + f·d]`. Spreading `dy` with s − 1
 * zeros between rows/columns (`dy'[o·s] = dy[o]`) turns this into a stride-1
 * convolution of `dy'`, padded by `(F − 1)·d − p` on top, with the filter
 * rotated by 180° and dilation d — which XNNPACK's forward kernels compute
 * far faster than TF.js's wasm `Conv2DBackpropInput` loop.
 */
import type * as tf from '@tensorflow/tfjs';
import { type Info, type KernelRunner, type Pads, spatialPads } from './kernel-util.js';

/**
 * `dy` spread by the strides, plus the explicit padding the stride-1 forward
 * convolution needs so that its output has the input's height and width.
 * Negative pads (explicit pads larger than a filter) are cropped here, so the
 * returned pads are never negative. `owned` says whether `x` is new.
 */
export function spreadForTransposedConv(
  r: KernelRunner,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
): { x: Info; pads: Pads; owned: boolean } {
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const [n, , , c] = dy.shape;
  let x = dy;
  if (sh > 1 || sw > 1) {
    const r6 = r.reshape(dy, [n, oh, 1, ow, 1, c]);
    const zeros = [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ];
    const padded = r.runAndFree('PadV2', { x: r6 }, { paddings: zeros, constantValue: 0 }, [r6]);
    x = r.reshape(padded, [n, oh * sh, ow * sw, c]);
    r.free(padded);
  }
  // Spread height is oh·sh (the last sh − 1 rows are zeros); the padded
  // height must be inHeight + effectiveFilterHeight − 1.
  const top = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const left = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const bottom = info.inHeight + info.effectiveFilterHeight - 1 - top - oh * sh;
  const right = info.inWidth + info.effectiveFilterWidth - 1 - left - ow * sw;
  const pads = spatialPads(top, bottom, left, right);
  if (pads.some(([a, b]) => a < 0 || b < 0)) {
    const cropOnly = pads.map(([a, b]) => [Math.min(a, 0), Math.min(b, 0)]) as Pads;
    const cropped = r.padOrCrop(x, cropOnly);
    if (x !== dy) r.free(x);
    x = cropped;
  }
  const positive = pads.map(([a, b]) => [Math.max(a, 0), Math.max(b, 0)]) as Pads;
  return { x, pads: positive, owned: x !== dy };
}

/** The filter rotated by 180° in H and W (`Reverse` over axes 0 and 1). */
export function rotate180(r: KernelRunner, filter: Info): Info {
  return r.run('Reverse', { x: filter }, { dims: [0, 1] });
}
