/**
 * `DepthwiseConv2dNativeBackpropFilter`, which the wasm backend lacks:
 * `dW[i, j, c, k] = Σ_{n,y,x} x[n, y·s + i·d − pt, x·s + j·d − pl, c]·dy[n, y, x, c·m + k]`
 * as one pass in plain JS over the values (the depthwise filter gradient is a
 * small fraction of a network's work). Under `withInputOnlyGradients` it
 * returns zeros. On cpu, whose own kernel ignores dilations (TF.js 4.22),
 * this kernel handles dilated convolutions and the stock kernel the rest.
 */
import * as tf from '@tensorflow/tfjs';
import { inputOnlyGradients } from './input-only.js';
import { type Info, KernelRunner, pair } from './kernel-util.js';

interface Attrs {
  strides: number | [number, number];
  dilations?: number | [number, number];
  pad: tf.backend_util.ExplicitPadding | 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

function direct(r: KernelRunner, xInfo: Info, dyInfo: Info, a: Attrs): Info {
  const [fh, fw, c, m] = a.filterShape;
  const info = tf.backend_util.computeConv2DInfo(
    xInfo.shape as [number, number, number, number],
    a.filterShape,
    a.strides,
    pair(a.dilations),
    a.pad,
    a.dimRoundingMode,
    true,
  );
  const { batchSize: nb, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const x = r.read(xInfo);
  const dy = r.read(dyInfo);
  const out = new Float32Array(fh * fw * c * m);
  const cm = c * m;
  for (let n = 0; n < nb; n++) {
    for (let y = 0; y < oh; y++) {
      for (let i = 0; i < fh; i++) {
        const xr = y * sh + i * dh - top;
        if (xr < 0 || xr >= h) continue;
        for (let xc = 0; xc < ow; xc++) {
          const dyBase = ((n * oh + y) * ow + xc) * cm;
          for (let j = 0; j < fw; j++) {
            const xcol = xc * sw + j * dw - left;
            if (xcol < 0 || xcol >= w) continue;
            const xBase = ((n * h + xr) * w + xcol) * c;
            const oBase = (i * fw + j) * cm;
            for (let ch = 0; ch < c; ch++) {
              const xv = x[xBase + ch];
              for (let k = 0; k < m; k++) {
                out[oBase + ch * m + k] += xv * dy[dyBase + ch * m + k];
              }
            }
          }
        }
      }
    }
  }
  return r.write(out, [fh, fw, c, m]);
}

export function depthwiseBackpropFilterConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return {
    kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
    backendName,
    setupFunc: stock?.setupFunc,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x, dy } = inputs as { x: Info; dy: Info };
      const a = attrs as unknown as Attrs;
      const r = new KernelRunner(backend, backendName);
      if (inputOnlyGradients()) return r.zeros(a.filterShape);
      const [dh, dw] = pair(a.dilations);
      if (stock != null && dh === 1 && dw === 1)
        return stock.kernelFunc({ inputs, attrs, backend });
      return direct(r, x, dy, a);
    },
  };
}
