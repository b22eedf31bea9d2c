/**
 * `BatchMatMul` and `_FusedMatMul` on wasm with `transposeA`/`transposeB`.
 * TF.js 4.22's wasm kernels send any transposed operand to a scalar loop,
 * about ten times slower than XNNPACK's path for plain operands — and every
 * matmul gradient is transposed (`dA = dy·Bᵀ`, `dB = Aᵀ·dy`). Here the
 * transposed operand is laid out once with the `Transpose` kernel (a memory
 * pass, far cheaper than the loop) and the stock kernel runs untransposed.
 * Values are the same products summed in the same order. A transposed `b`
 * is nearly always a weight matrix (`dA = dy·Bᵀ`): it is laid out once per
 * weight tensor, so XNNPACK also keeps its packed operator for it.
 */
import type * as tf from '@tensorflow/tfjs';
import { derived } from './derived-cache.js';
import { type Info, KernelRunner, wrapStock } from './kernel-util.js';

interface Attrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** `x` with its last two axes swapped. */
function swapLast(r: KernelRunner, x: Info): Info {
  const perm = x.shape.map((_, i) => i);
  const n = perm.length;
  [perm[n - 2], perm[n - 1]] = [perm[n - 1], perm[n - 2]];
  return r.transpose(x, perm);
}

export function transposeFreeMatMulConfig(kernelName: string) {
  return (backendName: string, stock: tf.KernelConfig | undefined): tf.KernelConfig =>
    wrapStock(kernelName, backendName, stock, ({ inputs, attrs, backend }, stock) => {
      const { transposeA, transposeB } = attrs as unknown as Attrs;
      if (!transposeA && !transposeB) return stock.kernelFunc({ inputs, attrs, backend });
      const r = new KernelRunner(backend, backendName);
      const { a, b } = inputs as { a: Info; b: Info };
      const a2 = transposeA ? swapLast(r, a) : a;
      const bt = transposeB ? derived(backend, 'transposed', b, () => swapLast(r, b)) : null;
      const b2 = bt?.value ?? b;
      const out = stock.kernelFunc({
        inputs: { ...inputs, a: a2, b: b2 },
        attrs: { ...attrs, transposeA: false, transposeB: false },
        backend,
      });
      if (a2 !== a) r.free(a2);
      if (bt?.owned) r.free(bt.value);
      return out;
    });
}
