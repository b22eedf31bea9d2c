/**
 * `Sign` on wasm in advkit's SIMD kernels. FGSM and every L∞ step take the
 * sign of a gradient the size of the input; TF.js 4.22's wasm `Sign` is a
 * scalar loop about 15 times slower than a clip of the same tensor, and
 * (unlike the cpu backend) reads denormal values as 0. This one gives the cpu
 * backend's values: 1, −1, or 0 for 0, −0 and NaN.
 */
import type * as tf from '@tensorflow/tfjs';
import { heapViews, type Info } from './kernel-util.js';
import { simdKernels } from './simd/index.js';

export function signConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return {
    kernelName: 'Sign',
    backendName,
    setupFunc: stock?.setupFunc,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: Info };
      const simd = simdKernels(args.backend);
      const heap = heapViews(args.backend);
      if (x.dtype !== 'float32' || simd == null || heap == null) {
        if (stock == null) throw new Error(`advkit: no Sign kernel on ${backendName}`);
        return stock.kernelFunc(args);
      }
      const out = heap.makeOutput([...x.shape], 'float32');
      simd.sign(x, out);
      return out;
    },
  };
}
