/**
 * `Identity` and same-dtype `Cast` on wasm without a copy. TF.js saves every
 * tensor a gradient needs through `Identity` (the engine's `clone`), and
 * the ReLU gradient casts float32 to float32; TF.js's wasm kernels copy the
 * whole buffer each time, which costs as much as the elementwise op itself
 * on the activations of a convolution. Tensors are immutable, so the output
 * shares the input's buffer and counts one more reference — what the cpu
 * backend's `Identity` and the wasm `Reshape` do.
 *
 * TF.js 4.22's wasm `Cast` to bool also copies the raw values into a byte
 * array (2.0 becomes 2, −1 becomes 255); here any non-zero becomes 1, as on
 * every other backend.
 */
import type * as tf from '@tensorflow/tfjs';
import { heapViews, type Info } from './kernel-util.js';

interface RefCounting {
  incRef(dataId: object): void;
}

function share(backend: object, x: Info): Info {
  (backend as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

function canShare(backend: object): boolean {
  return typeof (backend as Partial<RefCounting>).incRef === 'function';
}

export function identityConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return {
    kernelName: 'Identity',
    backendName,
    setupFunc: stock?.setupFunc,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: Info };
      if (x.dtype === 'string' || !canShare(args.backend)) {
        if (stock == null) throw new Error(`advkit: no Identity kernel on ${backendName}`);
        return stock.kernelFunc(args);
      }
      return share(args.backend, x);
    },
  };
}

export function castConfig(
  backendName: string,
  stock: tf.KernelConfig | undefined,
): tf.KernelConfig {
  return {
    kernelName: 'Cast',
    backendName,
    setupFunc: stock?.setupFunc,
    kernelFunc: (args) => {
      const { x } = args.inputs as { x: Info };
      const { dtype } = args.attrs as { dtype: tf.DataType };
      if (dtype === x.dtype && dtype !== 'string' && canShare(args.backend))
        return share(args.backend, x);
      const heap = heapViews(args.backend);
      if (dtype === 'bool' && x.dtype !== 'string' && heap != null) {
        const out = heap.makeOutput(x.shape, 'bool');
        const from = heap.typed(x);
        const to = heap.typed(out);
        for (let i = 0; i < from.length; i++) to[i] = from[i] !== 0 ? 1 : 0;
        return out;
      }
      if (stock == null) throw new Error(`advkit: no Cast kernel on ${backendName}`);
      return stock.kernelFunc(args);
    },
  };
}
