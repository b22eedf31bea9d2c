/**
 * `DepthToSpace` (NHWC) on wasm as reshape → transpose → reshape:
 * [n, h, w, b·b·c] → [n, h, w, b, b, c] → [n, h, b, w, b, c] → [n, h·b, w·b, c].
 * TF.js's wasm kernel computes every output index with divisions and is
 * tens of times slower than the transpose. NCHW still goes to it.
 */
import * as tf from '@tensorflow/tfjs';
import { type Info, KernelRunner } from './kernel-util.js';

export function depthToSpaceConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return {
    kernelName: tf.DepthToSpace,
    backendName,
    setupFunc: stock?.setupFunc,
    kernelFunc: ({ inputs, attrs, backend }) => {
      const { x } = inputs as { x: Info };
      const { blockSize: b, dataFormat } = attrs as unknown as {
        blockSize: number;
        dataFormat: 'NHWC' | 'NCHW';
      };
      if (dataFormat === 'NCHW' && stock != null)
        return stock.kernelFunc({ inputs, attrs, backend });
      const r = new KernelRunner(backend, backendName);
      const [n, h, w, depth] = x.shape;
      const c = depth / (b * b);
      const r6 = r.reshape(x, [n, h, w, b, b, c]);
      const t = r.runAndFree('Transpose', { x: r6 }, { perm: [0, 1, 3, 2, 4, 5] }, [r6]);
      const out = r.reshape(t, [n, h * b, w * b, c]);
      r.free(t);
      return out;
    },
  };
}
