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
  sum_rows(x: number, out: number, rows: number, width: number): void;
  copy_blocks(
    src: number,
    dst: number,
    rows: number,
    runs: number,
    len: number,
    srcRow: number,
    srcRun: number,
    dstRow: number,
    dstRun: number,
  ): void;
}

export interface SimdKernels {
  /** `dx = dy` where `lo ≤ x ≤ hi` (`lo < x` when `open`), else 0; NaN x gives 0. */
  clipGrad(dy: Info, x: Info, dx: Info, lo: number, hi: number, open: boolean): void;
  /** MaxPoolGrad, 2×2 windows, stride 2, no padding, channels a multiple of 4. */
  maxPoolGrad2x2(x: Info, dy: Info, y: Info, dx: Info, info: tf.backend_util.Conv2DInfo): void;
  /** `out[j] = Σ_r x[r·width + j]`, width a multiple of 4. */
  sumRows(x: Info, out: Info, rows: number, width: number): void;
  /**
   * Copy `rows × runs` blocks of `len` floats (a multiple of 4) from `src`
   * to `dst`; offsets and strides are in floats.
   */
  copyBlocks(src: Info, srcAt: number, dst: Info, dstAt: number, block: BlockShape): void;
}

export interface BlockShape {
  rows: number;
  runs: number;
  len: number;
  srcRow: number;
  srcRun: number;
  dstRow: number;
  dstRun: number;
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
  return {
    clipGrad(dy, x, dx, lo, hi, open) {
      const n = x.shape.reduce((a, b) => a * b, 1);
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
    sumRows(x, out, rows, width) {
      k.sum_rows(at(x), at(out), rows, width);
    },
    copyBlocks(src, srcAt, dst, dstAt, b) {
      k.copy_blocks(
        at(src) + 4 * srcAt,
        at(dst) + 4 * dstAt,
        b.rows,
        b.runs,
        4 * b.len,
        4 * b.srcRow,
        4 * b.srcRun,
        4 * b.dstRow,
        4 * b.dstRun,
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
