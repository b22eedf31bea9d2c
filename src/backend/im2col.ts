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

/** At or below this many input channels the product route is faster. */
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

/**
 * Copy between an image and its unrolled windows, tap by tap: `toCols`
 * writes `cols[n, oy, ox, i, j, c] = x[n, y, x, c]`, otherwise
 * `x[n, y, x, c] += cols[…]`, for every window position inside the image.
 * The valid output ranges are computed once per tap, so the inner loop has
 * no bounds checks (and no callback: this is the whole cost of the kernel).
 */
function copyTaps(
  image: Float32Array,
  cols: Float32Array,
  info: tf.backend_util.Conv2DInfo,
  toCols: boolean,
): void {
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const taps = fh * fw * ci;
  const inStep = sw * ci;
  for (let i = 0; i < fh; i++) {
    const [oy0, oy1] = validRange(i, dh, sh, top, h, oh);
    for (let j = 0; j < fw; j++) {
      const [ox0, ox1] = validRange(j, dw, sw, left, w, ow);
      const tap = (i * fw + j) * ci;
      for (let n = 0; n < nb; n++) {
        for (let oy = oy0; oy < oy1; oy++) {
          let at = ((n * h + oy * sh - top + i * dh) * w + ox0 * sw - left + j * dw) * ci;
          let col = ((n * oh + oy) * ow + ox0) * taps + tap;
          if (toCols) {
            for (let ox = ox0; ox < ox1; ox++, at += inStep, col += taps)
              for (let c = 0; c < ci; c++) cols[col + c] = image[at + c];
          } else {
            for (let ox = ox0; ox < ox1; ox++, at += inStep, col += taps)
              for (let c = 0; c < ci; c++) image[at + c] += cols[col + c];
          }
        }
      }
    }
  }
}

/** `cols[n, oy, ox, i, j, c] = x[n, oy·sh − top + i·dh, ox·sw − left + j·dw, c]`, 0 outside. */
export function im2col(x: Float32Array, info: tf.backend_util.Conv2DInfo, cols: Float32Array) {
  cols.fill(0);
  copyTaps(x, cols, info, true);
  return cols;
}

/** `dx[n, y, x, c] = Σ cols[n, oy, ox, i, j, c]` over windows covering (y, x). */
export function col2im(cols: Float32Array, info: tf.backend_util.Conv2DInfo, dx: Float32Array) {
  dx.fill(0);
  copyTaps(dx, cols, info, false);
  return dx;
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
  const heap = heapViews(r.backend);
  let cols: Info;
  if (heap != null) {
    cols = heap.makeOutput([1, rows, taps], 'float32');
    im2col(heap.view(x), info, heap.view(cols));
  } else {
    cols = r.write(im2col(r.read(x), info, new Float32Array(rows * taps)), [1, rows, taps]);
  }
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
  const shape = [nb, info.inHeight, info.inWidth, info.inChannels];
  const heap = heapViews(r.backend);
  if (heap != null) {
    const out = heap.makeOutput(shape, 'float32');
    col2im(heap.view(cols), info, heap.view(out));
    r.free(cols);
    return out;
  }
  const dx = col2im(r.read(cols), info, new Float32Array(shape.reduce((p, d) => p * d, 1)));
  r.free(cols);
  return r.write(dx, shape);
}
