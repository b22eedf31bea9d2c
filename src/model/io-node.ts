/**
 * TF.js model files on disk (Node): an IOHandler that reads a `model.json`
 * (layers-model or graph-model format) with its weight shards, one that
 * writes `model.json` + `weights.bin` atomically, the format test, and the
 * model checksum reports quote (the same sha256 as `checksumArtifacts`).
 * A model.json is untrusted: its weight paths stay inside its folder, only
 * regular files are read, sizes are checked before reading, and the
 * topology is checked against the manifest before TF.js builds it.
 *
 *   const net = await tf.loadLayersModel(fileLoadHandler('models/mnist-cnn/model.json'));
 *   await net.save(fileSaveHandler('out/my-model'));
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { InputError, LoadError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic.js';
import { checkDeclaredLayers } from './declared-weights.js';
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

/**
 * model.json holds the topology and the manifest: even large graph models
 * stay far below this, and a bigger file is not worth reading into memory.
 */
const MAX_MODEL_JSON_BYTES = 256 * 1024 * 1024;

/**
 * Read a whole regular file whose size must be `expect` bytes (any size up
 * to `max` when `expect` is undefined). Opened without blocking, so a FIFO
 * cannot hang the read, and checked on the open descriptor, so nothing is
 * read from a device or a file that changed size since it was checked.
 */
function readRegularFile(
  file: string,
  what: string,
  limits: { expect?: number; max?: number },
): Buffer {
  const fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new LoadError('MODEL_LOAD', `${what} is not a regular file; expected a file`);
    }
    if (limits.expect !== undefined && st.size !== limits.expect) {
      throw new LoadError(
        'MODEL_LOAD',
        `${what} changed size while being read (${st.size} bytes, expected ${limits.expect})`,
      );
    }
    if (limits.max !== undefined && st.size > limits.max) {
      throw new LoadError(
        'MODEL_LOAD',
        `${what} is ${st.size} bytes, more than the ${limits.max} such a file may have`,
      );
    }
    const buf = Buffer.allocUnsafe(st.size);
    let at = 0;
    while (at < st.size) {
      const n = readSync(fd, buf, at, st.size - at, at);
      if (n === 0) break;
      at += n;
    }
    if (at !== st.size) {
      throw new LoadError(
        'MODEL_LOAD',
        `${what} ended after ${at} of its ${st.size} bytes while being read`,
      );
    }
    return buf;
  } finally {
    closeSync(fd);
  }
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
  const bytes = readRegularFile(file, `model file ${file}`, { max: MAX_MODEL_JSON_BYTES });
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new LoadError(
      'MODEL_LOAD',
      `${file} is not valid JSON (${(e as Error).message}); expected a TF.js model.json`,
      e,
    );
  }
  modelFormat(json, file);
  const manifest = (json as { weightsManifest?: unknown }).weightsManifest;
  const specOk = (w: unknown) =>
    isObject(w) &&
    typeof w.name === 'string' &&
    typeof w.dtype === 'string' &&
    Array.isArray(w.shape) &&
    w.shape.every((d) => Number.isSafeInteger(d) && d >= 0);
  const groupOk = (g: unknown) =>
    isObject(g) &&
    Array.isArray(g.paths) &&
    g.paths.every((p) => typeof p === 'string') &&
    Array.isArray(g.weights) &&
    g.weights.every(specOk);
  if (!Array.isArray(manifest) || !manifest.every(groupOk)) {
    throw new LoadError(
      'MODEL_LOAD',
      `${file} has no valid weightsManifest; expected a list of { paths: [weight files], weights: [{ name, shape: [non-negative integers], dtype }] }`,
    );
  }
  return json as tf.io.ModelJSON;
}

const within = (dir: string, p: string) =>
  p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

/**
 * The real path of weight file `p` named in `file`'s manifest, refused
 * unless it stays inside the model's folder once symlinks are resolved and
 * is a regular file. A refused path is named as written; nothing about the
 * outside file (not even its size) is told.
 */
function weightFile(file: string, p: string): { real: string; size: number } {
  const refuse = (why: string): never => {
    throw new LoadError(
      'MODEL_LOAD',
      `weight path ${JSON.stringify(p)} in ${file} ${why}; weight files must be regular files inside the model's folder`,
    );
  };
  if (p === '' || p.includes('\0')) refuse('is empty or holds a NUL byte');
  if (path.isAbsolute(p) || /^[a-z][a-z0-9+.-]*:/i.test(p)) refuse('is absolute');
  const dir = path.dirname(path.resolve(file));
  const shard = path.resolve(dir, p);
  if (!within(dir, shard)) refuse('leads out of the folder');
  if (!existsSync(shard)) {
    throw new LoadError(
      'MODEL_LOAD',
      `weight file ${shard} named in ${file} does not exist; keep the weight files next to model.json`,
    );
  }
  const real = realpathSync(shard);
  if (!within(realpathSync(dir), real)) refuse('leads out of the folder through a symbolic link');
  const st = statSync(real);
  if (!st.isFile()) refuse('is not a regular file');
  return { real, size: st.size };
}

/**
 * The weight bytes of every manifest group. Every path is confined and
 * every group's file sizes are compared with what its specs describe
 * before a byte is read.
 */
function readWeights(file: string, manifest: tf.io.WeightsManifestConfig): ArrayBuffer {
  const groups = manifest.map((group) => {
    const files = group.paths.map((p) => ({ p, ...weightFile(file, p) }));
    const bytes = files.reduce((a, f) => a + f.size, 0);
    // String weights have no fixed size; every other dtype does.
    if (!group.weights.some((w) => w.dtype === 'string')) {
      const want = group.weights.reduce((a, w) => a + weightSpecBytes(w), 0);
      if (want !== bytes) {
        throw new LoadError(
          'MODEL_LOAD',
          `weight files ${group.paths.join(', ')} hold ${bytes} bytes but the manifest in ${file} describes ${want}; the weight files do not belong to this model.json`,
        );
      }
    }
    return files;
  });
  const chunks = groups
    .flat()
    .map((f) => readRegularFile(f.real, `weight file ${f.p} named in ${file}`, { expect: f.size }));
  const all = Buffer.concat(chunks);
  return all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer;
}

/** A tf.io.IOHandler reading a model.json and the weight shards its manifest names. */
export function fileLoadHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = readJson(modelJsonPath);
      if (modelFormat(json, modelJsonPath) === 'layers-model')
        checkDeclaredLayers(json, modelJsonPath);
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

/** protobuf's own limit: a larger .onnx file keeps its weights as external data. */
const MAX_ONNX_BYTES = 2 ** 31 - 1;
/** Node's largest Buffer; an external-data file beyond it cannot be read whole. */
const MAX_EXTERNAL_BYTES = 2 ** 32 - 1;

/**
 * The real path of external-data file `location` named in the .onnx
 * `file`, refused unless it stays inside the model's folder once symlinks
 * are resolved and is a regular file (the rules of `weightFile`).
 */
function externalFile(file: string, location: string): { real: string; size: number } {
  const refuse = (why: string): never => {
    throw new LoadError(
      'MODEL_LOAD',
      `external data location ${JSON.stringify(location)} in ${file} ${why}; external data must be regular files inside the model's folder`,
    );
  };
  if (location === '' || location.includes('\0')) refuse('is empty or holds a NUL byte');
  if (path.isAbsolute(location) || /^[a-z][a-z0-9+.-]*:/i.test(location)) refuse('is absolute');
  const dir = path.dirname(path.resolve(file));
  const target = path.resolve(dir, location);
  if (!within(dir, target)) refuse('leads out of the folder');
  if (!existsSync(target))
    throw new LoadError(
      'MODEL_LOAD',
      `external data file ${target} named in ${file} does not exist; keep it next to the .onnx file`,
    );
  const real = realpathSync(target);
  if (!within(realpathSync(dir), real)) refuse('leads out of the folder through a symbolic link');
  const st = statSync(real);
  if (!st.isFile()) refuse('is not a regular file');
  if (st.size > MAX_EXTERNAL_BYTES)
    refuse(`is ${st.size} bytes, more than the ${MAX_EXTERNAL_BYTES} advkit reads`);
  return { real, size: st.size };
}

/**
 * An .onnx file's bytes and a reader of the external-data files it names
 * (each confined to the model's folder, read once, sizes checked on the
 * open file).
 */
export function readOnnxFiles(file: string): {
  bytes: Uint8Array;
  externalData: (location: string) => Uint8Array;
} {
  if (!existsSync(file))
    throw new LoadError(
      'MODEL_LOAD',
      `model file ${file} does not exist; expected the path of an .onnx file`,
    );
  if (statSync(file).isDirectory())
    throw new LoadError('MODEL_LOAD', `${file} is a folder; expected the path of an .onnx file`);
  const bytes = readRegularFile(file, `model file ${file}`, { max: MAX_ONNX_BYTES });
  return {
    bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    externalData: (location) => {
      const f = externalFile(file, location);
      const b = readRegularFile(f.real, `external data ${JSON.stringify(location)} of ${file}`, {
        expect: f.size,
      });
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
  };
}
