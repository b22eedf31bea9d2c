/**
 * `UnsortedSegmentSum` on wasm, which TF.js 4.22 lacks. It is the gradient
 * of `gather` (TF.js's Gather gradient sums the incoming gradient into the
 * gathered rows with it), so without it no gradient reaches the input
 * through a Gather: a ViT export reads its class token with one. Rows of
 * `x` go to segment `segmentIds[i]`; ids outside [0, numSegments) are
 * dropped, as the cpu backend does.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Info } from './kernel-util.js';

export function unsortedSegmentSumValues(
  x: Float32Array | Int32Array,
  ids: ArrayLike<number>,
  inner: number,
  out: Float32Array | Int32Array,
): void {
  const segments = out.length / inner;
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i];
    if (!(s >= 0 && s < segments)) continue;
    const o = s * inner;
    const k = i * inner;
    for (let j = 0; j < inner; j++) out[o + j] += x[k + j];
  }
}

export function unsortedSegmentSumConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return {
    kernelName: 'UnsortedSegmentSum',
    backendName,
    setupFunc: stock?.setupFunc,
    kernelFunc: (args) => {
      const { x, segmentIds } = args.inputs as { x: Info; segmentIds: Info };
      const { numSegments } = args.attrs as unknown as { numSegments: number };
      const backend = args.backend as tf.KernelBackend;
      if (x.dtype !== 'float32' && x.dtype !== 'int32') {
        if (stock == null)
          throw new Error(`advkit: UnsortedSegmentSum of ${x.dtype} on ${backendName}`);
        return stock.kernelFunc(args);
      }
      const inner = x.shape.slice(1).reduce((a, b) => a * b, 1);
      const shape = [numSegments, ...x.shape.slice(1)];
      const out =
        x.dtype === 'float32'
          ? new Float32Array(numSegments * inner)
          : new Int32Array(numSegments * inner);
      unsortedSegmentSumValues(
        backend.readSync(x.dataId) as Float32Array | Int32Array,
        backend.readSync(segmentIds.dataId) as Int32Array,
        inner,
        out,
      );
      return { dataId: backend.write(out, shape, x.dtype), shape, dtype: x.dtype };
    },
  };
}
