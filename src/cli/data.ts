/**
 * `--data` sources: `mnist:test`, `mnist:train`, `mnist:test:3,7` (only those
 * digits, relabelled 0..k−1 in the order given) or an image folder (one
 * subfolder per class, or a CSV of file,label), loaded by `src/data` and checked against the model.
 * Photos of any size take `--resize N --crop N` (torchvision's Resize +
 * CenterCrop); `--labels FILE` names the model's classes in reports.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import {
  type ClassLabels,
  checkLabelCount,
  type Dataset,
  loadImageFolder,
  loadMnist,
  type PhotoSize,
  parseLabels,
} from '../data/index.js';
import { type Classifier, InputError, LoadError } from '../index.js';
import { text, UsageError, value } from './flags.js';

export interface DataFlags {
  data: string;
  'labels-csv'?: string;
  classes?: string;
  labels?: string;
  resize?: PhotoSize;
  crop?: PhotoSize;
  limit?: number;
  offset: number;
}

/** `--resize 256`, `--crop 224` or `--crop 224x192` (height × width). */
export function photoSize(raw: string, flag: string): PhotoSize {
  const m = /^\s*([1-9]\d*)\s*(?:[x×,]\s*([1-9]\d*)\s*)?$/i.exec(raw);
  if (!m) {
    throw new UsageError(
      `--${flag} must be a positive integer or HEIGHTxWIDTH, e.g. 224 or 224x192; received ${JSON.stringify(raw)}`,
    );
  }
  return m[2] === undefined ? Number(m[1]) : [Number(m[1]), Number(m[2])];
}

/** Flags for photo folders and class names (part of every command's data flags). */
export const imageDataFlags = {
  resize: value(
    'N|HxW',
    photoSize,
    "for an image folder: torchvision's Resize(N) (shorter side to N, aspect kept; PIL's antialiased bilinear) or Resize((H, W)), before --crop",
    { defaultText: 'none: without --resize/--crop images are stretched to the model input' },
  ),
  crop: value(
    'N|HxW',
    photoSize,
    "for an image folder: torchvision's CenterCrop after --resize; the result must be the model's input size",
  ),
  labels: value(
    'FILE',
    text,
    "the model's class names for reports: one per line, a JSON array, or ImageNet's synset mapping (n01440764 tench, …; its ids also name ImageNet-style sub-folders); exactly one per model output",
  ),
};

/** Read and check `--labels FILE` against the model's class count. */
export function readLabels(file: string, numClasses: number): ClassLabels {
  let body: string;
  try {
    body = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--labels ${file}: cannot read it (${(e as Error).message})`);
  }
  const labels = parseLabels(body, file);
  checkLabelCount(labels, numClasses, file);
  return labels;
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
  if (!existsSync(raw) || !statSync(raw).isDirectory()) {
    throw new UsageError(
      `--data ${raw} is neither mnist:test, mnist:train nor an existing folder of images`,
    );
  }
  return { kind: 'folder', dir: raw };
}

/**
 * `--classes`: a file of names (one per line, or comma-separated), else a
 * comma-separated list; the model's class names in label order.
 */
export function parseClasses(raw: string, numClasses: number): string[] {
  const fromFile = existsSync(raw) && statSync(raw).isFile();
  const text = fromFile ? readFileSync(raw, 'utf8') : raw;
  const names = text
    .split(fromFile && /\n/.test(text.trim()) ? /\r?\n/ : ',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const where = fromFile ? `--classes ${raw} (a file)` : `--classes ${JSON.stringify(raw)}`;
  if (names.length === 0) throw new UsageError(`${where} names no classes`);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new UsageError(`${where} names ${JSON.stringify(dup)} twice`);
  if (names.length > numClasses) {
    throw new UsageError(
      `${where} names ${names.length} classes but the model outputs ${numClasses}; give the model's class names in order`,
    );
  }
  return names;
}

/** Load the examples the flags name, shaped for `model`. */
export async function loadData(f: DataFlags, model: Classifier): Promise<Dataset> {
  const src = parseDataSource(f.data);
  for (const flag of ['classes', 'resize', 'crop'] as const) {
    if (src.kind === 'mnist' && f[flag] !== undefined) {
      throw new UsageError(
        `--${flag} is for an image folder; ${f.data} has its classes and size (the digits, 28×28) already`,
      );
    }
  }
  if (f.labels !== undefined && f.classes !== undefined) {
    throw new UsageError('give --labels or --classes, not both: both name the model classes');
  }
  if (f.labels !== undefined && src.kind === 'mnist' && src.digits !== undefined) {
    throw new UsageError(`--labels names all the model's classes; ${f.data} relabels digits`);
  }
  const labels = f.labels === undefined ? undefined : readLabels(f.labels, model.numClasses);
  const ds =
    src.kind === 'mnist'
      ? loadMnist(src.split, { limit: f.limit, offset: f.offset, digits: src.digits })
      : await loadImageFolder(src.dir, {
          shape: model.inputShape,
          bounds: model.bounds,
          labelsCsv: f['labels-csv'],
          classNames: labels
            ? labels.names
            : f.classes === undefined
              ? undefined
              : parseClasses(f.classes, model.numClasses),
          ...(labels?.ids ? { classIds: labels.ids } : {}),
          ...(f.resize !== undefined ? { resize: f.resize } : {}),
          ...(f.crop !== undefined ? { crop: f.crop } : {}),
          numClasses: model.numClasses,
          limit: f.limit,
          offset: f.offset,
        });
  // MNIST keeps its digits' class count; --labels only renames them for reports.
  if (labels && src.kind === 'mnist') ds.classNames = labels.names;
  if (ds.shape.join() !== model.inputShape.join()) {
    throw new LoadError(
      'DATA_LOAD',
      `${ds.source} has images of shape [${ds.shape}] but the model takes [${model.inputShape}]`,
    );
  }
  // Labels index the model's classes; the data may cover only some of them.
  const top = ds.labels.reduce((m, y) => Math.max(m, y), -1);
  if (top >= model.numClasses) {
    const at = ds.labels.indexOf(top);
    throw new InputError(
      'CLASS_COUNT_MISMATCH',
      `${ds.source} has ${ds.numClasses} classes but the model outputs ${model.numClasses}: example ${at} has label ${top}${ds.classNames[top] !== undefined ? ` (${JSON.stringify(ds.classNames[top])})` : ''}; use data whose labels are the model's classes (e.g. mnist:test:3,7 for a two-class 3-vs-7 model)`,
    );
  }
  return ds;
}
