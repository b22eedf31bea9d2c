/**
 * The input gradient of a convolution as a forward convolution.
 *
 * With stride s, dilation d, filter size F and top padding p,
 * `dx[i] = Σ_o Σ_f dy[o]·w[f]·[i = o·s − p + f·d]`. Spreading `dy` with s − 1
 * zeros between rows/columns (`dy'[o·s] = dy[o]`) turns this into a stride-1
 * convolution of `dy'`, padded by `(F − 1)·d − p` on top, with the filter
 * rotated by 180° and dilation d — which XNNPACK's forward kernels compute
 * far faster than TF.js's wasm `Conv2DBackpropInput` loop.
 */
import type * as tf from '@tensorflow/tfjs';
import { derived } from './derived-cache.js';
import { heapViews, type Info, type KernelRunner, type Pads, spatialPads } from './kernel-util.js';
import { moveBlocksPlain, simdKernels } from './simd/index.js';

/**
 * `dy` spread by the strides, plus the explicit padding the stride-1 forward
 * convolution needs so that its output has the input's height and width.
 * Negative pads (explicit pads larger than a filter) are cropped here, so the
 * returned pads are never negative. `owned` says whether `x` is new.
 */
export function spreadForTransposedConv(
  r: KernelRunner,
  dy: Info,
  info: tf.backend_util.Conv2DInfo,
): { x: Info; pads: Pads; owned: boolean } {
  const { strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow } = info;
  const [n, , , c] = dy.shape;
  let x = dy;
  if (sh > 1 || sw > 1) {
    const r6 = r.reshape(dy, [n, oh, 1, ow, 1, c]);
    const zeros = [
      [0, 0],
      [0, 0],
      [0, sh - 1],
      [0, 0],
      [0, sw - 1],
      [0, 0],
    ];
    const padded = r.runAndFree('PadV2', { x: r6 }, { paddings: zeros, constantValue: 0 }, [r6]);
    x = r.reshape(padded, [n, oh * sh, ow * sw, c]);
    r.free(padded);
  }
  // Spread height is oh·sh (the last sh − 1 rows are zeros); the padded
  // height must be inHeight + effectiveFilterHeight − 1.
  const top = info.effectiveFilterHeight - 1 - info.padInfo.top;
  const left = info.effectiveFilterWidth - 1 - info.padInfo.left;
  const bottom = info.inHeight + info.effectiveFilterHeight - 1 - top - oh * sh;
  const right = info.inWidth + info.effectiveFilterWidth - 1 - left - ow * sw;
  const pads = spatialPads(top, bottom, left, right);
  if (pads.some(([a, b]) => a < 0 || b < 0)) {
    const cropOnly = pads.map(([a, b]) => [Math.min(a, 0), Math.min(b, 0)]) as Pads;
    const cropped = r.padOrCrop(x, cropOnly);
    if (x !== dy) r.free(x);
    x = cropped;
  }
  const positive = pads.map(([a, b]) => [Math.max(a, 0), Math.max(b, 0)]) as Pads;
  return { x, pads: positive, owned: x !== dy };
}

/**
 * The filter rotated by 180° in H and W, with its two channel axes swapped
 * when `swapChannels` ([fh, fw, ci, co] → [fh, fw, co, ci]), computed once
 * per filter tensor (see `derived-cache.ts`). Filters are small, so this is
 * a plain loop; TF.js's wasm `Reverse` alone takes as long as a 64-example
 * max-pool. The result belongs to the cache unless `owned`.
 */
export function rotatedFilter(
  r: KernelRunner,
  filter: Info,
  swapChannels: boolean,
): { value: Info; owned: boolean } {
  return derived(r.backend, swapChannels ? 'rot180-swap' : 'rot180', filter, () => {
    const [fh, fw, ci, co] = filter.shape;
    const w = r.read(filter);
    const out = new Float32Array(w.length);
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        const from = ((fh - 1 - i) * fw + (fw - 1 - j)) * ci * co;
        const to = (i * fw + j) * ci * co;
        if (!swapChannels) {
          out.set(w.subarray(from, from + ci * co), to);
          continue;
        }
        for (let c = 0; c < ci; c++)
          for (let o = 0; o < co; o++) out[to + o * ci + c] = w[from + c * co + o];
      }
    }
    return r.write(out, swapChannels ? [fh, fw, co, ci] : [fh, fw, ci, co]);
  });
}

/**
 * The first output index and the end of the range whose positions
 * `m·stride + phase − pad` (m from `mLo`) fall inside `[0, size)`.
 */
function phaseRange(phase: number, stride: number, pad: number, size: number, mLo: number) {
  const first = Math.max(0, Math.ceil((pad - phase) / stride) - mLo);
  const end = Math.floor((size - 1 + pad - phase) / stride) + 1 - mLo;
  return [first, Math.max(first, end)] as const;
}

/**
 * `Conv2DBackpropInput` for a strided convolution by phases. With stride s
 * the spread output gradient is ¾ zeros (s = 2), and the convolution above
 * multiplies them all. Instead, split the input positions by their phase
 * `(i + pad) mod s`: the positions of one phase receive only the filter taps
 * of that phase, `dx[m·s + r − p] = Σ_t dy[m − t]·w[r + t·s]`, a stride-1
 * convolution of the unspread `dy` with that phase's sub-filter (rotated,
 * channels swapped; for a depthwise convolution with multiplier 1, a
 * depthwise sub-filter). s² small convolutions do the work of one; one pass
 * interleaves their outputs into `dx`. Needs the wasm heap; undefined elsewhere.
 */
export function inputGradientByPhases(
  r: KernelRunner,
  dy: Info,
  filter: Info,
  info: tf.backend_util.Conv2DInfo,
  depthwise = false,
): Info | undefined {
  const heap = heapViews(r.backend);
  if (heap == null) return undefined;
  const { batchSize: nb, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const mLoH = Math.floor(top / sh);
  const mLoW = Math.floor(left / sw);
  const mH = Math.ceil((h + top) / sh) - mLoH;
  const mW = Math.ceil((w + left) / sw) - mLoW;
  const phases: { rh: number; rw: number; z: Info }[] = [];
  for (let rh = 0; rh < sh; rh++) {
    for (let rw = 0; rw < sw; rw++) {
      if (rh >= fh || rw >= fw) continue;
      // XNNPACK's depthwise kernels are fast for 2×2 or 3×3 windows but not
      // 2×1 (16 ms against 1.3 ms for a 64 × 56 × 56 × 96 gradient): every
      // depthwise phase gets the largest phase's window, its missing taps 0.
      const th = Math.ceil((fh - (depthwise ? 0 : rh)) / sh);
      const tw = Math.ceil((fw - (depthwise ? 0 : rw)) / sw);
      const sub = phaseFilter(r, filter, { sh, sw, rh, rw, th, tw }, depthwise);
      // Output m runs over [mLo, mLo + M): dy rows mLo − (th − 1) … mLo + M − 1.
      const pads = spatialPads(th - 1 - mLoH, mLoH + mH - oh, tw - 1 - mLoW, mLoW + mW - ow);
      const cropped = r.padOrCrop(
        dy,
        pads.map(([a, b]) => [Math.min(a, 0), Math.min(b, 0)]) as Pads,
      );
      const z = r.run(
        depthwise ? 'DepthwiseConv2dNative' : 'Conv2D',
        { x: cropped, filter: sub.value },
        {
          strides: 1,
          pad: pads.map(([a, b]) => [Math.max(a, 0), Math.max(b, 0)]),
          dataFormat: 'NHWC',
          dilations: 1,
        },
      );
      if (cropped !== dy) r.free(cropped);
      if (sub.owned) r.free(sub.value);
      phases.push({ rh, rw, z });
    }
  }
  const out = heap.makeOutput([nb, h, w, ci], 'float32');
  if (phases.length < sh * sw) heap.view(out).fill(0);
  const simd = simdKernels(r.backend);
  for (const { rh, rw, z } of phases) {
    const [y0, y1] = phaseRange(rh, sh, top, h, mLoH);
    const [x0, x1] = phaseRange(rw, sw, left, w, mLoW);
    if (y1 > y0 && x1 > x0) {
      // z[n, my, mx, :] → dx[n, (my + mLoH)·sh + rh − top, (mx + mLoW)·sw + rw − left, :]
      const dstAt = ((y0 + mLoH) * sh + rh - top) * w * ci + ((x0 + mLoW) * sw + rw - left) * ci;
      const srcAt = (y0 * mW + x0) * ci;
      const block = {
        batches: nb,
        rows: y1 - y0,
        runs: x1 - x0,
        len: ci,
        srcBatch: mH * mW * ci,
        srcRow: mW * ci,
        srcRun: ci,
        dstBatch: h * w * ci,
        dstRow: sh * w * ci,
        dstRun: sw * ci,
      };
      if (simd != null) simd.moveBlocks(z, srcAt, out, dstAt, block, false);
      else moveBlocksPlain(heap.view(z), srcAt, heap.view(out), dstAt, block, false);
    }
    r.free(z);
  }
  return out;
}

/**
 * Phase (rh, rw)'s taps of a [fh, fw, ci, co] filter, rotated and with
 * channels swapped: `k[u, v, o, c] = w[rh + (th−1−u)·sh, rw + (tw−1−v)·sw, c, o]`.
 * A depthwise filter [fh, fw, c, 1] keeps its channels: `k[u, v, c, 0]`.
 * Taps beyond the filter (a window larger than the phase's) are 0.
 */
function phaseFilter(
  r: KernelRunner,
  filter: Info,
  p: { sh: number; sw: number; rh: number; rw: number; th: number; tw: number },
  depthwise: boolean,
): { value: Info; owned: boolean } {
  const { sh, sw, rh, rw, th, tw } = p;
  const key = `phase-${depthwise ? 'dw-' : ''}${sh}x${sw}-${rh},${rw}`;
  return derived(r.backend, key, filter, () => {
    const [fh, fw, ci, co] = filter.shape;
    const wv = r.read(filter);
    const k = new Float32Array(th * tw * co * ci);
    for (let u = 0; u < th; u++) {
      for (let v = 0; v < tw; v++) {
        const i = rh + (th - 1 - u) * sh;
        const j = rw + (tw - 1 - v) * sw;
        if (i >= fh || j >= fw) continue; // a padding tap: 0
        const from = (i * fw + j) * ci * co;
        const to = (u * tw + v) * co * ci;
        if (depthwise) k.set(wv.subarray(from, from + ci), to);
        else
          for (let c = 0; c < ci; c++)
            for (let o = 0; o < co; o++) k[to + o * ci + c] = wv[from + c * co + o];
      }
    }
    return r.write(k, depthwise ? [th, tw, ci, 1] : [th, tw, co, ci]);
  });
}
