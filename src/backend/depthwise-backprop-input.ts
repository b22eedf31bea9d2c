/**
 * `DepthwiseConv2dNativeBackpropInput`, which the wasm backend lacks, as an
 * XNNPACK forward depthwise convolution of the spread output gradient with the
 * rotated filter (see `transposed-conv.ts`). With channel multiplier m the
 * filter [fh, fw, c, m] becomes [fh, fw, c·m, 1] and the m partial results of
 * each input channel are summed. Strided ones with multiplier 1 go by phase
 * instead (no multiplications by the zeros of a spread gradient; stride 2
 * was 6× the forward pass in MobileNetV2). Dilations are supported; on cpu, whose own
 * kernel ignores dilations (TF.js 4.22), this kernel handles dilated
 * convolutions and the stock kernel the rest.
 */
import * as tf from '@tensorflow/tfjs';
import { type Info, KernelRunner, pair } from './kernel-util.js';
import {
  inputGradientByPhases,
  rotatedFilter,
  spreadForTransposedConv,
} from './transposed-conv.js';

interface Attrs {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: tf.backend_util.ExplicitPadding | 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: [number, number, number, number];
}

export function depthwiseBackpropInputConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return {
    kernelName: tf.DepthwiseConv2dNativeBackpropInput,
    backendName,
    setupFunc: stock?.setupFunc,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { dy, filter } = inputs as { dy: Info; filter: Info };
      const a = attrs as unknown as Attrs;
      const dilations = pair(a.dilations);
      if (stock != null && dilations[0] === 1 && dilations[1] === 1) {
        return stock.kernelFunc({ inputs, attrs, backend });
      }
      const r = new KernelRunner(backend, backendName);
      const [fh, fw, c, m] = filter.shape;
      const info = tf.backend_util.computeConv2DInfo(
        a.inputShape,
        [fh, fw, c, m],
        a.strides,
        dilations,
        a.pad,
        a.dimRoundingMode,
        true,
      );
      const strided = info.strideHeight > 1 || info.strideWidth > 1;
      if (strided && m === 1 && dilations[0] === 1 && dilations[1] === 1) {
        const dx = inputGradientByPhases(r, dy, filter, info, true);
        if (dx != null) return dx;
      }
      const { x, pads, owned } = spreadForTransposedConv(r, dy, info);
      const rotated = rotatedFilter(r, filter, false);
      const flat = r.reshape(rotated.value, [fh, fw, c * m, 1]);
      if (rotated.owned) r.free(rotated.value);
      let dx = r.run(
        'DepthwiseConv2dNative',
        { x, filter: flat },
        { strides: 1, pad: pads, dilations, dataFormat: 'NHWC' },
      );
      r.free(flat);
      if (owned) r.free(x);
      if (m > 1) {
        const [n, h, w] = dx.shape;
        const split = r.reshape(dx, [n, h, w, c, m]);
        r.free(dx);
        dx = r.runAndFree('Sum', { x: split }, { axis: [4], keepDims: false }, [split]);
      }
      return dx;
    },
  };
}
