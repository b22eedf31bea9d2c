/**
 * `Conv2DBackpropFilter`, which the wasm backend lacks, as one forward
 * convolution with batch and channels exchanged:
 * `dW[f, ci, co] = Σ_{n,o} x[n, o·s − p + f, ci]·dy[n, o, co]` is a conv of
 * `x` as [ci, H, W, n] with `dy` as the filter [oh, ow, n, co], stride 1 and
 * dilation s. Under `withInputOnlyGradients` it returns zeros.
 *
 * Registered on cpu too: the cpu backend's own kernel is a scalar loop about
 * 60 times slower than its forward conv, which this formulation reuses. The
 * stock kernel is kept only for NCHW. With few input channels the
 * exchanged conv's filter is the whole output gradient, which XNNPACK
 * repacks on every call; there `im2col(x)ᵀ · dy` instead (see `im2col.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { filterGradientByIm2col, IM2COL_MAX_CHANNELS } from './im2col.js';
import { inputOnlyGradients } from './input-only.js';
import { type Info, KernelRunner, spatialPads } from './kernel-util.js';

interface Attrs {
  strides: number | [number, number];
  pad: tf.backend_util.ExplicitPadding | 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

/** The forward convolution's geometry, for NHWC `x`. */
function convInfo(x: Info, a: Attrs): tf.backend_util.Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    a.filterShape,
    a.strides,
    1,
    a.pad,
    a.dimRoundingMode,
  );
}

function viaForwardConv(
  r: KernelRunner,
  x: Info,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
): Info {
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  // Output of the exchanged conv must be fh × fw: the padded input spans
  // (fh − 1) + (oh − 1)·sh + 1 rows; crop rows the forward conv never read.
  const bottom = fh - 1 + (info.outHeight - 1) * sh + 1 - info.inHeight - top;
  const right = fw - 1 + (info.outWidth - 1) * sw + 1 - info.inWidth - left;
  const xt = r.transpose(x, [3, 1, 2, 0]);
  const xp = r.padOrCrop(xt, spatialPads(0, Math.min(bottom, 0), 0, Math.min(right, 0)));
  if (xp !== xt) r.free(xt);
  const dyt = r.transpose(dy, [1, 2, 0, 3]);
  const pads = spatialPads(top, Math.max(bottom, 0), left, Math.max(right, 0));
  const dw = r.run(
    'Conv2D',
    { x: xp, filter: dyt },
    { strides: 1, pad: pads, dataFormat: 'NHWC', dilations: [sh, sw] },
  );
  r.free(xp, dyt);
  return r.runAndFree('Transpose', { x: dw }, { perm: [1, 2, 0, 3] }, [dw]);
}

export function conv2dBackpropFilterConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropFilter,
    backendName,
    setupFunc: stock?.setupFunc,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, dy } = inputs as { x: Info; dy: Info };
      const a = attrs as unknown as Attrs;
      const r = new KernelRunner(backend, backendName);
      if (inputOnlyGradients()) return r.zeros(a.filterShape);
      if (a.dataFormat === 'NCHW') {
        if (stock != null) return stock.kernelFunc({ inputs, attrs, backend });
        const xn = r.transpose(x, [0, 2, 3, 1]);
        const dyn = r.transpose(dy, [0, 2, 3, 1]);
        const out = viaForwardConv(r, xn, dyn, convInfo(xn, a));
        r.free(xn, dyn);
        return out;
      }
      const info = convInfo(x, a);
      if (info.inChannels <= IM2COL_MAX_CHANNELS) return filterGradientByIm2col(r, x, dy, info);
      return viaForwardConv(r, x, dy, info);
    },
  };
}
