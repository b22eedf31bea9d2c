/**
 * How many examples one gradient may take at once. TF.js keeps every
 * activation and every intermediate gradient of a backward pass alive until
 * it ends — about twice the forward pass's tensors — and the wasm backend's
 * heap stops at 4 GiB, where an allocation fails and the kernel that asked
 * for it writes out of bounds and crashes the process. MobileNetV2 at
 * 224 × 224 needs about 300 MiB per example, so a batch of 16 fills the heap.
 *
 * The first gradient of a classifier on wasm (by each `GradientPath`) therefore runs on one example
 * and records the bytes its forward pass kept; every gradient after that is
 * cut into chunks that fit the budget. Examples are independent (per-example
 * losses, batch norm in inference mode), so the chunks give the same values
 * as one batch. A classifier in 'train' mode is never split (its batch norm
 * uses batch statistics).
 */
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from './classifier.js';

/** Tensor bytes a gradient may occupy on wasm: the 4 GiB heap less room for the rest. */
export const WASM_GRADIENT_BUDGET = 3.25 * 2 ** 30;
let budget = WASM_GRADIENT_BUDGET;

/**
 * Set the bytes a gradient may occupy on wasm (a smaller heap, e.g. on a
 * phone, or a test); no argument restores the default.
 */
export function setGradientBudget(bytes: number = WASM_GRADIENT_BUDGET): void {
  budget = bytes;
}
/** Peak bytes of a gradient over the bytes its forward pass keeps (measured ≈ 2.0–2.5). */
export const PEAK_OVER_FORWARD = 2.5;

/**
 * How a gradient is computed: a layer plan keeps fewer tensors than TF.js's
 * tape, so each way is measured on its own.
 */
export type GradientPath = 'plan' | 'autodiff';

const forwardBytes = new WeakMap<Classifier, Partial<Record<GradientPath, number>>>();

/** Whether gradients on the current backend must fit the wasm heap. */
export function memoryBounded(): boolean {
  return tf.getBackend() === 'wasm';
}

/** Record the bytes one example's forward pass kept (the largest seen). */
export function recordForwardBytes(
  model: Classifier,
  path: GradientPath,
  bytesPerExample: number,
): void {
  const seen = forwardBytes.get(model) ?? {};
  seen[path] = Math.max(seen[path] ?? 0, bytesPerExample);
  forwardBytes.set(model, seen);
}

/**
 * The most examples one gradient of `model` may take now (at least 1), or
 * undefined before the first gradient has measured the model.
 */
export function gradientChunk(model: Classifier, path: GradientPath): number | undefined {
  const perExample = forwardBytes.get(model)?.[path];
  if (perExample === undefined) return undefined;
  const free = budget - tf.memory().numBytes;
  return Math.max(1, Math.floor(free / (PEAK_OVER_FORWARD * Math.max(perExample, 1))));
}
