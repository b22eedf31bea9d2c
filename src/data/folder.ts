/**
 * A folder of PNG/JPEG (also WebP, GIF, TIFF, AVIF) images as a `Dataset`.
 * Without `resize`/`crop`, images are decoded with sharp, alpha flattened
 * onto black, resized to the requested [h, w] (stretched, no crop),
 * converted to 1 or 3 channels and scaled from 0–255 to the bounds. With
 * them (photos of any size, ImageNet-style), each photo is decoded at its
 * size (JPEG by jpeg-js, PNG by pngjs), converted to 1 or 3 channels, then
 * resized and centre-cropped as torchvision's `Resize` + `CenterCrop` on a
 * PIL image do, bit for bit (see crop.ts, resize.ts); the result must be the
 * requested [h, w]. Everything converted is listed in `conversions` (and
 * joined into `notes` for reports).
 *
 *   const ds = await loadImageFolder('digits/', { shape: [28, 28, 1] });
 *   const ds2 = await loadImageFolder('pics/', { shape: [32, 32, 3], labels: { csv: 'pics/labels.csv' } });
 *   const ds3 = await loadImageFolder('val/', { shape: [224, 224, 3], resize: 256, crop: 224 });
 */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { InputError, LoadError } from '../errors.js';
import { checkOptionKeys } from '../options.js';
import { checkPhotoTransform, describePhotoTransform, type PhotoSize } from './crop.js';
import type { Dataset } from './dataset.js';
import { checkFolder, fromCsv, fromSubfolders } from './folder-labels.js';
import { type PhotoSeen, photoPixels } from './photo-pixels-node.js';

export interface ImageFolderOptions {
  /** Image shape [h, w, c] to produce (c = 1 or 3), usually the model's input. */
  shape: readonly [number, number, number];
  /** Pixel bounds that 0–255 is scaled into. Default [0, 1]. */
  bounds?: readonly [number, number];
  /**
   * Where labels come from: `'subfolders'` (default; one sub-folder per
   * class) or `{ csv }`, a file of `file,label` rows, the label a class name
   * or index.
   */
  labels?: 'subfolders' | { csv: string };
  /** Shorthand for `labels: { csv }` (the CLI's `--labels-csv`). */
  labelsCsv?: string;
  /**
   * Class names in label order (the model's classes): a sub-folder or CSV
   * label is one of them or a class index. Default: sub-folders named
   * 0, 1, 2 … (or integer CSV labels) are class indices, other names the
   * classes in sorted order.
   */
  classNames?: readonly string[];
  /**
   * The model's class count: a label at or above it is an error naming the
   * sub-folder or CSV row. The data may cover only some of the classes.
   */
  numClasses?: number;
  /**
   * Other names per class a sub-folder or CSV label may use, in class order
   * (ImageNet's WordNet ids `n01440764`…, from a synset-mapping labels file).
   */
  classIds?: readonly string[];
  /** torchvision's `Resize(n)` (shorter side to n, aspect kept) or `Resize([h, w])`, before `crop`. */
  resize?: PhotoSize;
  /** torchvision's `CenterCrop(n)` or `CenterCrop([h, w])`, after `resize`; must give the shape's h × w. */
  crop?: PhotoSize;
  /** With resize/crop: a JPEG's EXIF orientation tag is applied (default) or ignored (as PIL does). */
  orientation?: 'apply' | 'ignore';
  /** At most this many images (after `offset`), in listing order. */
  limit?: number;
  /** Skip this many images first. */
  offset?: number;
}

export interface FolderDataset extends Dataset {
  notes: string;
  /** What was converted, one entry per kind (e.g. "resized from 40×30 to 28×28"). */
  conversions: string[];
  /** The image files in data-set order. */
  files: string[];
  /** Each image's own size [width, height] before resize/crop (with `resize` or `crop`). */
  sizes?: [number, number][];
}

const FOLDER_OPTION_KEYS: { [K in keyof Required<ImageFolderOptions>]: true } = {
  shape: true,
  bounds: true,
  labels: true,
  labelsCsv: true,
  classNames: true,
  numClasses: true,
  classIds: true,
  resize: true,
  crop: true,
  orientation: true,
  limit: true,
  offset: true,
};

function checkOptions(o: ImageFolderOptions): { csv?: string; lo: number; hi: number } {
  checkOptionKeys(o, Object.keys(FOLDER_OPTION_KEYS), 'loadImageFolder options');
  if (o.numClasses !== undefined && !(Number.isInteger(o.numClasses) && o.numClasses >= 1)) {
    throw new InputError(
      'INVALID_OPTION',
      `numClasses must be a positive integer; received ${JSON.stringify(o.numClasses)}`,
    );
  }
  if (
    o.classNames !== undefined &&
    (!Array.isArray(o.classNames) ||
      o.classNames.length === 0 ||
      !o.classNames.every((n) => typeof n === 'string' && n !== '') ||
      new Set(o.classNames).size !== o.classNames.length)
  ) {
    throw new InputError(
      'INVALID_OPTION',
      `classNames must be a list of distinct, non-empty names; received ${JSON.stringify(o.classNames)}`,
    );
  }
  const [h, w, c] = o.shape ?? [];
  if (![h, w].every((d) => Number.isInteger(d) && d > 0) || (c !== 1 && c !== 3)) {
    throw new InputError(
      'INVALID_SHAPE',
      `shape must be [height, width, channels] with channels 1 or 3; received ${JSON.stringify(o.shape)}`,
    );
  }
  const [lo, hi] = o.bounds ?? [0, 1];
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || lo >= hi) {
    throw new InputError(
      'INVALID_OPTION',
      `bounds must be [lo, hi] with lo < hi; received ${JSON.stringify(o.bounds)}`,
    );
  }
  for (const [name, v, min] of [
    ['offset', o.offset, 0],
    ['limit', o.limit, 1],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) {
      throw new InputError(
        'INVALID_OPTION',
        `${name} must be an integer ≥ ${min}; received ${JSON.stringify(v)}`,
      );
    }
  }
  if (o.labels !== undefined && o.labelsCsv !== undefined) {
    throw new InputError(
      'INVALID_OPTION',
      `give labels or labelsCsv, not both; received labels ${JSON.stringify(o.labels)} and labelsCsv ${JSON.stringify(o.labelsCsv)}`,
    );
  }
  const labels = o.labels ?? 'subfolders';
  if (labels !== 'subfolders' && typeof labels?.csv !== 'string') {
    throw new InputError(
      'INVALID_OPTION',
      `labels must be 'subfolders' or { csv: path }; received ${JSON.stringify(o.labels)}`,
    );
  }
  const csv = labels === 'subfolders' ? o.labelsCsv : labels.csv;
  checkPhotoTransform(o, 'loadImageFolder');
  if (o.orientation !== undefined && o.orientation !== 'apply' && o.orientation !== 'ignore') {
    throw new InputError(
      'INVALID_OPTION',
      `orientation must be 'apply' or 'ignore'; received ${JSON.stringify(o.orientation)}`,
    );
  }
  if (
    o.classIds !== undefined &&
    (o.classNames === undefined || o.classIds.length !== o.classNames.length)
  ) {
    throw new InputError(
      'INVALID_OPTION',
      `classIds needs classNames of the same length (one id per class); received ${o.classIds.length} ids for ${o.classNames?.length ?? 'no'} names`,
    );
  }
  return { csv, lo, hi };
}

/** An image whose width/height differs from the model's by more than this fraction gets a note. */
export const ASPECT_NOTE_THRESHOLD = 0.1;

interface Seen {
  sizes: Set<string>;
  /** Images (and their sizes) whose aspect ratio is off by more than ASPECT_NOTE_THRESHOLD. */
  offAspect: number;
  offSizes: Set<string>;
  other: Set<string>;
}

/** Decode one image to 8-bit [h, w, c], recording what had to change. */
async function decode(
  file: string,
  [h, w, c]: readonly [number, number, number],
  seen: Seen,
): Promise<Buffer> {
  try {
    const img = sharp(readFileSync(file));
    const meta = await img.metadata();
    if (meta.width !== w || meta.height !== h) {
      const size = `${meta.width}×${meta.height}`;
      seen.sizes.add(size);
      const ratio = (meta.width ?? 0) / (meta.height || 1) / (w / h);
      if (Math.abs(ratio - 1) > ASPECT_NOTE_THRESHOLD) {
        seen.offAspect++;
        seen.offSizes.add(size);
      }
    }
    const from = meta.channels ?? 0;
    if (meta.hasAlpha && !(await img.stats()).isOpaque)
      seen.other.add('alpha flattened onto black');
    if (c === 1 && from - (meta.hasAlpha ? 1 : 0) >= 3) seen.other.add('converted RGB → grayscale');
    if (c === 3 && from - (meta.hasAlpha ? 1 : 0) < 3) seen.other.add('converted grayscale → RGB');
    if (meta.depth && meta.depth !== 'uchar')
      seen.other.add(`reduced from ${meta.depth} to 8 bits`);
    const { data, info } = await img
      .flatten({ background: '#000000' })
      .resize(w, h, { fit: 'fill' })
      .toColourspace(c === 1 ? 'b-w' : 'srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== c || data.length !== h * w * c) {
      throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}`);
    }
    return data;
  } catch (e) {
    throw new LoadError(
      'DATA_LOAD',
      `cannot read image ${file}: ${(e as Error).message}; expected a PNG, JPEG, WebP, GIF, TIFF or AVIF file`,
      e,
    );
  }
}

/** Load a folder of images with labels from sub-folders or a CSV; see the module comment. */
export async function loadImageFolder(
  dir: string,
  options: ImageFolderOptions,
): Promise<FolderDataset> {
  const { csv, lo, hi } = checkOptions(options);
  checkFolder(dir);
  const listed = csv
    ? fromCsv(dir, csv, options.classNames, options.numClasses, options.classIds)
    : fromSubfolders(dir, options.classNames, options.numClasses, options.classIds);
  const offset = options.offset ?? 0;
  const end = options.limit === undefined ? undefined : offset + options.limit;
  const files = listed.files.slice(offset, end);
  if (files.length === 0) {
    throw new LoadError(
      'DATA_LOAD',
      `no images in ${dir} (${listed.files.length} listed, offset ${offset}); expected PNG, JPEG, WebP, GIF, TIFF or AVIF files`,
    );
  }
  const [h, w, c] = options.shape;
  const d = h * w * c;
  const images = new Float32Array(files.length * d);
  const transform = options.resize !== undefined || options.crop !== undefined;
  const seen: Seen = { sizes: new Set(), offAspect: 0, offSizes: new Set(), other: new Set() };
  const photoSeen: PhotoSeen = { sizes: new Set(), each: [], padded: 0, other: new Set() };
  for (let i = 0; i < files.length; i++) {
    const raw = transform
      ? await photoPixels(files[i].file, options, photoSeen)
      : await decode(files[i].file, options.shape, seen);
    for (let j = 0; j < d; j++) images[i * d + j] = lo + ((hi - lo) * raw[j]) / 255;
  }
  const conversions = [...seen.other, ...photoSeen.other];
  if (transform) {
    const sizes = [...photoSeen.sizes];
    conversions.unshift(
      `${describePhotoTransform(options)} from ${sizes.slice(0, 6).join(', ')}${sizes.length > 6 ? ', …' : ''}${photoSeen.padded > 0 ? `; ${photoSeen.padded} images smaller than the crop were zero-padded` : ''}`,
    );
  }
  if (seen.offAspect > 0) {
    const list = [...seen.offSizes];
    conversions.unshift(
      `note: ${seen.offAspect} of ${files.length} images have an aspect ratio more than ${ASPECT_NOTE_THRESHOLD * 100} % away from the model's ${w}×${h} (${list.slice(0, 4).join(', ')}${list.length > 4 ? ', …' : ''}), so stretching distorts them; crop them to the model's aspect first if that matters`,
    );
  }
  if (seen.sizes.size > 0) {
    conversions.unshift(
      `resized from ${[...seen.sizes].slice(0, 6).join(', ')}${seen.sizes.size > 6 ? ', …' : ''} to ${w}×${h} by stretching (sharp fit "fill", Lanczos-3 resampling; no crop, the aspect ratio is not kept)`,
    );
  }
  conversions.push(`pixels scaled from 0–255 to [${lo}, ${hi}]`);
  if (listed.skipped > 0) conversions.push(`${listed.skipped} non-image files skipped`);
  if (listed.mapping) {
    // A folder named by index or WordNet id ("285", "n02124075") says nothing to a reader: its class name follows.
    const named = (m: { folder: string; label: number }) => {
      const name = listed.classNames[m.label];
      return name === m.folder ? `${m.label}` : `${m.label} ${name}`;
    };
    conversions.push(
      `class folders → labels: ${listed.mapping.map((m) => `${m.folder} → ${named(m)}`).join(', ')}`,
    );
  }
  return {
    images,
    labels: Int32Array.from(files, (f) => f.label),
    shape: [h, w, c],
    numClasses: listed.classNames.length,
    classNames: listed.classNames,
    source: `image folder ${dir}${csv ? ` (labels from ${csv})` : ''}, images ${offset}..${offset + files.length - 1} of ${listed.files.length}`,
    notes: conversions.join('; '),
    conversions,
    files: files.map((f) => f.file),
    ...(transform ? { sizes: photoSeen.each } : {}),
  };
}
