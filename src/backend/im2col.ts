/**
 * The gradients of a convolution with few input channels (the first layer
 * of an image model: 1 or 3) as matrix products over the unrolled windows
 * ("im2col"): a row per output position, a column per filter tap
 * (i, j, c), `K = fh·fw·ci` columns.
 *
 * - Input gradient: as a forward convolution it would have only `ci`
 *   output channels, where XNNPACK's kernels waste most of their lanes;
 *   instead `cols = dy · Wᵀ` ([n·oh·ow, co] × [co, K], one XNNPACK product)
 *   holds every window's contribution and `col2im` adds each back to the
 *   input position it came from.
 * - Filter gradient: as a forward convolution (batch and channels
 *   exchanged, see `conv2d-backprop-filter.ts`) its "filter" would be the
 *   whole output gradient, an oh × ow window that XNNPACK repacks on every
 *   call; instead `dW = im2col(x)ᵀ · dy` ([K, n·oh·ow] × [n·oh·ow, co]).
 */
import type * as tf from '@tensorflow/tfjs';
import { heapViews, type Info, type KernelRunner } from './kernel-util.js';
import { type BlockShape, moveBlocksPlain, simdKernels } from './simd/index.js';

/**
 * At or below this many input channels the product route is faster: for
 * the input gradient up to 3 (RGB; with SIMD col2im a stride-2 RGB layer
 * took 14 ms against 18 ms as a convolution with 3 output channels, a valid
 * one 2.9 against 4.2, a 'same' stride-1 one the same), for the filter
 * gradient 1 (at 3 the two routes split the same three layers).
 */
export const COL2IM_MAX_CHANNELS = 3;
/** Or with at least this many input positions per output position. */
export const COL2IM_MIN_INPUTS_PER_OUTPUT = 1.6;
export const IM2COL_MAX_CHANNELS = 1;

/**
 * The output positions whose tap (i, j) lands inside the input, as
 * `[first, end)` along one axis: `o·stride − pad + tap·dilation ∈ [0, size)`.
 */
function validRange(
  tap: number,
  dilation: number,
  stride: number,
  pad: number,
  size: number,
  out: number,
) {
  const offset = tap * dilation - pad;
  const first = Math.max(0, Math.ceil(-offset / stride));
  const end = Math.min(out, Math.floor((size - 1 - offset) / stride) + 1);
  return [first, Math.max(first, end)] as const;
}

/** Where tap (i, j)'s values sit in the image and in the columns, as one block set. */
interface TapBlocks {
  imageAt: number;
  colsAt: number;
  block: BlockShape;
}

/**
 * The image ↔ columns copies, tap by tap: `cols[n, oy, ox, i, j, c]` is
 * `x[n, oy·sh − top + i·dh, ox·sw − left + j·dw, c]` for every window
 * position inside the image. The valid output ranges are computed once per
 * tap, so each tap is one strided block copy (`moveBlocks`) without bounds
 * checks. Blocks are written with the image as the source; swap the strides
 * for the other direction (`toImage`).
 */
function tapBlocks(info: tf.backend_util.Conv2DInfo): TapBlocks[] {
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const taps = fh * fw * ci;
  const out: TapBlocks[] = [];
  /** Taps j … j + count − 1 of filter row i, at output columns [ox0, ox1). */
  const push = (
    i: number,
    oy0: number,
    oy1: number,
    j: number,
    count: number,
    ox0: number,
    ox1: number,
  ) => {
    if (oy1 === oy0 || ox1 <= ox0) return;
    out.push({
      imageAt: ((oy0 * sh - top + i * dh) * w + ox0 * sw - left + j * dw) * ci,
      colsAt: (oy0 * ow + ox0) * taps + (i * fw + j) * ci,
      block: {
        batches: nb,
        rows: oy1 - oy0,
        runs: ox1 - ox0,
        len: count * ci,
        srcBatch: h * w * ci,
        srcRow: sh * w * ci,
        srcRun: sw * ci,
        dstBatch: oh * ow * taps,
        dstRow: ow * taps,
        dstRun: taps,
      },
    });
  };
  for (let i = 0; i < fh; i++) {
    const [oy0, oy1] = validRange(i, dh, sh, top, h, oh);
    const ranges = Array.from({ length: fw }, (_, j) => validRange(j, dw, sw, left, w, ow));
    // Without dilation a filter row's taps are adjacent pixels, in the image
    // as in a column row: where all of them are inside, one block of fw·ci
    // values instead of fw blocks of ci. For an RGB image that is a third of
    // the passes over the columns, in blocks of 9 values instead of 3 (the
    // stride-2 stem's input gradient at batch 16: 17.5 → 13 ms); one channel
    // keeps its one-value blocks, which the SIMD kernel moves as fast.
    const [all0, all1] =
      dw === 1 && fw > 1 && ci > 1
        ? [Math.max(...ranges.map((r) => r[0])), Math.min(...ranges.map((r) => r[1]))]
        : [0, 0];
    if (all1 > all0) push(i, oy0, oy1, 0, fw, all0, all1);
    for (let j = 0; j < fw; j++) {
      const [ox0, ox1] = ranges[j];
      if (all1 <= all0) {
        push(i, oy0, oy1, j, 1, ox0, ox1);
        continue;
      }
      push(i, oy0, oy1, j, 1, ox0, Math.min(ox1, all0));
      push(i, oy0, oy1, j, 1, Math.max(ox0, all1), ox1);
    }
  }
  return out;
}

const toImage = (b: BlockShape): BlockShape => ({
  ...b,
  srcBatch: b.dstBatch,
  srcRow: b.dstRow,
  srcRun: b.dstRun,
  dstBatch: b.srcBatch,
  dstRow: b.srcRow,
  dstRun: b.srcRun,
});

/**
 * `toCols`: `cols = im2col(image)` (taps outside the image are 0).
 * Otherwise `image = col2im(cols)`: each window's values added back to the
 * position it came from. On wasm the blocks run in advkit's SIMD kernels,
 * in place on the heap (the plain loop costs 4 ns per value); elsewhere in
 * `moveBlocksPlain`. Returns the new tensor (`cols` of shape `colsShape`,
 * or the image).
 */
function unroll(
  r: KernelRunner,
  from: Info,
  info: tf.backend_util.Conv2DInfo,
  toCols: boolean,
  colsShape: number[],
): Info {
  const imageShape = [info.batchSize, info.inHeight, info.inWidth, info.inChannels];
  const shape = toCols ? colsShape : imageShape;
  const blocks = tapBlocks(info);
  const heap = heapViews(r.backend);
  const simd = simdKernels(r.backend);
  if (heap != null && simd != null) {
    const out = heap.makeOutput(shape, 'float32');
    heap.view(out).fill(0);
    for (const { imageAt, colsAt, block } of blocks) {
      if (toCols) simd.moveBlocks(from, imageAt, out, colsAt, block, false);
      else simd.moveBlocks(from, colsAt, out, imageAt, toImage(block), true);
    }
    return out;
  }
  const src = r.read(from);
  const dst = new Float32Array(shape.reduce((p, d) => p * d, 1));
  for (const { imageAt, colsAt, block } of blocks) {
    if (toCols) moveBlocksPlain(src, imageAt, dst, colsAt, block, false);
    else moveBlocksPlain(src, colsAt, dst, imageAt, toImage(block), true);
  }
  return r.write(dst, shape);
}

/** `Conv2DBackpropFilter` (NHWC) as `im2col(x)ᵀ · dy`. */
export function filterGradientByIm2col(
  r: KernelRunner,
  x: Info,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
): Info {
  const { batchSize: nb, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, inChannels: ci } = info;
  const rows = nb * oh * ow;
  const taps = fh * fw * ci;
  const cols = unroll(r, x, info, true, [1, rows, taps]);
  const a = r.reshape(dy, [1, rows, co]);
  const dwT = r.run('BatchMatMul', { a, b: cols }, { transposeA: true, transposeB: false });
  r.free(cols, a);
  const dw = r.runAndFree('Transpose', { x: dwT }, { perm: [0, 2, 1] }, [dwT]);
  const out = r.reshape(dw, [fh, fw, ci, co]);
  r.free(dw);
  return out;
}

/** `Conv2DBackpropInput` (NHWC) through `dy · Wᵀ` and `col2im`. */
export function inputGradientByCol2im(
  r: KernelRunner,
  dy: Info,
  filter: Info,
  info: tf.backend_util.Conv2DInfo,
): Info {
  const { batchSize: nb, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  const a = r.reshape(dy, [1, nb * oh * ow, co]);
  const b = r.reshape(filter, [1, taps, co]);
  const cols = r.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: true });
  r.free(a, b);
  const dx = unroll(r, cols, info, false, []);
  r.free(cols);
  return dx;
}
