/**
 * Antialiased bilinear resizing exactly as PIL does it (browser-safe), so that
 * a photo resized here equals the same photo through torchvision's
 * `Resize(…)` on a PIL image (its default path, the one `ImageFolder` takes).
 *
 * PIL's BILINEAR is a triangle filter whose support widens with the scale
 * factor when shrinking (so every input pixel contributes: no aliasing), run
 * as two separable passes, horizontal first. Coefficients are rounded to
 * 22-bit fixed point and each pass rounds to 8 bits, as PIL's 8-bit path
 * does (Pillow's `Resample.c`: `precompute_coeffs`, `normalize_coeffs_8bpc`,
 * `ImagingResampleHorizontal_8bpc` / `Vertical_8bpc`); matching that rounding
 * makes the result bit-identical, not merely close.
 */
import { InputError } from '../errors.js';
import { checkImage8, type Image8 } from './image.js';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);
const MAX = 255 * ONE + (ONE - 1);

/** PIL's bilinear (triangle) filter, support 1. */
const triangle = (x: number): number => {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
};

interface Coefficients {
  /** First input index of each output's window. */
  start: Int32Array;
  /** Window length per output. */
  length: Int32Array;
  /** `ksize` fixed-point weights per output. */
  weights: Int32Array;
  ksize: number;
}

/** The filter windows and their fixed-point weights for one axis, as PIL computes them. */
function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle's support (1) × the scale
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const length = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    // C's (int) truncates toward zero; the clamp makes the sign moot.
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    let sum = 0;
    for (let i = 0; i < hi - lo; i++) {
      w[i] = triangle((i + lo - center + 0.5) / filterScale);
      sum += w[i];
    }
    for (let i = 0; i < hi - lo; i++) {
      const v = sum !== 0 ? w[i] / sum : w[i];
      // The triangle is never negative, so PIL's rounding is (int)(0.5 + v·2^22).
      weights[o * ksize + i] = Math.trunc(0.5 + v * ONE);
    }
    start[o] = lo;
    length[o] = hi - lo;
  }
  return { start, length, weights, ksize };
}

/** Fixed point back to 8 bits, clamped: PIL's clip8. */
const clip8 = (acc: number): number => (acc <= 0 ? 0 : acc >= MAX ? 255 : Math.floor(acc / ONE));

function horizontal(img: Image8, outW: number): Image8 {
  const { width: w, height: h, channels: c, data } = img;
  const k = coefficients(w, outW);
  const out = new Uint8Array(outW * h * c);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < outW; x++) {
      const s = k.start[x];
      const n = k.length[x];
      const kk = x * k.ksize;
      for (let ch = 0; ch < c; ch++) {
        let acc = HALF;
        for (let i = 0; i < n; i++) acc += data[row + (s + i) * c + ch] * k.weights[kk + i];
        out[(y * outW + x) * c + ch] = clip8(acc);
      }
    }
  }
  return { width: outW, height: h, channels: c, data: out };
}

function vertical(img: Image8, outH: number): Image8 {
  const { width: w, height: h, channels: c, data } = img;
  const k = coefficients(h, outH);
  const stride = w * c;
  const out = new Uint8Array(w * outH * c);
  for (let y = 0; y < outH; y++) {
    const s = k.start[y];
    const n = k.length[y];
    const kk = y * k.ksize;
    for (let j = 0; j < stride; j++) {
      let acc = HALF;
      for (let i = 0; i < n; i++) acc += data[(s + i) * stride + j] * k.weights[kk + i];
      out[y * stride + j] = clip8(acc);
    }
  }
  return { width: w, height: outH, channels: c, data: out };
}

/**
 * `img` resized to `width` × `height` with PIL's antialiased bilinear filter
 * (`Image.resize(size, Image.BILINEAR)`); a pass whose size does not change
 * is skipped, as PIL skips it.
 */
export function resizeBilinear(img: Image8, width: number, height: number): Image8 {
  checkImage8(img, 'resizeBilinear');
  if (![width, height].every((d) => Number.isInteger(d) && d > 0)) {
    throw new InputError(
      'INVALID_OPTION',
      `resizeBilinear: width and height must be positive integers; received ${width}×${height}`,
    );
  }
  const across = width !== img.width ? horizontal(img, width) : img;
  return height !== img.height ? vertical(across, height) : across;
}

/**
 * torchvision's `Resize(size)` output size for an image `width` × `height`:
 * the shorter side becomes `size` and the longer `int(size · long / short)`
 * (truncated, as torchvision does), keeping the aspect ratio.
 */
export function shorterSideSize(
  width: number,
  height: number,
  size: number,
): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.trunc((size * height) / width) };
  return { width: Math.trunc((size * width) / height), height: size };
}
