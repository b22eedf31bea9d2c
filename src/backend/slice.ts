/**
 * `Slice` on wasm without a copy of the whole input. TF.js's wasm kernel
 * first reads the entire input out of the heap (`readSync`), then copies the
 * slice from that copy: cutting one example out of a batch of 224 × 224
 * images costs as much as copying the batch. Here the slice is copied from
 * the heap directly, in contiguous runs (the axes after the last one that is
 * cut are whole, so each run spans them). Strings go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { copyRun, heapCopyKernel } from './kernel-util.js';

interface Attrs {
  begin: number | number[];
  size: number | number[];
}

/** Copy the box `begin`/`size` of `x` (shape `shape`) into `out`, run by run. */
export function copySlice(
  x: tf.TypedArray,
  shape: number[],
  begin: number[],
  size: number[],
  out: tf.TypedArray,
): void {
  const rank = shape.length;
  // Axes from `k` on are whole except `k` itself: a run covers them.
  let k = rank - 1;
  while (k > 0 && size[k] === shape[k] && begin[k] === 0) k--;
  const strides = tf.util.computeStrides(shape);
  const stride = (axis: number) => (axis < rank - 1 ? strides[axis] : 1);
  const run = size[k] * stride(k);
  const outer = size.slice(0, k);
  const count = outer.reduce((a, b) => a * b, 1);
  const index = new Array<number>(k).fill(0);
  for (let r = 0; r < count; r++) {
    let from = begin[k] * stride(k);
    for (let a = 0; a < k; a++) from += (begin[a] + index[a]) * stride(a);
    copyRun(x, from, out, r * run, run);
    for (let a = k - 1; a >= 0; a--) {
      if (++index[a] < outer[a]) break;
      index[a] = 0;
    }
  }
}

export function sliceConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return heapCopyKernel(tf.Slice, backendName, stock, (x, attrs, heap) => {
    const { begin, size } = attrs as unknown as Attrs;
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    const out = heap.makeOutput(s, x.dtype);
    if (s.every((d) => d > 0)) copySlice(heap.typed(x), x.shape, b, s, heap.typed(out));
    return out;
  });
}
