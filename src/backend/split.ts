/**
 * `SplitV` on wasm as one advkit `Slice` per part (see `slice.ts`). TF.js
 * 4.22's wasm kernel calls its own slice, which reads the whole input out
 * of the heap for every part: splitting a 64 × 13 × 13 × 64 gradient in two
 * along channels took 16 ms, against 1.3 ms for the two slices. TF.js's
 * gradient of `concat` is a split, as is a layer plan's Concatenate step.
 */
import * as tf from '@tensorflow/tfjs';
import { type Info, KernelRunner } from './kernel-util.js';

interface Attrs {
  numOrSizeSplits: number | number[];
  axis: number | number[];
}

export function splitConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return {
    kernelName: tf.SplitV,
    backendName,
    setupFunc: stock?.setupFunc,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x } = inputs as { x: Info };
      const { numOrSizeSplits, axis } = attrs as unknown as Attrs;
      const a = tf.util.parseAxisParam(axis, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, a);
      const r = new KernelRunner(backend, backendName);
      const begin = x.shape.map(() => 0);
      return sizes.map((s) => {
        const size = [...x.shape];
        size[a] = s;
        const part = r.run(tf.Slice, { x }, { begin: [...begin], size });
        begin[a] += s;
        return part;
      });
    },
  };
}
