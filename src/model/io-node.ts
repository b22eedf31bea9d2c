/**
 * TF.js model files on disk (Node): an IOHandler that reads a `model.json`
 * (layers-model or graph-model format) with its weight shards, one that
 * writes `model.json` + `weights.bin` atomically, the format test, and the
 * model checksum reports quote (the same sha256 as `checksumArtifacts`).
 *
 *   const net = await tf.loadLayersModel(fileLoadHandler('models/mnist-cnn/model.json'));
 *   await net.save(fileSaveHandler('out/my-model'));
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InputError, LoadError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic.js';
import { checksumArtifacts, weightSpecBytes } from './load.js';

export type ModelFormat = 'layers-model' | 'graph-model';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The format of a parsed model.json: its `format` field, else its topology
 * (`node` list: graph-model; `class_name` or Keras's `model_config`:
 * layers-model). Anything else is a MODEL_LOAD error naming `where`.
 */
export function modelFormat(json: unknown, where = 'model.json'): ModelFormat {
  const topology = isObject(json) ? json.modelTopology : undefined;
  if (!isObject(json) || !isObject(topology)) {
    const keys = isObject(json)
      ? `keys [${Object.keys(json).slice(0, 8).join(', ')}]`
      : typeof json;
    throw new LoadError(
      'MODEL_LOAD',
      `${where} is not a TF.js model.json: expected an object with a modelTopology; received ${keys}`,
    );
  }
  if (json.format === 'graph-model' || Array.isArray(topology.node)) return 'graph-model';
  if (json.format === 'layers-model' || 'class_name' in topology || 'model_config' in topology)
    return 'layers-model';
  throw new LoadError(
    'MODEL_LOAD',
    `${where} is not a TF.js model.json: format ${JSON.stringify(json.format)} and a modelTopology with keys [${Object.keys(topology).slice(0, 8).join(', ')}]; expected format 'layers-model' or 'graph-model', or a topology with class_name/model_config (layers) or node (graph)`,
  );
}

function readJson(file: string): tf.io.ModelJSON {
  if (!existsSync(file)) {
    throw new LoadError(
      'MODEL_LOAD',
      `model file ${file} does not exist; expected the path of a TF.js model.json`,
    );
  }
  if (statSync(file).isDirectory()) {
    throw new LoadError(
      'MODEL_LOAD',
      `${file} is a folder; expected the path of its model.json (${path.join(file, 'model.json')})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new LoadError(
      'MODEL_LOAD',
      `${file} is not valid JSON (${(e as Error).message}); expected a TF.js model.json`,
      e,
    );
  }
  modelFormat(json, file);
  const manifest = (json as { weightsManifest?: unknown }).weightsManifest;
  const groupOk = (g: unknown) =>
    isObject(g) &&
    Array.isArray(g.paths) &&
    g.paths.every((p) => typeof p === 'string') &&
    Array.isArray(g.weights);
  if (!Array.isArray(manifest) || !manifest.every(groupOk)) {
    throw new LoadError(
      'MODEL_LOAD',
      `${file} has no valid weightsManifest; expected a list of { paths: [weight files], weights: [specs] }`,
    );
  }
  return json as tf.io.ModelJSON;
}

/** The weight bytes of every manifest group, each group's size checked. */
function readWeights(file: string, manifest: tf.io.WeightsManifestConfig): ArrayBuffer {
  const dir = path.dirname(file);
  const chunks: Uint8Array[] = [];
  for (const group of manifest) {
    let bytes = 0;
    for (const p of group.paths) {
      const shard = path.resolve(dir, p);
      if (!existsSync(shard)) {
        throw new LoadError(
          'MODEL_LOAD',
          `weight file ${shard} named in ${file} does not exist; keep the weight files next to model.json`,
        );
      }
      const b = readFileSync(shard);
      bytes += b.byteLength;
      chunks.push(b);
    }
    // String weights have no fixed size; every other dtype does.
    if (group.weights.some((w) => w.dtype === 'string')) continue;
    const want = group.weights.reduce((a, w) => a + weightSpecBytes(w), 0);
    if (want !== bytes) {
      throw new LoadError(
        'MODEL_LOAD',
        `weight files ${group.paths.join(', ')} hold ${bytes} bytes but the manifest in ${file} describes ${want}; the weight files do not belong to this model.json`,
      );
    }
  }
  const all = Buffer.concat(chunks);
  return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
}

/** A tf.io.IOHandler reading a model.json and the weight shards its manifest names. */
export function fileLoadHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = readJson(modelJsonPath);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => [
        manifest.flatMap((g) => g.weights),
        readWeights(modelJsonPath, manifest),
      ]);
    },
  };
}

/**
 * A tf.io.IOHandler writing `dir/model.json` and `dir/weights.bin` (one
 * shard), each atomically: weights first, so a model.json on disk never
 * names weights that were not fully written.
 */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new InputError(
          'INVALID_OPTION',
          `fileSaveHandler(${dir}): the model's topology is a binary GraphDef; only JSON topologies can be written as model.json`,
        );
      }
      await mkdir(dir, { recursive: true });
      const weights = new Uint8Array(
        artifacts.weightData ? tf.io.concatenateArrayBuffers(artifacts.weightData) : [],
      );
      await writeFileAtomic(path.join(dir, 'weights.bin'), weights);
      const json: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: ['./weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
        ...(artifacts.signature ? { signature: artifacts.signature } : {}),
        ...(artifacts.userDefinedMetadata
          ? { userDefinedMetadata: artifacts.userDefinedMetadata }
          : {}),
        ...(artifacts.modelInitializer ? { modelInitializer: artifacts.modelInitializer } : {}),
      };
      await writeFileAtomic(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

/**
 * sha256 (hex) of a model on disk: its topology JSON and weight bytes, the
 * value `loadClassifierFromFile` reports, so a report names the exact weights.
 */
export async function checksumModelFiles(modelJsonPath: string): Promise<string> {
  const artifacts = await fileLoadHandler(modelJsonPath).load!();
  return checksumArtifacts(artifacts);
}
