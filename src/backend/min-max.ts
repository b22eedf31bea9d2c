/**
 * `Minimum` and `Maximum` on wasm, for float32 tensors, in advkit's SIMD
 * kernels. Every L∞ projection clips to the ε-box around the
 * clean input, `min(max(x, x₀ − ε), x₀ + ε)`, with tensor bounds, so a
 * `clipByValue` cannot do it; TF.js 4.22's wasm kernels for these two take
 * 0.53 ms on a 64 × 28 × 28 batch, 25 times an add of the same size (on the
 * MNIST CNN, a millisecond of each 15 ms PGD step). Values are the cpu
 * backend's (JavaScript's `Math.min` / `Math.max`): NaN if either input is
 * NaN, −0 below +0. A broadcast operand (a scalar too) is tiled to the
 * output's shape first (`broadcast.ts`); other dtypes and other backends go
 * to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { withEqualShapes } from './broadcast.js';
import { heapViews, type Info, KernelRunner, wrapStock } from './kernel-util.js';
import { simdKernels } from './simd/index.js';

export function minMaxConfig(kernelName: typeof tf.Minimum | typeof tf.Maximum) {
  return (backendName: string, stock: tf.KernelConfig | undefined): tf.KernelConfig =>
    wrapStock(kernelName, backendName, stock, (args, stock) => {
      const { a, b } = args.inputs as { a: Info; b: Info };
      const simd = simdKernels(args.backend);
      const heap = heapViews(args.backend);
      if (simd == null || heap == null || a.dtype !== 'float32' || b.dtype !== 'float32')
        return stock.kernelFunc(args);
      const r = new KernelRunner(args.backend, backendName);
      return withEqualShapes(r, a, b, true, (a2, b2) => {
        const out = heap.makeOutput([...a2.shape], 'float32');
        simd.minMax(a2, b2, out, kernelName === tf.Maximum);
        return out;
      });
    });
}
