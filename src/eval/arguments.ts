/**
 * The checks `evaluate` runs on its arguments before any work: option names
 * (a JavaScript caller gets no compile-time check, and a dropped option
 * silently changes the evaluation), the goal, and the data set's arrays
 * (plain arrays are accepted and copied into typed arrays) and labels,
 * which must index the model's classes — data may cover only some of them.
 */
import { describeValue, InputError } from '../errors.js';
import type { Classifier } from '../model/classifier.js';
import { checkOptionKeys } from '../options.js';
import { checkGoal } from '../threat-model/targets.js';
import type { EvalDataset, EvaluateOptions, MinimalEpsilonOptions, Suite } from './types.js';

// Records, not lists: a field added to an interface fails to compile until it is listed.
const EVALUATE_OPTION_KEYS: { [K in keyof Required<EvaluateOptions>]: true } = {
  batchSize: true,
  seed: true,
  limit: true,
  checkpoint: true,
  onProgress: true,
  modelChecksum: true,
  exampleImages: true,
  minimalEpsilon: true,
  diagnostics: true,
  executor: true,
};
const SUITE_KEYS: { [K in keyof Required<Suite>]: true } = {
  attacks: true,
  cascade: true,
  epsilons: true,
  goal: true,
  norm: true,
};
const MINIMAL_EPSILON_KEYS: { [K in keyof Required<MinimalEpsilonOptions>]: true } = {
  attacks: true,
  epsMax: true,
  bisectionSteps: true,
};
/** Check `evaluate`'s arguments; returns the data with typed arrays. */
export function checkEvaluateCall(
  model: Classifier,
  data: EvalDataset,
  suite: Suite,
  options: EvaluateOptions,
): EvalDataset {
  checkOptionKeys(options, Object.keys(EVALUATE_OPTION_KEYS), 'evaluate options');
  if (typeof suite !== 'object' || suite === null || Array.isArray(suite)) {
    throw new InputError(
      'INVALID_OPTION',
      `suite must be an object { epsilons, attacks?, goal?, norm? }; received ${describeValue(suite)}`,
    );
  }
  checkOptionKeys(suite, Object.keys(SUITE_KEYS), 'suite');
  // A named preset (a string) is checked by the plan; a list entry here.
  const list: unknown = suite.attacks;
  if (Array.isArray(list)) {
    list.forEach((a, i) => {
      checkOptionKeys(a, ['name', 'options'], `suite.attacks[${i}]`);
    });
  } else if (list !== undefined && typeof list !== 'string') {
    throw new InputError(
      'INVALID_OPTION',
      `suite.attacks must be an array of { name, options? } or a preset name; received ${describeValue(list)}`,
    );
  }
  if (suite.cascade !== undefined && typeof suite.cascade !== 'boolean') {
    throw new InputError(
      'INVALID_OPTION',
      `suite.cascade must be true or false; received ${describeValue(suite.cascade)}`,
    );
  }
  checkGoal(suite.goal, 'suite.goal');
  if (options.minimalEpsilon) {
    checkOptionKeys(
      options.minimalEpsilon,
      Object.keys(MINIMAL_EPSILON_KEYS),
      'evaluate options.minimalEpsilon',
    );
  }
  return checkDataArrays(model, data);
}

function checkDataArrays(model: Classifier, data: EvalDataset): EvalDataset {
  if (typeof data !== 'object' || data === null) {
    throw new InputError(
      'INVALID_SHAPE',
      `data must be { images, labels, shape, numClasses, source }; received ${describeValue(data)}`,
    );
  }
  const numeric = (v: unknown): v is ArrayLike<number> =>
    Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView));
  const { images, labels } = data as { images: unknown; labels: unknown };
  if (!(images instanceof Float32Array) && !numeric(images)) {
    throw new InputError(
      'INVALID_SHAPE',
      `data.images must be a Float32Array or an array of numbers (pixel-space, [n, h, w, c] row-major); received ${typeof images}`,
    );
  }
  if (!(labels instanceof Int32Array) && !numeric(labels)) {
    throw new InputError(
      'INVALID_LABELS',
      `data.labels must be an Int32Array or an array of class indices; received ${typeof labels}`,
    );
  }
  const k = model.numClasses;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0) {
      throw new InputError(
        'INVALID_LABELS',
        `data.labels[${i}] = ${describeValue(y)} is not a class index; expected an integer in [0, ${k - 1}]`,
      );
    }
    if (y >= k) {
      const name = data.classNames?.[y];
      throw new InputError(
        'CLASS_COUNT_MISMATCH',
        `data.labels[${i}] = ${y}${name !== undefined ? ` (class ${JSON.stringify(name)})` : ''} is not one of the model's classes: the model outputs ${k} classes (0–${k - 1}); data may cover only some of the model's classes, but each label must index one`,
      );
    }
  }
  const typedImages = images instanceof Float32Array ? images : Float32Array.from(images);
  const typedLabels = labels instanceof Int32Array ? labels : Int32Array.from(labels);
  return typedImages === images && typedLabels === labels
    ? data
    : { ...data, images: typedImages, labels: typedLabels };
}
