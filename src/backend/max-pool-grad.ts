/**
 * `MaxPoolGrad` on wasm. TF.js 4.22's wasm kernel starts each window's
 * running maximum at 0, so a window whose values are all negative sends its
 * gradient to the wrong place. This kernel routes each `dy` to the first
 * maximum of its window in row-major order, ignoring padding — the cpu
 * backend's (and TensorFlow's) convention — for any padding, stride and
 * overlapping windows, in one pass in plain JS.
 */
import * as tf from '@tensorflow/tfjs';
import { type Info, KernelRunner } from './kernel-util.js';

interface Attrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function maxPoolGradValues(
  x: Float32Array,
  dy: Float32Array,
  info: tf.backend_util.Conv2DInfo,
): Float32Array {
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: c } = info;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const dx = new Float32Array(x.length);
  const best = new Float32Array(c);
  const at = new Int32Array(c);
  for (let n = 0; n < nb; n++) {
    for (let y = 0; y < oh; y++) {
      const r0 = y * sh - top;
      for (let xo = 0; xo < ow; xo++) {
        const c0 = xo * sw - left;
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let i = 0; i < fh; i += dh) {
          const row = r0 + i;
          if (row < 0 || row >= h) continue;
          for (let j = 0; j < fw; j += dw) {
            const col = c0 + j;
            if (col < 0 || col >= w) continue;
            const base = ((n * h + row) * w + col) * c;
            for (let ch = 0; ch < c; ch++) {
              const v = x[base + ch];
              if (v > best[ch] || at[ch] < 0) {
                best[ch] = v;
                at[ch] = base + ch;
              }
            }
          }
        }
        const dyBase = ((n * oh + y) * ow + xo) * c;
        for (let ch = 0; ch < c; ch++) if (at[ch] >= 0) dx[at[ch]] += dy[dyBase + ch];
      }
    }
  }
  return dx;
}

export function maxPoolGradConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return {
    kernelName: tf.MaxPoolGrad,
    backendName,
    setupFunc: stock?.setupFunc,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { dy, input } = inputs as { dy: Info; input: Info };
      const a = attrs as unknown as Attrs;
      const r = new KernelRunner(backend, backendName);
      const info = tf.backend_util.computePool2DInfo(
        input.shape as [number, number, number, number],
        a.filterSize,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      return r.write(maxPoolGradValues(r.read(input), r.read(dy), info), input.shape);
    },
  };
}
