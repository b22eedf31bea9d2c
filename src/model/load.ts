/**
 * Loading a saved TF.js model (layers-model or graph-model format) into a
 * Classifier, with a checksum of its topology and weights for reports.
 * Browser-safe: the source is any tf.io.IOHandler (a URL here; files in
 * `load-node.ts`).
 */
import * as tf from '@tensorflow/tfjs';
import { InputError, LoadError } from '../errors.js';
import { checkOptionKeys } from '../options.js';
import { CLASSIFIER_OPTION_KEYS, Classifier, type ClassifierOptions } from './classifier.js';
import { checksumArtifacts, weightBytes } from './networks/artifacts.js';
import { type ImportOnnxOptions, importOnnx, type OnnxNetwork } from './onnx/index.js';

export { checksumArtifacts } from './networks/artifacts.js';

export interface LoadedClassifier extends LoadedNetwork {
  model: Classifier;
}

export function artifactsFormat(artifacts: tf.io.ModelArtifacts): 'layers-model' | 'graph-model' {
  const topo = artifacts.modelTopology as { node?: unknown } | undefined;
  if (artifacts.format === 'graph-model' || (topo && Array.isArray(topo.node)))
    return 'graph-model';
  return 'layers-model';
}

export interface LoadedNetwork {
  network: tf.LayersModel | tf.GraphModel | OnnxNetwork;
  format: 'layers-model' | 'graph-model' | 'onnx';
  /** sha256 (hex) of the topology JSON and the weight bytes (of an .onnx file and its external data). */
  checksum: string;
  /** `userDefinedMetadata` of the model.json, if any. */
  metadata?: Record<string, unknown>;
}

/** Bytes one manifest entry occupies in the weight files. */
export function weightSpecBytes(spec: tf.io.WeightsManifestEntry): number {
  const q = spec.quantization?.dtype;
  const per = q
    ? q === 'uint8'
      ? 1
      : 2
    : spec.dtype === 'bool'
      ? 1
      : spec.dtype === 'string'
        ? 0
        : 4;
  return spec.shape.reduce((p, d) => p * d, 1) * per;
}

/**
 * TF.js fills weights it cannot find with fresh values without a word, so
 * compare the bytes the manifest asks for with the bytes that arrived.
 */
function checkWeightBytes(artifacts: tf.io.ModelArtifacts, where: string): void {
  const specs = artifacts.weightSpecs ?? [];
  const expected = specs.reduce((a, w) => a + weightSpecBytes(w), 0);
  const found = weightBytes(artifacts.weightData).reduce((a, b) => a + b.byteLength, 0);
  if (found < expected) {
    throw new LoadError(
      'MODEL_LOAD',
      `${where}: the weights are missing or truncated (the manifest needs ${expected} bytes, found ${found}); keep the weight files next to model.json`,
    );
  }
}

/** Load a TF.js network from any IOHandler; `where` names the source in error messages. */
export async function loadNetworkFrom(
  handler: tf.io.IOHandler,
  where: string,
): Promise<LoadedNetwork> {
  if (!handler.load)
    throw new LoadError(
      'MODEL_LOAD',
      `cannot load a model from ${where}: the handler has no load()`,
    );
  let artifacts: tf.io.ModelArtifacts;
  try {
    artifacts = await handler.load();
  } catch (e) {
    if (e instanceof LoadError) throw e;
    throw new LoadError(
      'MODEL_LOAD',
      `cannot read the model at ${where}: ${(e as Error).message}`,
      e,
    );
  }
  if (!artifacts.modelTopology) {
    throw new LoadError('MODEL_LOAD', `${where} has no modelTopology; is it a TF.js model.json?`);
  }
  checkWeightBytes(artifacts, where);
  const format = artifactsFormat(artifacts);
  let network: tf.LayersModel | tf.GraphModel;
  try {
    network =
      format === 'graph-model'
        ? await tf.loadGraphModel(tf.io.fromMemory(artifacts))
        : await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new LoadError(
      'MODEL_LOAD',
      `${where} is not a loadable TF.js ${format}: ${(e as Error).message}`,
      e,
    );
  }
  return {
    network,
    format,
    checksum: await checksumArtifacts(artifacts),
    metadata: artifacts.userDefinedMetadata as Record<string, unknown> | undefined,
  };
}

/**
 * Check a loader's options before any file is read: the `ClassifierOptions`
 * shape, and a pointed message for the flat `mean`/`std` that older
 * versions of the file loader took (and that would otherwise be dropped).
 */
export function checkLoaderOptions(options: unknown, loader: string): void {
  if (options && typeof options === 'object' && ('mean' in options || 'std' in options)) {
    throw new InputError(
      'INVALID_OPTION',
      `${loader} options: unknown option ${'mean' in options ? '"mean"' : '"std"'}; normalisation goes in preprocess: { mean, std } (the Classifier.create shape); accepted options are ${[...CLASSIFIER_OPTION_KEYS].sort().join(', ')}`,
    );
  }
  checkOptionKeys(options, CLASSIFIER_OPTION_KEYS, `${loader} options`);
}

/** Load from any IOHandler and wrap the network in a Classifier. */
export async function loadClassifierFrom(
  handler: tf.io.IOHandler,
  where: string,
  options: ClassifierOptions = {},
): Promise<LoadedClassifier> {
  checkLoaderOptions(options, 'loadClassifierFrom');
  const loaded = await loadNetworkFrom(handler, where);
  const model = Classifier.create(loaded.network, { ...options, name: options.name ?? where });
  return { ...loaded, model };
}

/** Load a model.json (and its weight files) over HTTP, e.g. in the browser. */
export function loadClassifierFromUrl(
  url: string,
  options: ClassifierOptions = {},
): Promise<LoadedClassifier> {
  checkLoaderOptions(options, 'loadClassifierFromUrl');
  return loadClassifierFrom(tf.io.http(url), url, options);
}

/**
 * Import an ONNX model (file bytes, or a URL fetched whole) into a
 * Classifier; its network's `inputShape` option is passed to the importer
 * for a model with dynamic spatial dimensions. External-data weights need
 * `externalData` (the Node file loader supplies a confined reader).
 *
 *   const { model } = await loadClassifierFromOnnx(bytes, { preprocess: { mean, std } });
 */
export async function loadClassifierFromOnnx(
  source: Uint8Array | ArrayBuffer | string,
  options: ClassifierOptions = {},
  importOptions: Pick<ImportOnnxOptions, 'externalData' | 'where'> = {},
): Promise<LoadedClassifier> {
  checkLoaderOptions(options, 'loadClassifierFromOnnx');
  let bytes: Uint8Array;
  let where = importOptions.where ?? 'the ONNX model';
  if (typeof source === 'string') {
    where = importOptions.where ?? source;
    let response: Response;
    try {
      response = await fetch(source);
    } catch (e) {
      throw new LoadError(
        'MODEL_LOAD',
        `cannot fetch the ONNX model ${source}: ${(e as Error).message}`,
        e,
      );
    }
    if (!response.ok)
      throw new LoadError(
        'MODEL_LOAD',
        `cannot fetch the ONNX model ${source}: HTTP ${response.status}`,
      );
    bytes = new Uint8Array(await response.arrayBuffer());
  } else bytes = source instanceof Uint8Array ? source : new Uint8Array(source);
  const shape = options.inputShape;
  const network = await importOnnx(bytes, {
    where,
    externalData: importOptions.externalData,
    inputShape: shape ? ([...shape] as [number, number, number]) : undefined,
  });
  let model: Classifier;
  try {
    model = Classifier.create(network, { ...options, name: options.name ?? where });
  } catch (e) {
    network.dispose();
    throw e;
  }
  return { network, format: 'onnx', checksum: network.checksum, model };
}
