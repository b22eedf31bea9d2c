/**
 * A labels file: the model's class names in output order (browser-safe
 * parsing). Three forms: one name per line; a JSON array of names; or
 * ImageNet's `LOC_synset_mapping.txt` lines `n01440764 tench, Tinca tinca`,
 * where the WordNet id also names the class's sub-folder in an ImageNet-style
 * folder and the name (up to its first comma) is shown in reports.
 */
import { InputError } from '../errors.js';

export interface ClassLabels {
  /** Class names in output order, as reports show them; a repeated name gets its index, "crane (134)". */
  names: string[];
  /** Other names a folder may use per class (the WordNet ids of a synset mapping). */
  ids?: string[];
}

const SYNSET = /^(n\d{8})\s+(.+)$/;

/** Parse a labels file's text; `where` (the file) names it in errors. */
export function parseLabels(text: string, where: string): ClassLabels {
  const body = text.replace(/^\uFEFF/, '').trim();
  let names: string[];
  let ids: string[] | undefined;
  if (body.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (e) {
      throw new InputError(
        'INVALID_LABELS',
        `labels file ${where} starts with "[" but is not valid JSON (${(e as Error).message}); expected a JSON array of class names or one name per line`,
      );
    }
    if (!Array.isArray(parsed) || !parsed.every((n) => typeof n === 'string')) {
      throw new InputError(
        'INVALID_LABELS',
        `labels file ${where} must be a JSON array of strings (class names in output order)`,
      );
    }
    names = parsed.map((n) => n.trim());
  } else {
    const lines = body.split(/\r?\n/).map((l) => l.trim());
    if (lines.length > 0 && lines.every((l) => SYNSET.test(l))) {
      const rows = lines.map((l) => SYNSET.exec(l) as RegExpExecArray);
      ids = rows.map((m) => m[1]);
      names = rows.map((m) => m[2].split(',')[0].trim());
    } else names = lines;
  }
  const blank = names.indexOf('');
  if (names.length === 0 || blank >= 0) {
    throw new InputError(
      'INVALID_LABELS',
      names.length === 0
        ? `labels file ${where} names no classes`
        : body.startsWith('[')
          ? `labels file ${where}: class ${blank} (entry ${blank} of the JSON array) is empty; expected a class name`
          : `labels file ${where}: class ${blank} (line ${blank + 1}) is empty; expected one class name per line`,
    );
  }
  // ImageNet repeats two names ("crane", "maillot"): the class index tells them apart.
  const count = new Map<string, number>();
  for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
  names = names.map((n, i) => ((count.get(n) ?? 0) > 1 ? `${n} (${i})` : n));
  return ids ? { names, ids } : { names };
}

/** The labels' class count must be the model's: a mismatch is an error naming both counts. */
export function checkLabelCount(labels: ClassLabels, numClasses: number, where: string): void {
  if (labels.names.length !== numClasses) {
    throw new InputError(
      'CLASS_COUNT_MISMATCH',
      `labels file ${where} names ${labels.names.length} classes but the model outputs ${numClasses}; give one name per model output, in output order`,
    );
  }
}
