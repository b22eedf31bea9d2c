/**
 * Broadcasting binary kernels on wasm. TF.js 4.22's wasm kernels that
 * XNNPACK does not run (comparisons, logical and/or, minimum and maximum,
 * pow, floor division, mod, atan2) walk a broadcast by computing each
 * output's input indices: `tf.equal` of a 64 × 784 batch with its per-row
 * maximum (64 × 1), as the L1 steepest direction takes it, cost 6.3 ms,
 * 30 times the same op on two 64 × 784 tensors. Here a broadcast operand
 * is first tiled to the output's shape (advkit's `Tile`, block copies), so
 * the stock kernel runs on equal shapes, with the same values. A single
 * value, which TF.js handles on its fast path, is left as it is.
 */
import * as tf from '@tensorflow/tfjs';
import { type Info, KernelRunner, wrapStock } from './kernel-util.js';

const size = (t: Info) => t.shape.reduce((p, q) => p * q, 1);

/**
 * `run` on `a` and `b` tiled to their broadcast shape (`scalars`: single
 * values too); the tiled copies are freed after.
 */
export function withEqualShapes(
  r: KernelRunner,
  a: Info,
  b: Info,
  scalars: boolean,
  run: (a: Info, b: Info) => Info,
): Info {
  if (tf.util.arraysEqual(a.shape, b.shape) || (!scalars && (size(a) <= 1 || size(b) <= 1)))
    return run(a, b);
  const shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
  const full = (t: Info): Info => {
    if (tf.util.arraysEqual(t.shape, shape)) return t;
    const lifted = [...new Array<number>(shape.length - t.shape.length).fill(1), ...t.shape];
    const x = r.reshape(t, lifted);
    const tiled = r.run('Tile', { x }, { reps: shape.map((d, i) => d / lifted[i]) });
    r.free(x);
    return tiled;
  };
  const [a2, b2] = [full(a), full(b)];
  try {
    return run(a2, b2);
  } finally {
    if (a2 !== a) r.free(a2);
    if (b2 !== b) r.free(b2);
  }
}

/** `kernelName`'s stock kernel, with broadcast operands tiled first. */
export function tiledBroadcastConfig(kernelName: string) {
  return (backendName: string, stock: tf.KernelConfig | undefined): tf.KernelConfig =>
    wrapStock(kernelName, backendName, stock, (args, stock) => {
      const { a, b } = args.inputs as { a: Info; b: Info };
      if (a.dtype === 'string' || b.dtype === 'string') return stock.kernelFunc(args);
      const r = new KernelRunner(args.backend, backendName);
      return withEqualShapes(
        r,
        a,
        b,
        false,
        (a2, b2) => stock.kernelFunc({ ...args, inputs: { ...args.inputs, a: a2, b: b2 } }) as Info,
      );
    });
}

/** The wasm kernels that take the slow broadcasting path (measured, TF.js 4.22). */
export const SLOW_BROADCAST_KERNELS = [
  tf.Equal,
  tf.NotEqual,
  tf.Greater,
  tf.GreaterEqual,
  tf.Less,
  tf.LessEqual,
  tf.LogicalAnd,
  tf.LogicalOr,
  tf.Pow,
  tf.FloorDiv,
  tf.Mod,
  tf.Atan2,
] as const;
