/**
 * Load a model.json from disk (layers-model or graph-model format) into a
 * Classifier, with its checksum for reports. The files are read by
 * `io-node.ts`; loading and the checksum are `load.ts`'s, shared with the
 * browser.
 */
import path from 'node:path';
import type { ClassifierOptions, ModelMode, OutputKind } from './classifier.js';
import { fileLoadHandler } from './io-node.js';
import { type LoadedClassifier, loadClassifierFrom } from './load.js';

export interface ModelFileOptions {
  bounds?: readonly [number, number];
  mean?: readonly number[];
  std?: readonly number[];
  mode?: ModelMode;
  output?: OutputKind;
  numClasses?: number;
  name?: string;
}

export function classifierOptions(o: ModelFileOptions): ClassifierOptions {
  const preprocess = o.mean || o.std ? { mean: o.mean ?? [0], std: o.std ?? [1] } : undefined;
  return {
    bounds: o.bounds,
    preprocess,
    mode: o.mode,
    output: o.output,
    numClasses: o.numClasses,
    name: o.name,
  };
}

export function loadClassifierFromFile(
  modelJson: string,
  options: ModelFileOptions = {},
): Promise<LoadedClassifier> {
  const rel = path.relative(process.cwd(), path.resolve(modelJson));
  const where = rel && !rel.startsWith('..') ? rel : modelJson;
  return loadClassifierFrom(
    fileLoadHandler(modelJson),
    where,
    classifierOptions({ name: options.name ?? where, ...options }),
  );
}
