/**
 * A labelled image data set in pixel space: what the loaders produce and
 * what evaluation and training read.
 */
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
  /** What the loader converted (resizing, channels, scaling), for reports. */
  notes?: string;
}

/** Examples [start, end) of a data set as one batch's arrays. */
export function sliceDataset(ds: Dataset, start: number, end: number) {
  const d = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return {
    images: ds.images.subarray(start * d, end * d),
    labels: ds.labels.subarray(start, end),
    shape: [end - start, ...ds.shape] as [number, number, number, number],
  };
}
