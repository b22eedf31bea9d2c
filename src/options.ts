/**
 * The unknown-option check every public entry point runs (loaders,
 * `Classifier.create`, attack constructors, `evaluate`, `adversarialTrain`).
 * A JavaScript caller gets no compile-time check, so a misspelt or
 * wrong-shaped option (`{ mean }` where `{ preprocess: { mean } }` is meant)
 * would otherwise be dropped without a word and every result would be wrong.
 */
import { InputError } from './errors.js';

/**
 * Throw INVALID_OPTION unless `options` is undefined or a plain object whose
 * keys are all in `accepted`. Keys whose value is `undefined` are ignored:
 * callers build option objects with conditional fields, and an undefined
 * value changes nothing. `where` names the options in the message, e.g.
 * "PGD options".
 */
export function checkOptionKeys(
  options: unknown,
  accepted: readonly string[],
  where: string,
): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    const got = Array.isArray(options) ? 'an array' : options === null ? 'null' : typeof options;
    throw new InputError(
      'INVALID_OPTION',
      `${where} must be an object of named options; received ${got}`,
    );
  }
  const unknown = Object.keys(options).filter(
    (k) => !accepted.includes(k) && (options as Record<string, unknown>)[k] !== undefined,
  );
  if (unknown.length > 0) {
    const names = unknown.map((k) => JSON.stringify(k)).join(', ');
    throw new InputError(
      'INVALID_OPTION',
      `${where}: unknown option${unknown.length > 1 ? 's' : ''} ${names}; accepted options are ${[...accepted].sort().join(', ')}`,
    );
  }
}
