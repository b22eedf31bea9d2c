/**
 * A convolution's input gradient from an output gradient that is mostly
 * zeros. A 2×2 max pool passes each of its gradients to one position of its
 * window, so at most a quarter of the gradient of the convolution below it
 * is nonzero, fewer behind a ReLU; XNNPACK's dense convolution multiplies
 * every zero. When `dy` is sparse enough, each nonzero is instead scattered
 * through the filter (SIMD kernel `sparse_conv_input_grad`, one thread).
 * The nonzeros are counted first (one SIMD pass over `dy`, 0.07 ms for the
 * MNIST CNN's 64 × 10 × 10 × 64), then a cost model picks the route. The
 * routes round differently and the count is the whole batch's, so an
 * example's gradient can differ in its last bits with the batch around it.
 * Zeros of `dy` are skipped, so a NaN or infinite weight reaches only the
 * positions a nonzero reads (the dense route also spreads 0 · ∞ = NaN).
 */
import type * as tf from '@tensorflow/tfjs';
import { heapViews, type Info, type KernelRunner } from './kernel-util.js';
import { simdKernels } from './simd/index.js';
import { rotatedFilter } from './transposed-conv.js';

/**
 * Nanoseconds on a 2-core AMD EPYC, fitted on 3×3 convolutions from
 * 12 × 12 × 32 → 64 to 56 × 56 × 64 → 128 at 15–50 % nonzeros
 * (`npm run bench:kernels` times the two routes side by side): per
 * multiply-add of the dense route on one XNNPACK thread (it scales with
 * threads; the scatter runs on one), per multiply-add of the scatter, per
 * (output position, tap, 32 input channels) of the scatter, and per value
 * of `dy` scanned for nonzeros.
 */
const NS = { denseMac: 0.056, sparseMac: 0.075, sparseTap: 8, scan: 1 };
/**
 * The routes sum in different orders, so the choice must not depend on the
 * thread count: gradients are bit-identical on 1 and 2 XNNPACK threads. It
 * is made for 2, which leaves some of the scatter's wins on one thread.
 */
export const ROUTE_THREADS = 2;
/** The scatter must be expected to win by this much (the fit is rough). */
export const MARGIN = 0.85;

let mode: 'auto' | 'always' | 'never' = 'auto';

/**
 * When to scatter: by the cost model (`auto`, the default), whenever the
 * kernel can (`always`), or `never`. For tests and benchmarks.
 */
export function useSparseInputGradients(m: 'auto' | 'always' | 'never'): void {
  mode = m;
}

/**
 * Expected nanoseconds of the two routes for a gradient with `nonzero`
 * nonzeros. The dense route is a stride-1 convolution over every input
 * position (by phases when strided), each with all its taps over all
 * output channels.
 */
export function routeCosts(
  info: tf.backend_util.Conv2DInfo,
  nonzero: number,
  threads = ROUTE_THREADS,
): { dense: number; scatter: number } {
  const { batchSize: nb, inHeight: ih, inWidth: iw, inChannels: ci, outChannels: co } = info;
  const taps = info.filterHeight * info.filterWidth;
  const positions = nb * info.outHeight * info.outWidth;
  return {
    dense:
      (NS.denseMac * nb * ih * iw * co * taps * ci) /
      (info.strideHeight * info.strideWidth * threads ** 0.9),
    scatter:
      NS.sparseTap * positions * taps * Math.ceil(ci / 32) +
      NS.scan * positions * co +
      NS.sparseMac * nonzero * taps * ci,
  };
}

/** `dx` by scatter, or undefined when the dense convolution is expected to be faster. */
export function inputGradientFromSparse(
  r: KernelRunner,
  dy: Info,
  filter: Info,
  info: tf.backend_util.Conv2DInfo,
): Info | undefined {
  const simd = simdKernels(r.backend);
  const heap = heapViews(r.backend);
  if (mode === 'never' || simd == null || heap == null || info.inChannels % 4 !== 0) return;
  if (mode === 'auto') {
    // Even with no nonzeros the scatter would lose: skip the count.
    const floor = routeCosts(info, 0);
    if (floor.scatter >= MARGIN * floor.dense) return;
    const { dense, scatter } = routeCosts(info, simd.countNonzero(dy));
    if (scatter >= MARGIN * dense) return;
  }
  const w = rotatedFilter(r, filter, true);
  const dx = heap.makeOutput(
    [info.batchSize, info.inHeight, info.inWidth, info.inChannels],
    'float32',
  );
  const list = heap.makeOutput([2 * info.outChannels], 'float32');
  simd.sparseConvInputGrad(dy, w.value, dx, list, info);
  r.free(list);
  if (w.owned) r.free(w.value);
  return dx;
}
