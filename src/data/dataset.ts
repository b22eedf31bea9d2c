/**
 * A labelled image data set in pixel space: what the loaders produce and
 * what evaluation and training read. Arrays stay in plain memory; tensors
 * are made one batch at a time (`batches`) so a large set never sits on the
 * backend whole.
 */
import * as tf from '@tensorflow/tfjs';
import { InputError } from '../errors.js';

export interface Dataset {
  /** Pixel-space images, row-major [n, h, w, c]. */
  images: Float32Array;
  labels: Int32Array;
  /** Shape of one image [h, w, c]. */
  shape: [number, number, number];
  numClasses: number;
  classNames: string[];
  /** Where the data came from, for reports. */
  source: string;
  /** What the loader converted (resizing, channels, scaling), one sentence for reports. */
  notes?: string;
}

/** One batch of a data set: `x` is a fresh tensor the caller disposes. */
export interface Batch {
  x: tf.Tensor4D;
  labels: Int32Array;
  /** Index of the batch's first example in the data set. */
  offset: number;
}

const pixelsPerImage = (shape: readonly number[]): number => shape[0] * shape[1] * shape[2];

/** Examples [start, end) of a data set as one batch's arrays (views, not copies). */
export function sliceDataset(ds: Dataset, start: number, end: number) {
  const d = pixelsPerImage(ds.shape);
  return {
    images: ds.images.subarray(start * d, end * d),
    labels: ds.labels.subarray(start, end),
    shape: [end - start, ...ds.shape] as [number, number, number, number],
  };
}

/**
 * Images [n, h, w, c] as a tensor; `n` is inferred from the array length,
 * which must be a whole number of images.
 */
export function toTensor4D(
  images: Float32Array,
  shape: readonly [number, number, number],
): tf.Tensor4D {
  const d = pixelsPerImage(shape);
  if (d <= 0 || images.length % d !== 0) {
    throw new InputError(
      'INVALID_SHAPE',
      `images: ${images.length} values are not a whole number of [${shape}] images (${d} values each)`,
    );
  }
  return tf.tensor4d(images, [images.length / d, shape[0], shape[1], shape[2]]);
}

/** Examples [start, end) of a data set as a tensor [end − start, h, w, c]. */
export function datasetTensor4D(ds: Dataset, start = 0, end = ds.labels.length): tf.Tensor4D {
  return toTensor4D(sliceDataset(ds, start, end).images, ds.shape);
}

/**
 * The data set in order, `batchSize` examples at a time (the last batch may
 * be smaller). Each `x` is created when the batch is reached; dispose it.
 *
 *   for (const { x, labels } of batches(ds, 256)) { …; x.dispose(); }
 */
export function* batches(ds: Dataset, batchSize: number): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InputError(
      'INVALID_OPTION',
      `batchSize must be a positive integer; received ${batchSize}`,
    );
  }
  const n = ds.labels.length;
  for (let offset = 0; offset < n; offset += batchSize) {
    const end = Math.min(n, offset + batchSize);
    const part = sliceDataset(ds, offset, end);
    yield { x: toTensor4D(part.images, ds.shape), labels: part.labels, offset };
  }
}
