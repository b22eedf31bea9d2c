/**
 * `Sum` over leading axes on wasm — a bias gradient, which sums an
 * activation gradient [n, h, w, c] over n, h and w. TF.js's wasm kernel
 * transposes the reduced axes to the end and then sums them with a scalar
 * loop, about five times the cost of one pass over the data; here the
 * rows are added into `c` float64 accumulators in one pass, in place in
 * the wasm heap. Every other reduction goes to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { heapViews, type Info, wrapStock } from './kernel-util.js';
import { simdKernels } from './simd/index.js';

interface Attrs {
  axis: number | number[];
  keepDims: boolean;
}

/** The number of leading axes `axis` names, or 0 unless it is exactly 0..k−1 with k < rank. */
function leadingAxes(axis: number | number[], rank: number): number {
  const axes = [...new Set(tf.util.parseAxisParam(axis, new Array(rank).fill(1)))].sort(
    (a, b) => a - b,
  );
  if (axes.length === 0 || axes.length >= rank) return 0;
  return axes.every((a, i) => a === i) ? axes.length : 0;
}

/**
 * `out[c] = Σ_r x[r·width + c]`, accumulated in float64, four rows per
 * update of the accumulators (half the time of one row at a time).
 */
export function sumRows(x: Float32Array, width: number, out: Float32Array): Float32Array {
  const acc = new Float64Array(width);
  const w2 = 2 * width;
  const w3 = 3 * width;
  let at = 0;
  for (; at + 4 * width <= x.length; at += 4 * width) {
    for (let c = 0; c < width; c++) {
      const i = at + c;
      acc[c] += x[i] + x[i + width] + (x[i + w2] + x[i + w3]);
    }
  }
  for (; at < x.length; at += width) {
    for (let c = 0; c < width; c++) acc[c] += x[at + c];
  }
  out.set(acc);
  return out;
}

export function leadingSumConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return wrapStock(tf.Sum, backendName, stock, (args, stock) => {
    const { x } = args.inputs as { x: Info };
    const { axis, keepDims } = args.attrs as unknown as Attrs;
    const k = leadingAxes(axis, x.shape.length);
    const heap = heapViews(args.backend);
    if (k === 0 || x.dtype !== 'float32' || heap == null) return stock.kernelFunc(args);
    const kept = x.shape.slice(k);
    const width = kept.reduce((a, b) => a * b, 1);
    const shape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...kept] : kept;
    const out = heap.makeOutput(shape, 'float32');
    const simd = simdKernels(args.backend);
    if (simd != null && width % 4 === 0)
      simd.sumRows(x, out, tf.util.sizeFromShape(x.shape) / width, width);
    else sumRows(heap.view(x), width, heap.view(out));
    return out;
  });
}
