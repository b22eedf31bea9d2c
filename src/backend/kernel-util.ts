/**
 * Helpers for kernels that compute with other kernels of the same backend.
 *
 * A kernel function runs inside the engine, so it calls sibling kernels
 * directly (`getKernel(name, backend).kernelFunc`) instead of going through
 * ops: the intermediates are then plain `TensorInfo`s owned by the backend,
 * never tracked by the engine, and each one is released with
 * `backend.disposeData` as soon as it is used — the pattern TF.js's own
 * composite kernels follow.
 */
import * as tf from '@tensorflow/tfjs';

export type Info = tf.TensorInfo;
export type Pads = [[number, number], [number, number], [number, number], [number, number]];

/** Runs kernels of one backend and frees what they return. */
export class KernelRunner {
  readonly backend: tf.KernelBackend;

  /** `backend` is the one a kernel function receives (typed `{}` by TF.js). */
  constructor(
    backend: object,
    readonly backendName: string,
  ) {
    this.backend = backend as tf.KernelBackend;
  }

  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: object = {}): Info {
    const kernel = tf.getKernel(kernelName, this.backendName);
    if (kernel == null) {
      throw new Error(`advkit: kernel ${kernelName} is not registered for ${this.backendName}`);
    }
    const out = kernel.kernelFunc({
      inputs,
      attrs: attrs as tf.NamedAttrMap,
      backend: this.backend,
    });
    return Array.isArray(out) ? out[0] : out;
  }

  /** `run`, then free the listed intermediates (never the kernel's own inputs). */
  runAndFree(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: object, free: Info[]): Info {
    const out = this.run(kernelName, inputs, attrs);
    this.free(...free);
    return out;
  }

  free(...infos: Info[]): void {
    for (const info of infos) this.backend.disposeData(info.dataId);
  }

  reshape(x: Info, shape: number[]): Info {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: Info, perm: number[]): Info {
    return this.run('Transpose', { x }, { perm });
  }

  zeros(shape: number[]): Info {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }

  /** Copy of the values (works on every backend; cheap next to the math). */
  read(x: Info): Float32Array {
    return this.backend.readSync(x.dataId) as Float32Array;
  }

  write(values: Float32Array, shape: number[]): Info {
    return { dataId: this.backend.write(values, shape, 'float32'), shape, dtype: 'float32' };
  }

  /**
   * Pad (positive entries) and crop (negative entries) a 4-D NHWC tensor in
   * H and W. Returns `x` itself when there is nothing to do; the caller then
   * must not free it twice.
   */
  padOrCrop(x: Info, pads: Pads): Info {
    const [n, h, w, c] = x.shape;
    const crop = pads.map(([a, b]) => [Math.max(0, -a), Math.max(0, -b)]);
    const grow = pads.map(([a, b]) => [Math.max(0, a), Math.max(0, b)]);
    let y = x;
    if (crop.some(([a, b]) => a > 0 || b > 0)) {
      const begin = crop.map(([a]) => a);
      const size = [n, h, w, c].map((d, i) => d - crop[i][0] - crop[i][1]);
      y = this.run('Slice', { x: y }, { begin, size });
    }
    if (grow.some(([a, b]) => a > 0 || b > 0)) {
      const padded = this.run('PadV2', { x: y }, { paddings: grow, constantValue: 0 });
      if (y !== x) this.free(y);
      y = padded;
    }
    return y;
  }
}

/** `[t, b]`, `[l, r]` pads of a conv as a 4-D explicit padding. */
export function spatialPads(top: number, bottom: number, left: number, right: number): Pads {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/** Normalises a number-or-pair attribute. */
export function pair(v: number | [number, number] | undefined, fallback = 1): [number, number] {
  if (v == null) return [fallback, fallback];
  return typeof v === 'number' ? [v, v] : [v[0], v[1]];
}

interface HeapBackend {
  makeOutput(shape: number[], dtype: tf.DataType): Info;
  typedArrayFromHeap(info: Info): tf.TypedArray;
}

/**
 * The wasm backend's own views of its heap (`BackendWasm.makeOutput`,
 * `typedArrayFromHeap`, what TF.js's JS-side wasm kernels use), or undefined
 * on other backends. A view is valid until the next allocation.
 */
export function heapViews(backend: object) {
  const b = backend as Partial<HeapBackend>;
  if (typeof b.makeOutput !== 'function' || typeof b.typedArrayFromHeap !== 'function') return;
  const hb = b as HeapBackend;
  return {
    makeOutput: (shape: number[], dtype: tf.DataType = 'float32') => hb.makeOutput(shape, dtype),
    /** A float32 tensor's values. */
    view: (info: Info) => hb.typedArrayFromHeap(info) as Float32Array,
    /** Any tensor's values, typed by its dtype. */
    typed: (info: Info) => hb.typedArrayFromHeap(info),
  };
}

export type HeapViews = NonNullable<ReturnType<typeof heapViews>>;

/**
 * `out[to …] = x[from …]`, `n` values. A typed array's `subarray` + `set`
 * has a fixed cost of its own, and padding or cropping a one-channel batch
 * moves one short run per image row: short runs go by a plain loop (padding
 * a 64 × 26 × 26 × 1 gradient back to 28 × 28: 0.25 → 0.16 ms).
 */
export function copyRun(
  x: tf.TypedArray,
  from: number,
  out: tf.TypedArray,
  to: number,
  n: number,
): void {
  if (n >= SHORT_RUN) out.set(x.subarray(from, from + n), to);
  else for (let i = 0; i < n; i++) out[to + i] = x[from + i];
}

/** `out[from … to) = value`, by a plain loop when short (see `copyRun`). */
export function fillRun(out: tf.TypedArray, value: number, from: number, to: number): void {
  if (to - from >= SHORT_RUN) out.fill(value, from, to);
  else for (let i = from; i < to; i++) out[i] = value;
}

const SHORT_RUN = 64;

/**
 * A kernel in place of the backend's own (`stock`, kept for `stockKernel`),
 * which `run` hands what it does not take: `stock.kernelFunc(args)`.
 */
export function wrapStock(
  kernelName: string,
  backendName: string,
  stock: tf.KernelConfig | undefined,
  run: (args: Parameters<tf.KernelFunc>[0], stock: tf.KernelConfig) => Info | Info[],
): tf.KernelConfig {
  if (stock == null) throw new Error(`advkit: ${kernelName} has no ${backendName} kernel to wrap`);
  return {
    kernelName,
    backendName,
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => run(args, stock),
  };
}

/**
 * A kernel on `x` that copies values on the wasm heap (`run`), in place of
 * the backend's `stock` kernel, which still takes strings, scalars and
 * backends without a heap.
 */
export function heapCopyKernel(
  kernelName: string,
  backendName: string,
  stock: tf.KernelConfig | undefined,
  run: (x: Info, attrs: tf.NamedAttrMap, heap: HeapViews) => Info,
): tf.KernelConfig {
  return wrapStock(kernelName, backendName, stock, (args, stock) => {
    const { x } = args.inputs as { x: Info };
    const heap = heapViews(args.backend);
    if (x.dtype === 'string' || x.shape.length === 0 || heap == null) return stock.kernelFunc(args);
    return run(x, args.attrs ?? {}, heap);
  });
}
