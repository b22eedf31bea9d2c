/**
 * Load a model.json from disk (layers-model or graph-model format) into a
 * Classifier, with its checksum for reports. Reading the files is done here
 * (model.json, then the weight files its manifest names, checked for
 * existence and size); format detection, loading and the checksum are
 * `model/load.ts`'s, shared with the browser.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { LoadError } from '../errors.js';
import type { ClassifierOptions, ModelMode, OutputKind } from './classifier.js';
import { type LoadedClassifier, loadClassifierFrom, weightSpecBytes } from './load.js';

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

interface ModelJson {
  modelTopology?: unknown;
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
  modelInitializer?: unknown;
}

/** A tf.io.IOHandler that reads a model.json and its weight files from disk. */
export function fileLoadHandler(modelJson: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      if (!existsSync(modelJson)) {
        throw new LoadError('MODEL_LOAD', `model file ${modelJson} does not exist`);
      }
      if (statSync(modelJson).isDirectory()) {
        throw new LoadError(
          'MODEL_LOAD',
          `${modelJson} is a folder; give the path of its model.json`,
        );
      }
      let json: ModelJson;
      try {
        json = JSON.parse(readFileSync(modelJson, 'utf8')) as ModelJson;
      } catch (e) {
        throw new LoadError(
          'MODEL_LOAD',
          `${modelJson} is not valid JSON (${(e as Error).message}); expected a TF.js model.json`,
        );
      }
      if (!json || typeof json !== 'object' || !json.modelTopology) {
        throw new LoadError(
          'MODEL_LOAD',
          `${modelJson} has no modelTopology; expected a TF.js model.json (layers-model or graph-model)`,
        );
      }
      if (!Array.isArray(json.weightsManifest)) {
        throw new LoadError(
          'MODEL_LOAD',
          `${modelJson} has no weightsManifest; expected a TF.js model.json with its weight files`,
        );
      }
      const dir = path.dirname(modelJson);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const chunks: Uint8Array[] = [];
      for (const group of json.weightsManifest) {
        let groupBytes = 0;
        for (const p of group.paths) {
          const file = path.join(dir, p);
          if (!existsSync(file)) {
            throw new LoadError(
              'MODEL_LOAD',
              `weight file ${file} named in ${modelJson} does not exist`,
            );
          }
          const b = readFileSync(file);
          groupBytes += b.byteLength;
          chunks.push(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
        }
        const want = group.weights.reduce((a, w) => a + weightSpecBytes(w), 0);
        if (want !== groupBytes) {
          throw new LoadError(
            'MODEL_LOAD',
            `weight files ${group.paths.join(', ')} hold ${groupBytes} bytes but ${modelJson} describes ${want}; the files do not belong together`,
          );
        }
        specs.push(...group.weights);
      }
      const total = chunks.reduce((a, c) => a + c.byteLength, 0);
      const weightData = new Uint8Array(total);
      let o = 0;
      for (const c of chunks) {
        weightData.set(c, o);
        o += c.byteLength;
      }
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        weightSpecs: specs,
        weightData: weightData.buffer,
        signature: json.signature as tf.io.ModelArtifacts['signature'],
        userDefinedMetadata:
          json.userDefinedMetadata as tf.io.ModelArtifacts['userDefinedMetadata'],
        modelInitializer: json.modelInitializer as tf.io.ModelArtifacts['modelInitializer'],
      };
    },
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
