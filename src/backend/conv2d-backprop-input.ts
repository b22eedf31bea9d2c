/**
 * `Conv2DBackpropInput` on wasm as one XNNPACK forward convolution of the
 * spread output gradient with the rotated, in/out-swapped filter (see
 * `transposed-conv.ts`). TF.js's own wasm kernel is a scalar loop about ten
 * times slower than the forward pass; NCHW, which XNNPACK does not take,
 * still goes to it. With 1 to 3 input channels, or a valid-padded
 * convolution on a small map, a matrix product and a scatter-add instead
 * (see `im2col.ts`); with a mostly-zero `dy` (below a max pool), a scatter
 * of its nonzeros (see `sparse-input-grad.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import {
  COL2IM_MAX_CHANNELS,
  COL2IM_MIN_INPUTS_PER_OUTPUT,
  inputGradientByCol2im,
} from './im2col.js';
import { KernelRunner } from './kernel-util.js';
import { inputGradientFromSparse } from './sparse-input-grad.js';
import {
  inputGradientByPhases,
  rotatedFilter,
  spreadForTransposedConv,
} from './transposed-conv.js';

interface Attrs {
  strides: number | [number, number];
  pad: tf.backend_util.ExplicitPadding | 'valid' | 'same' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

export function conv2dBackpropInputConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return {
    kernelName: tf.Conv2DBackpropInput,
    backendName,
    setupFunc: stock?.setupFunc,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
      const a = attrs as unknown as Attrs;
      if (a.dataFormat === 'NCHW' && stock != null)
        return stock.kernelFunc({ inputs, attrs, backend });
      const r = new KernelRunner(backend, backendName);
      const info = tf.backend_util.computeConv2DInfo(
        a.inputShape,
        filter.shape as [number, number, number, number],
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      // The convolution below has one output per input position, the product
      // one row per output position: for a stride-1 valid-padded convolution
      // on a small map (7 × 7 → 5 × 5) the product is faster (2.3 ms against
      // 3.6), at 12 → 10 even, at 26 → 24 slower (19 against 12).
      const sparse = inputGradientFromSparse(r, dy, filter, info);
      if (sparse != null) return sparse;
      const stride1 = info.strideHeight === 1 && info.strideWidth === 1;
      const inputsPerOutput = (info.inHeight * info.inWidth) / (info.outHeight * info.outWidth);
      if (
        info.inChannels <= COL2IM_MAX_CHANNELS ||
        (stride1 && inputsPerOutput >= COL2IM_MIN_INPUTS_PER_OUTPUT)
      )
        return inputGradientByCol2im(r, dy, filter, info);
      if (info.strideHeight > 1 || info.strideWidth > 1) {
        const dx = inputGradientByPhases(r, dy, filter, info);
        if (dx != null) return dx;
      }
      const { x, pads, owned } = spreadForTransposedConv(r, dy, info);
      const swapped = rotatedFilter(r, filter, true);
      const dx = r.run(
        'Conv2D',
        { x, filter: swapped.value },
        { strides: 1, pad: pads, dataFormat: 'NHWC', dilations: 1 },
      );
      if (swapped.owned) r.free(swapped.value);
      if (owned) r.free(x);
      return dx;
    },
  };
}
