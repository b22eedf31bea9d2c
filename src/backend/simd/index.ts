/**
 * advkit's SIMD kernels (`kernels.wat`), instantiated once per wasm backend
 * on the backend's own memory, so they read and write tensors in place.
 * Streaming elementwise work in plain JS runs at 2–4 ns per element on
 * activations that are not in cache, slower than TF.js's own wasm ops; the
 * same loops in 128-bit SIMD run at under 1 ns. Undefined (and every caller
 * keeps its plain-JS path) when the backend is not wasm or the runtime has no
 * wasm SIMD.
 */
import type * as tf from '@tensorflow/tfjs';
import { heapViews, type Info } from '../kernel-util.js';
import { wasmMemory } from '../wasm-threads.js';
import { SHARED_MEMORY, UNSHARED_MEMORY } from './kernels-wasm.js';

interface Exports {
  clip_grad(
    dy: number,
    x: number,
    dx: number,
    n: number,
    lo: number,
    hi: number,
    open: number,
  ): void;
  max_pool_grad_2x2(
    x: number,
    dy: number,
    y: number,
    dx: number,
    nb: number,
    h: number,
    w: number,
    c: number,
    oh: number,
    ow: number,
  ): void;
  max_pool_grad_windows(...args: number[]): void;
  sum_rows(x: number, out: number, rows: number, width: number): void;
  move_blocks(
    src: number,
    dst: number,
    batches: number,
    rows: number,
    runs: number,
    len: number,
    srcBatch: number,
    srcRow: number,
    srcRun: number,
    dstBatch: number,
    dstRow: number,
    dstRun: number,
    add: number,
  ): void;
  sign(x: number, out: number, n: number): void;
  count_nonzero(x: number, n: number): number;
  min_max(a: number, b: number, out: number, n: number, max: number): void;
  clamp(x: number, out: number, n: number, lo: number, hi: number): void;
  sparse_conv_input_grad(...args: number[]): void;
}

export interface SimdKernels {
  /** `dx = dy` where `lo ≤ x ≤ hi` (`lo < x` when `open`), else 0; NaN x gives 0. */
  clipGrad(dy: Info, x: Info, dx: Info, lo: number, hi: number, open: boolean): void;
  /** MaxPoolGrad, 2×2 windows, stride 2, no padding, channels a multiple of 4. */
  maxPoolGrad2x2(x: Info, dy: Info, y: Info, dx: Info, info: tf.backend_util.Conv2DInfo): void;
  /**
   * MaxPoolGrad for any window, stride and padding (no dilation), channels a
   * multiple of 4; adds into `dx`, which the caller zeroes.
   */
  maxPoolGradWindows(x: Info, dy: Info, y: Info, dx: Info, info: tf.backend_util.Conv2DInfo): void;
  /** `out[j] = Σ_r x[r·width + j]`, width a multiple of 4. */
  sumRows(x: Info, out: Info, rows: number, width: number): void;
  /**
   * For each of `batches × rows × runs` blocks of `len` floats, `dst = src`,
   * or `dst += src` when `add`; offsets and strides are in floats.
   */
  moveBlocks(
    src: Info,
    srcAt: number,
    dst: Info,
    dstAt: number,
    block: BlockShape,
    add: boolean,
  ): void;
  /** `out = sign(x)`: 1, −1, or 0 for 0, −0 and NaN. */
  sign(x: Info, out: Info): void;
  /** `out = min(a, b)` (or max) elementwise, same shapes: NaN if either is, −0 < +0. */
  minMax(a: Info, b: Info, out: Info, max: boolean): void;
  /** `out = clip(x, lo, hi)`, NaN and −0 kept (the cpu backend's ClipByValue). */
  clamp(x: Info, out: Info, lo: number, hi: number): void;
  /** How many values of `x` are not 0 (NaN counts, −0 does not). */
  countNonzero(x: Info): number;
  /**
   * A convolution's input gradient `dx` by scattering each nonzero of `dy`
   * through the filter (`wSwapped`: `rotatedFilter(…, true)`, in channels a
   * multiple of 4); `list` is scratch for 2 × outChannels values.
   */
  sparseConvInputGrad(
    dy: Info,
    wSwapped: Info,
    dx: Info,
    list: Info,
    info: tf.backend_util.Conv2DInfo,
  ): void;
}

export interface BlockShape {
  /** 1 when absent. */
  batches?: number;
  rows: number;
  runs: number;
  len: number;
  srcBatch?: number;
  srcRow: number;
  srcRun: number;
  dstBatch?: number;
  dstRow: number;
  dstRun: number;
}

/** `moveBlocks` in plain JS, on value arrays: the path without wasm SIMD. */
export function moveBlocksPlain(
  src: Float32Array,
  srcAt: number,
  dst: Float32Array,
  dstAt: number,
  b: BlockShape,
  add: boolean,
): void {
  for (let m = 0; m < (b.batches ?? 1); m++) {
    for (let row = 0; row < b.rows; row++) {
      let s = srcAt + m * (b.srcBatch ?? 0) + row * b.srcRow;
      let d = dstAt + m * (b.dstBatch ?? 0) + row * b.dstRow;
      for (let k = 0; k < b.runs; k++, s += b.srcRun, d += b.dstRun) {
        if (add) for (let c = 0; c < b.len; c++) dst[d + c] += src[s + c];
        else for (let c = 0; c < b.len; c++) dst[d + c] = src[s + c];
      }
    }
  }
}

const instances = new WeakMap<object, SimdKernels | null>();
let enabled = true;

/**
 * Turn the SIMD kernels off (or back on) for this process: tests use it to
 * check the plain-JS paths against them.
 */
export function useSimdKernels(on: boolean): void {
  enabled = on;
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const text = atob(b64);
  const bytes = new Uint8Array(new ArrayBuffer(text.length));
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function instantiate(backend: object): SimdKernels | null {
  const memory = wasmMemory(backend);
  const heap = heapViews(backend);
  if (memory == null || heap == null) return null;
  const shared =
    typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  let k: Exports;
  try {
    const module = new WebAssembly.Module(decode(shared ? SHARED_MEMORY : UNSHARED_MEMORY));
    k = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Exports;
  } catch {
    return null; // no wasm SIMD here: the plain-JS paths run instead
  }
  const at = (t: Info) => heap.view(t).byteOffset;
  const count = (t: Info) => t.shape.reduce((a, b) => a * b, 1);
  return {
    clipGrad(dy, x, dx, lo, hi, open) {
      const n = count(x);
      k.clip_grad(at(dy), at(x), at(dx), n, lo, hi, open ? 1 : 0);
    },
    maxPoolGrad2x2(x, dy, y, dx, i) {
      k.max_pool_grad_2x2(
        at(x),
        at(dy),
        at(y),
        at(dx),
        i.batchSize,
        i.inHeight,
        i.inWidth,
        i.inChannels,
        i.outHeight,
        i.outWidth,
      );
    },
    maxPoolGradWindows(x, dy, y, dx, i) {
      k.max_pool_grad_windows(
        at(x),
        at(dy),
        at(y),
        at(dx),
        i.batchSize,
        i.inHeight,
        i.inWidth,
        i.inChannels,
        i.outHeight,
        i.outWidth,
        i.filterHeight,
        i.filterWidth,
        i.strideHeight,
        i.strideWidth,
        i.padInfo.top,
        i.padInfo.left,
      );
    },
    sumRows(x, out, rows, width) {
      k.sum_rows(at(x), at(out), rows, width);
    },
    moveBlocks(src, srcAt, dst, dstAt, b, add) {
      k.move_blocks(
        at(src) + 4 * srcAt,
        at(dst) + 4 * dstAt,
        b.batches ?? 1,
        b.rows,
        b.runs,
        4 * b.len,
        4 * (b.srcBatch ?? 0),
        4 * b.srcRow,
        4 * b.srcRun,
        4 * (b.dstBatch ?? 0),
        4 * b.dstRow,
        4 * b.dstRun,
        add ? 1 : 0,
      );
    },
    sign(x, out) {
      k.sign(at(x), at(out), count(x));
    },
    minMax(a, b, out, max) {
      k.min_max(at(a), at(b), at(out), count(a), max ? 1 : 0);
    },
    clamp(x, out, lo, hi) {
      k.clamp(at(x), at(out), count(x), lo, hi);
    },
    countNonzero(x) {
      return k.count_nonzero(at(x), count(x));
    },
    sparseConvInputGrad(dy, wSwapped, dx, list, i) {
      k.sparse_conv_input_grad(
        at(dy),
        at(wSwapped),
        at(dx),
        at(list),
        i.batchSize,
        i.outHeight,
        i.outWidth,
        i.outChannels,
        i.inHeight,
        i.inWidth,
        i.inChannels,
        i.filterHeight,
        i.filterWidth,
        i.strideHeight,
        i.strideWidth,
        i.dilationHeight,
        i.dilationWidth,
        i.padInfo.top,
        i.padInfo.left,
      );
    },
  };
}

/** The SIMD kernels on `backend`, or undefined (not wasm, no SIMD, or turned off). */
export function simdKernels(backend: object): SimdKernels | undefined {
  if (!enabled) return undefined;
  let k = instances.get(backend);
  if (k === undefined) {
    k = instantiate(backend);
    instances.set(backend, k);
  }
  return k ?? undefined;
}
