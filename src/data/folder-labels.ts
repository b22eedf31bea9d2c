/**
 * Which files an image folder holds and their labels: one sub-folder per
 * class, or a CSV of `file,label` rows (the label a class name or index).
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { LoadError } from '../errors.js';

export interface LabelledFiles {
  files: { file: string; label: number }[];
  classNames: string[];
  /** Files skipped for not being images, for the notes. */
  skipped: number;
  /** Each class sub-folder and the label its images get (sub-folder labels only). */
  mapping?: { folder: string; label: number }[];
}

/** A non-negative integer written plainly ("2", not "2.0" or "02"): a class index. */
const isIndex = (s: string) => /^(0|[1-9]\d*)$/.test(s);

/** Numeric names in numeric order (2 before 10), then the others as strings. */
function byName(a: string, b: string): number {
  if (isIndex(a) && isIndex(b)) return Number(a) - Number(b);
  if (isIndex(a) !== isIndex(b)) return isIndex(a) ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** At most 10 names, for messages about 1,000-class label sets. */
const listed = (names: readonly string[]): string =>
  `${names.slice(0, 10).join(', ')}${names.length > 10 ? `, … (${names.length} in all)` : ''}`;

/** A class's index by name, or by its id (an ImageNet WordNet id), or −1. */
const classIndex = (names: readonly string[], ids: readonly string[] | undefined, key: string) => {
  const i = names.indexOf(key);
  return i >= 0 || !ids ? i : ids.indexOf(key);
};

export const IMAGE_EXT = /\.(png|jpe?g|webp|gif|tiff?|avif)$/i;

/**
 * Class sub-folders and their labels. With `names` (the model's classes in
 * order), a sub-folder is one of the names, or a numeric name taken as the
 * class index. Without, sub-folders all named 0, 1, 2 … are class indices
 * (a folder of only `2` is label 2: data may cover some of the classes);
 * other names are the classes in sorted order (numeric parts numerically).
 */
export function fromSubfolders(
  dir: string,
  names?: readonly string[],
  numClasses?: number,
  ids?: readonly string[],
): LabelledFiles {
  const found = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort(byName);
  if (found.length === 0) {
    throw new LoadError(
      'DATA_LOAD',
      `image folder ${dir} has no class sub-folders; expected one sub-folder per class (e.g. ${dir}/cat/1.png), or labels from a CSV`,
    );
  }
  let classNames: string[];
  let labelOf: (folder: string) => number;
  if (names) {
    classNames = [...names];
    labelOf = (f) => {
      const i = classIndex(classNames, ids, f);
      return i >= 0 || !isIndex(f) || Number(f) >= classNames.length ? i : Number(f);
    };
    const unknown = found.filter((d) => labelOf(d) < 0);
    if (unknown.length > 0) {
      throw new LoadError(
        'DATA_LOAD',
        `sub-folder(s) ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''} of ${dir} are not among the class names [${listed(classNames)}]${ids ? ` nor their ids [${listed(ids)}]` : ''} nor a class index 0–${classNames.length - 1}; rename them or pass class names (--classes, --labels) that include them`,
      );
    }
  } else if (found.every(isIndex)) {
    const k = Number(found[found.length - 1]) + 1;
    classNames = Array.from({ length: k }, (_, i) => String(i));
    labelOf = Number;
  } else {
    classNames = found;
    labelOf = (f) => found.indexOf(f);
  }
  let skipped = 0;
  const mapping = found.map((folder) => ({ folder, label: labelOf(folder) }));
  const outside = mapping.find((m) => numClasses !== undefined && m.label >= numClasses);
  if (outside && numClasses !== undefined) {
    throw new LoadError(
      'DATA_LOAD',
      `sub-folder ${outside.folder} of ${dir} is class ${outside.label}, but the model outputs ${numClasses} classes (0–${numClasses - 1}); data may cover only some of the model's classes, but each sub-folder must be one of them (name it by the model's class index, or give the model's class names with --classes)`,
    );
  }
  const files = mapping.flatMap(({ folder, label }) => {
    const entries = readdirSync(path.join(dir, folder)).sort(byName);
    const images = entries.filter((f) => IMAGE_EXT.test(f));
    skipped += entries.length - images.length;
    return images.map((f) => ({ file: path.join(dir, folder, f), label }));
  });
  return { files, classNames, skipped, mapping };
}

/**
 * `file` (a CSV cell) resolved inside `dir`; a path that leaves the folder,
 * directly or through a symlink, is refused, naming the row.
 */
function insideFolder(dir: string, file: string, where: string): string {
  const resolved = path.resolve(dir, file);
  const root = realpathSync(dir);
  let real = resolved;
  try {
    real = realpathSync(resolved);
  } catch {
    // A missing file is reported when it is read; its lexical path is checked here.
    real = path.join(root, path.relative(path.resolve(dir), resolved));
  }
  const rel = path.relative(root, real);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new LoadError(
      'DATA_LOAD',
      `${where}: path ${JSON.stringify(file)} is outside the data folder ${dir}; rows must name files inside it`,
    );
  }
  return resolved;
}

const unquote = (s: string): string => s.trim().replace(/^"(.*)"$/, '$1');

/**
 * Rows `file,label` (file relative to the folder); a header row whose first
 * cell is `file`, `filename`, `path` or `image` is skipped. With `names`, a label is matched as a
 * class name first, then as an index below `names.length`. Without, labels
 * that are all integers are indices (classes "0".."k−1"); otherwise they are
 * names and the classes are their sorted distinct values.
 */
export function fromCsv(
  dir: string,
  csv: string,
  names?: readonly string[],
  numClasses?: number,
  ids?: readonly string[],
): LabelledFiles {
  let text: string;
  try {
    text = readFileSync(csv, 'utf8');
  } catch (e) {
    throw new LoadError(
      'DATA_LOAD',
      `cannot read the labels CSV ${csv}: ${(e as Error).message}; expected a file of file,label rows`,
      e,
    );
  }
  const rows = text
    .split(/\r?\n/)
    .map((line, i) => ({ line: i + 1, cells: line.split(',').map(unquote) }))
    .filter((r) => r.cells.some((c) => c !== ''));
  if (rows.length > 0 && /^(file|filename|path|image)$/i.test(rows[0].cells[0])) rows.shift();
  for (const r of rows) {
    if (r.cells.length !== 2 || r.cells[0] === '' || r.cells[1] === '') {
      throw new LoadError(
        'DATA_LOAD',
        `${csv} line ${r.line}: expected two cells file,label; received ${JSON.stringify(r.cells.join(','))}`,
      );
    }
  }
  // A numeric label that is no class index (1.5, -1, 1e3) is a mistake, not a class name.
  for (const { line, cells } of rows) {
    const label = cells[1];
    if (!isIndex(label) && Number.isFinite(Number(label)) && !names?.includes(label)) {
      throw new LoadError(
        'DATA_LOAD',
        `${csv} line ${line}: label ${JSON.stringify(label)} for ${cells[0]} is a number but not a class index; expected an integer ≥ 0 (an index into the model's classes) or a class name`,
      );
    }
  }
  let classNames: string[];
  if (names) classNames = [...names];
  else if (rows.every((r) => isIndex(r.cells[1]))) {
    const k = Math.max(0, ...rows.map((r) => Number(r.cells[1]) + 1));
    classNames = Array.from({ length: k }, (_, i) => String(i));
  } else classNames = [...new Set(rows.map((r) => r.cells[1]))].sort(byName);
  const files = rows.map(({ line, cells: [file, label] }) => {
    let y = classIndex(classNames, ids, label);
    if (y < 0 && isIndex(label) && Number(label) < classNames.length) y = Number(label);
    if (y < 0) {
      throw new LoadError(
        'DATA_LOAD',
        `${csv} line ${line}: unknown label ${JSON.stringify(label)} for ${file}; expected one of the classes [${listed(classNames)}]${ids ? ` or their ids` : ''} or an index 0–${classNames.length - 1}`,
      );
    }
    if (numClasses !== undefined && y >= numClasses) {
      throw new LoadError(
        'DATA_LOAD',
        `${csv} line ${line}: label ${JSON.stringify(label)} for ${file} is class ${y}, but the model outputs ${numClasses} classes (0–${numClasses - 1}); data may cover only some of the model's classes, but each label must be one of them`,
      );
    }
    return { file: insideFolder(dir, file, `${csv} line ${line}`), label: y };
  });
  if (files.length === 0) {
    throw new LoadError('DATA_LOAD', `labels CSV ${csv} has no file,label rows`);
  }
  return { files, classNames, skipped: 0 };
}

export function checkFolder(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new LoadError(
      'DATA_LOAD',
      `image folder ${JSON.stringify(dir)} does not exist or is not a folder; expected a folder of class sub-folders or images with a labels CSV`,
    );
  }
}
