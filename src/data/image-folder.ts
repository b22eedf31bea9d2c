/**
 * A folder of PNG/JPEG images with labels from sub-folder names or a CSV of
 * `file,label` (a class index or class name). Images are decoded with sharp,
 * resized to the model's input and converted to its channel count; what was
 * converted is recorded in `notes` for the report.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { LoadError } from '../errors.js';
import type { Dataset } from './dataset.js';

export interface ImageFolderOptions {
  /** Input shape [h, w, c] of the model (c = 1 or 3). */
  shape: readonly [number, number, number];
  /** Pixel bounds to scale 0–255 into. Default [0, 1]. */
  bounds?: readonly [number, number];
  /** A CSV of `file,label` rows (paths relative to the folder) instead of class sub-folders. */
  labelsCsv?: string;
  /** Class names in label order; default the sorted sub-folder names. */
  classNames?: readonly string[];
  limit?: number;
  offset?: number;
}

const IMAGE_EXT = /\.(png|jpe?g|webp|gif|bmp|tiff?)$/i;

function fromCsv(
  dir: string,
  csv: string,
  names?: readonly string[],
): { files: { file: string; label: number }[]; classNames: string[] } {
  let text: string;
  try {
    text = readFileSync(csv, 'utf8');
  } catch (e) {
    throw new LoadError(
      'DATA_LOAD',
      `cannot read the labels CSV ${csv}: ${(e as Error).message}`,
      e,
    );
  }
  const rows = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^file\s*,/i.test(l));
  const classNames = names ? [...names] : [];
  const files = rows.map((row, i) => {
    const [file, label] = row.split(',').map((s) => s.trim());
    let y = /^\d+$/.test(label ?? '') ? Number(label) : classNames.indexOf(label ?? '');
    if (y < 0 && !names && label) {
      classNames.push(label);
      y = classNames.length - 1;
    }
    if (!file || y < 0) {
      throw new LoadError(
        'DATA_LOAD',
        `${csv} line ${i + 1}: expected file,label (a class index or one of ${classNames.join(', ') || 'the class names'}); got ${JSON.stringify(row)}`,
      );
    }
    return { file: path.join(dir, file), label: y };
  });
  const k = Math.max(classNames.length, ...files.map((f) => f.label + 1));
  while (classNames.length < k) classNames.push(String(classNames.length));
  return { files, classNames };
}

function fromSubfolders(dir: string, names?: readonly string[]) {
  const found = readdirSync(dir)
    .filter((d) => statSync(path.join(dir, d)).isDirectory())
    .sort();
  if (found.length === 0) {
    throw new LoadError(
      'DATA_LOAD',
      `${dir} has no class sub-folders; put each class's images in its own sub-folder, or give a labels CSV`,
    );
  }
  const classNames = names ? [...names] : found;
  for (const d of found) {
    if (!classNames.includes(d))
      throw new LoadError(
        'DATA_LOAD',
        `sub-folder ${d} of ${dir} is not one of the classes ${classNames.join(', ')}`,
      );
  }
  const files = found.flatMap((c) =>
    readdirSync(path.join(dir, c))
      .filter((f) => IMAGE_EXT.test(f))
      .sort()
      .map((f) => ({ file: path.join(dir, c, f), label: classNames.indexOf(c) })),
  );
  return { files, classNames };
}

export async function loadImageFolder(dir: string, o: ImageFolderOptions): Promise<Dataset> {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new LoadError('DATA_LOAD', `image folder ${dir} does not exist or is not a folder`);
  }
  const listed = o.labelsCsv
    ? fromCsv(dir, o.labelsCsv, o.classNames)
    : fromSubfolders(dir, o.classNames);
  const offset = o.offset ?? 0;
  const files = listed.files.slice(offset, o.limit === undefined ? undefined : offset + o.limit);
  if (files.length === 0)
    throw new LoadError('DATA_LOAD', `no images (png, jpg, webp, gif, bmp, tiff) found in ${dir}`);
  const [h, w, c] = o.shape;
  if (c !== 1 && c !== 3)
    throw new LoadError(
      'DATA_LOAD',
      `image folders load 1- or 3-channel images; the model takes ${c} channels`,
    );
  const [lo, hi] = o.bounds ?? [0, 1];
  const images = new Float32Array(files.length * h * w * c);
  const resized = new Set<string>();
  const converted = new Set<string>();
  for (let i = 0; i < files.length; i++) {
    let raw: Buffer;
    try {
      const meta = await sharp(files[i].file).metadata();
      if (meta.width !== w || meta.height !== h) resized.add(`${meta.width}×${meta.height}`);
      const from = meta.channels ?? 0;
      if ((c === 1 && from > 2) || (c === 3 && from < 3))
        converted.add(c === 1 ? 'colour → grayscale' : 'grayscale → RGB');
      let img = sharp(files[i].file).resize(w, h, { fit: 'fill' }).removeAlpha();
      img = c === 1 ? img.toColourspace('b-w') : img.toColourspace('srgb');
      raw = await img.raw().toBuffer();
    } catch (e) {
      throw new LoadError(
        'DATA_LOAD',
        `cannot read image ${files[i].file}: ${(e as Error).message}`,
        e,
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
  const notes = [
    resized.size ? `resized from ${[...resized].join(', ')} to ${w}×${h}` : '',
    converted.size ? [...converted].join(', ') : '',
    `pixels scaled from 0–255 to [${lo}, ${hi}]`,
  ].filter(Boolean);
  return {
    images,
    labels: Int32Array.from(files, (f) => f.label),
    shape: [h, w, c],
    numClasses: listed.classNames.length,
    classNames: listed.classNames,
    source: `image folder ${dir}${o.labelsCsv ? ` (labels from ${o.labelsCsv})` : ''}, ${files.length} images`,
    notes: notes.join('; '),
  };
}
