/**
 * `ClipByValue` on wasm for small tensors, in advkit's SIMD kernels on the
 * main thread. With two XNNPACK threads TF.js's kernel hands even a
 * 64 × 28 × 28 batch to the thread pool, whose worker sleeps after a few
 * milliseconds without work: between advkit's own kernels (every attack
 * step clips its iterate to the input bounds) waking it made the clip
 * 0.17 ms, against 0.02 ms here. Values are the cpu backend's: NaN and −0
 * pass through. Large tensors (MobileNetV2's ReLU6 activations) keep
 * XNNPACK's threads, twice as fast there (2.9 against 5.4 ms for 19 M
 * values), and its kernel, which sends NaN to the lower bound and −0 to 0.
 */
import type * as tf from '@tensorflow/tfjs';
import { heapViews, type Info, wrapStock } from './kernel-util.js';
import { simdKernels } from './simd/index.js';

/** Above this many values the thread pool's second core pays for waking it. */
export const CLIP_ON_MAIN_THREAD_MAX = 1 << 18;

interface Attrs {
  clipValueMin: number;
  clipValueMax: number;
}

export function clipConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return wrapStock('ClipByValue', backendName, stock, (args, stock) => {
    const { x } = args.inputs as { x: Info };
    const simd = simdKernels(args.backend);
    const heap = heapViews(args.backend);
    const n = x.shape.reduce((p, q) => p * q, 1);
    if (simd == null || heap == null || x.dtype !== 'float32' || n > CLIP_ON_MAIN_THREAD_MAX)
      return stock.kernelFunc(args);
    const { clipValueMin, clipValueMax } = args.attrs as unknown as Attrs;
    const out = heap.makeOutput([...x.shape], 'float32');
    simd.clamp(x, out, clipValueMin, clipValueMax);
    return out;
  });
}
