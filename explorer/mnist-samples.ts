/**
 * The explorer's shipped inputs: the first MNIST test images and labels, read
 * with advkit's MNIST loader at build/serve time and
 * packed as a small JSON asset (pixels as base64 bytes, row-major 28×28).
 */
import { loadMnist } from '../src/data/index.js';

export interface SampleSet {
  source: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  labels: number[];
  /** count·height·width·channels bytes, 0–255, base64. */
  pixels: string;
}

/** The first `count` test images as raw bytes (0–255) and their labels. */
export function readMnistTest(count: number): {
  images: Uint8Array;
  labels: Uint8Array;
  height: number;
  width: number;
} {
  const ds = loadMnist('test', { limit: count });
  // loadMnist scales bytes by 1/255; undo it exactly.
  return {
    images: Uint8Array.from(ds.images, (v) => Math.round(v * 255)),
    labels: Uint8Array.from(ds.labels),
    height: ds.shape[0],
    width: ds.shape[1],
  };
}

export function mnistSampleSet(count = 100): SampleSet {
  const { images, labels, height, width } = readMnistTest(count);
  return {
    source: `MNIST test set, first ${labels.length} images (t10k-images-idx3-ubyte)`,
    count: labels.length,
    height,
    width,
    channels: 1,
    labels: Array.from(labels),
    pixels: Buffer.from(images).toString('base64'),
  };
}
