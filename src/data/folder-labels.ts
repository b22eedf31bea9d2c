/**
 * Which files an image folder holds and their labels: one sub-folder per
 * class, or a CSV of `file,label` rows (the label a class name or index).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { LoadError } from '../errors.js';

export interface LabelledFiles {
  files: { file: string; label: number }[];
  classNames: string[];
  /** Files skipped for not being images, for the notes. */
  skipped: number;
}

export const IMAGE_EXT = /\.(png|jpe?g|webp|gif|tiff?|avif)$/i;

/**
 * Classes are the sub-folder names, sorted, or `names` in its order (every
 * sub-folder must then be one of `names`; a name may have no sub-folder).
 */
export function fromSubfolders(dir: string, names?: readonly string[]): LabelledFiles {
  const found = readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
    .map((d) => d.name)
    .sort();
  if (found.length === 0) {
    throw new LoadError(
      'DATA_LOAD',
      `image folder ${dir} has no class sub-folders; expected one sub-folder per class (e.g. ${dir}/cat/1.png), or labels from a CSV`,
    );
  }
  const classNames = names ? [...names] : found;
  const unknown = found.filter((d) => !classNames.includes(d));
  if (unknown.length > 0) {
    throw new LoadError(
      'DATA_LOAD',
      `sub-folder(s) ${unknown.join(', ')} of ${dir} are not among the class names [${classNames.join(', ')}]; rename them or pass classNames that include them`,
    );
  }
  let skipped = 0;
  const files = found.flatMap((c) => {
    const entries = readdirSync(path.join(dir, c)).sort();
    const images = entries.filter((f) => IMAGE_EXT.test(f));
    skipped += entries.length - images.length;
    return images.map((f) => ({ file: path.join(dir, c, f), label: classNames.indexOf(c) }));
  });
  return { files, classNames, skipped };
}

const unquote = (s: string): string => s.trim().replace(/^"(.*)"$/, '$1');

/**
 * Rows `file,label` (file relative to the folder); a header row whose first
 * cell is `file`, `filename`, `path` or `image` is skipped. With `names`, a label is matched as a
 * class name first, then as an index below `names.length`. Without, labels
 * that are all integers are indices (classes "0".."k−1"); otherwise they are
 * names and the classes are their sorted distinct values.
 */
export function fromCsv(dir: string, csv: string, names?: readonly string[]): LabelledFiles {
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
  const isIndex = (s: string) => /^\d+$/.test(s);
  let classNames: string[];
  if (names) classNames = [...names];
  else if (rows.every((r) => isIndex(r.cells[1]))) {
    const k = Math.max(0, ...rows.map((r) => Number(r.cells[1]) + 1));
    classNames = Array.from({ length: k }, (_, i) => String(i));
  } else classNames = [...new Set(rows.map((r) => r.cells[1]))].sort();
  const files = rows.map(({ line, cells: [file, label] }) => {
    let y = classNames.indexOf(label);
    if (y < 0 && isIndex(label) && Number(label) < classNames.length) y = Number(label);
    if (y < 0) {
      throw new LoadError(
        'DATA_LOAD',
        `${csv} line ${line}: unknown label ${JSON.stringify(label)} for ${file}; expected one of the classes [${classNames.join(', ')}] or an index 0–${classNames.length - 1}`,
      );
    }
    return { file: path.resolve(dir, file), label: y };
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
