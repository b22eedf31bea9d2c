/**
 * Load a model.json from disk (layers-model or graph-model format) into a
 * Classifier, with its checksum for reports. The files are read by
 * `io-node.ts`; loading and the checksum are `load.ts`'s, shared with the
 * browser.
 */
import path from 'node:path';
import type { ClassifierOptions } from './classifier.js';
import { fileLoadHandler, readOnnxFiles } from './io-node.js';
import {
  checkLoaderOptions,
  type LoadedClassifier,
  loadClassifierFrom,
  loadClassifierFromOnnx,
} from './load.js';

/** The file loader's options: the `ClassifierOptions` shape, as `Classifier.create` takes. */
export type ModelFileOptions = ClassifierOptions;

/**
 * Load `modelJson` (and its weight files) into a Classifier; a path ending
 * in `.onnx` is imported as an ONNX model (external-data files beside it).
 *
 *   const { model } = await loadClassifierFromFile('m/model.json', {
 *     bounds: [0, 1], preprocess: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } });
 */
export function loadClassifierFromFile(
  modelJson: string,
  options: ModelFileOptions = {},
): Promise<LoadedClassifier> {
  checkLoaderOptions(options, 'loadClassifierFromFile');
  const rel = path.relative(process.cwd(), path.resolve(modelJson));
  const where = rel && !rel.startsWith('..') ? rel : modelJson;
  if (modelJson.toLowerCase().endsWith('.onnx')) {
    const { bytes, externalData } = readOnnxFiles(modelJson);
    return loadClassifierFromOnnx(bytes, options, { externalData, where });
  }
  return loadClassifierFrom(fileLoadHandler(modelJson), where, {
    ...options,
    name: options.name ?? where,
  });
}
