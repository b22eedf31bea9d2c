/**
 * The one place advkit's custom kernels and gradients are registered.
 * Each kernel or gradient lives in its own file beside this one.
 *
 * wasm: Conv2DBackpropInput (fast), Conv2DBackpropFilter and the two
 * depthwise backprop kernels (missing in TF.js 4.22), MaxPoolGrad (correct),
 * DepthToSpace (fast), Identity and same-dtype Cast (no copy), Sum over
 * leading axes (bias gradients, fast), Slice (no copy of the whole input),
 * PadV2 (one pass), SplitV (through that Slice), Tile (block copies),
 * Minimum and Maximum (SIMD), ClipByValue of small tensors (SIMD), the
 * comparison, logical, pow, floor-division, mod and atan2 kernels with a
 * broadcast operand (tiled first), BatchMatMul and _FusedMatMul with
 * transposed operands (fast), Sign (SIMD, and the cpu backend's values),
 * UnsortedSegmentSum (missing: gather's gradient),
 * the SIMD kernels (src/backend/simd). cpu: Conv2DBackpropFilter (the stock
 * one is ~60× slower than a forward conv), the input-only short cut of the
 * depthwise filter kernel, and dilated depthwise backprops (the stock ones
 * ignore dilation). Every backend present: the FusedBatchNorm gradient, and
 * its kernel wrapped to drop absent scale/offset inputs; the ClipByValue,
 * Relu6 and Relu gradients (one pass on wasm).
 */
import * as tf from '@tensorflow/tfjs';
import { transposeFreeMatMulConfig } from './batch-mat-mul.js';
import { batchNormConfig } from './batch-norm.js';
import { batchNormGradConfig } from './batch-norm-grad.js';
import { SLOW_BROADCAST_KERNELS, tiledBroadcastConfig } from './broadcast.js';
import { clipConfig } from './clip.js';
import {
  clipByValueGradConfig,
  clipGradGradConfig,
  clipGradKernelConfig,
  relu6GradConfig,
  reluGradConfig,
} from './clip-grad.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { depthToSpaceConfig } from './depth-to-space.js';
import { depthwiseBackpropFilterConfig } from './depthwise-backprop-filter.js';
import { depthwiseBackpropInputConfig } from './depthwise-backprop-input.js';
import { foldedConvConfig, foldedConvInputGradConfig } from './folded-conv.js';
import { castConfig, identityConfig } from './identity.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { minMaxConfig } from './min-max.js';
import { padConfig } from './pad.js';
import { signConfig } from './sign.js';
import { sliceConfig } from './slice.js';
import { splitConfig } from './split.js';
import { leadingSumConfig } from './sum.js';
import { tileConfig } from './tile.js';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum.js';

type Factory = (backendName: string, stock: tf.KernelConfig | undefined) => tf.KernelConfig;

const stockKernels = new Map<string, tf.KernelConfig>();
const advkitKernels = new Map<string, tf.KernelConfig>();
let advkitGradients: tf.GradConfig[] = [];
const stockGradients = new Map<string, tf.GradConfig>();
let registered = false;
let inUse: 'advkit' | 'stock' = 'advkit';

/** False while `useKernels('stock')` is in effect. */
export function advkitKernelsInUse(): boolean {
  return inUse === 'advkit';
}

/** Put `make`'s kernel in place of the backend's own (kept for `stockKernel`). */
function override(backendName: string, kernelName: string, make: Factory): void {
  const stock = tf.getKernel(kernelName, backendName);
  if (stock != null) {
    stockKernels.set(`${backendName}_${kernelName}`, stock);
    tf.unregisterKernel(kernelName, backendName);
  }
  const mine = make(backendName, stock);
  advkitKernels.set(`${backendName}_${kernelName}`, mine);
  tf.registerKernel(mine);
}

function swapKernel(config: tf.KernelConfig, key: string): void {
  const [backendName, ...rest] = key.split('_');
  const kernelName = rest.join('_');
  if (tf.getKernel(kernelName, backendName) != null) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel(config);
}

/**
 * Switch between advkit's kernels and gradients and the ones TF.js ships
 * (for benchmarks and for tests that compare against the stock path).
 * Kernels TF.js does not have keep advkit's. Only for comparisons: TF.js
 * 4.22's stock wasm MaxPoolGrad is wrong on
 * all-negative windows and its cpu depthwise backprops ignore dilation.
 */
export function useKernels(which: 'advkit' | 'stock'): void {
  registerAdvkitKernels();
  inUse = which;
  for (const [key, mine] of advkitKernels) {
    // Kernels TF.js lacks (wasm Conv2DBackpropFilter, depthwise backprops) stay.
    swapKernel(which === 'advkit' ? mine : (stockKernels.get(key) ?? mine), key);
  }
  for (const g of advkitGradients) {
    const stock = stockGradients.get(g.kernelName);
    if (which === 'advkit') tf.registerGradient(g);
    else if (stock != null) tf.registerGradient(stock);
  }
}

/**
 * The kernel TF.js registered before advkit replaced it, or undefined when
 * TF.js has none (used by the benchmarks to compare against stock kernels).
 */
export function stockKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined {
  return stockKernels.get(`${backendName}_${kernelName}`);
}

/** The gradient TF.js registered before advkit replaced it (for benchmarks). */
export function stockGradient(kernelName: string): tf.GradConfig | undefined {
  return stockGradients.get(kernelName);
}

export function registerAdvkitKernels(): void {
  if (registered) return;
  registered = true;
  override('wasm', tf.Conv2DBackpropInput, conv2dBackpropInputConfig);
  override('wasm', tf.Conv2DBackpropFilter, conv2dBackpropFilterConfig);
  override('wasm', tf.DepthwiseConv2dNativeBackpropInput, depthwiseBackpropInputConfig);
  override('wasm', tf.DepthwiseConv2dNativeBackpropFilter, depthwiseBackpropFilterConfig);
  override('wasm', tf.MaxPoolGrad, maxPoolGradConfig);
  override('wasm', tf.DepthToSpace, depthToSpaceConfig);
  override('wasm', tf.Identity, identityConfig);
  override('wasm', tf.Cast, castConfig);
  override('wasm', tf.Sum, leadingSumConfig);
  override('wasm', tf.Slice, sliceConfig);
  override('wasm', tf.Sign, signConfig);
  override('wasm', tf.PadV2, padConfig);
  override('wasm', tf.SplitV, splitConfig);
  override('wasm', tf.Tile, tileConfig);
  override('wasm', tf.ClipByValue, clipConfig);
  override('wasm', tf.Minimum, minMaxConfig(tf.Minimum));
  override('wasm', tf.Maximum, minMaxConfig(tf.Maximum));
  override('wasm', tf.UnsortedSegmentSum, unsortedSegmentSumConfig);
  for (const k of SLOW_BROADCAST_KERNELS) override('wasm', k, tiledBroadcastConfig(k));
  override('wasm', tf.BatchMatMul, transposeFreeMatMulConfig(tf.BatchMatMul));
  override('wasm', tf._FusedMatMul, transposeFreeMatMulConfig(tf._FusedMatMul));
  override('cpu', tf.Conv2DBackpropFilter, conv2dBackpropFilterConfig);
  override('cpu', tf.DepthwiseConv2dNativeBackpropInput, depthwiseBackpropInputConfig);
  override('cpu', tf.DepthwiseConv2dNativeBackpropFilter, depthwiseBackpropFilterConfig);
  for (const b of ['wasm', 'cpu', 'webgl', 'webgpu']) {
    if (tf.getKernel(tf.FusedBatchNorm, b) != null) override(b, tf.FusedBatchNorm, batchNormConfig);
  }
  for (const b of ['wasm', 'cpu', 'webgl']) {
    if (tf.getKernel(tf.FusedConv2D, b) == null) continue;
    tf.registerKernel(foldedConvConfig(b));
    tf.registerKernel(foldedConvInputGradConfig(b));
  }
  tf.registerKernel(clipGradKernelConfig('wasm'));
  tf.registerGradient(clipGradGradConfig);
  advkitGradients = [batchNormGradConfig, clipByValueGradConfig, relu6GradConfig, reluGradConfig];
  for (const g of advkitGradients) {
    const stock = tf.getGradient(g.kernelName);
    if (stock != null) stockGradients.set(g.kernelName, stock);
    tf.registerGradient(g);
  }
}
