/**
 * TF.js model files on disk (Node): an IOHandler that reads a `model.json`
 * (layers-model or graph-model format) with its weight shards, one that
 * writes `model.json` + `weights.bin` atomically, the format test, and the
 * model checksum reports quote (the same sha256 as `checksumArtifacts`).
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
        `${what} is ${st.size} bytes, more than the ${limits.max} a model.json may have`,
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

type WeightShapes = Map<string, number[]>;

const sizeList = (v: unknown, n: number): number[] | undefined =>
  typeof v === 'number' ? Array(n).fill(v) : Array.isArray(v) ? (v as number[]) : undefined;

/**
 * For each layer kind with weights: the weight names it creates, each with
 * the dimensions its config fixes; the input's channels (its last
 * dimension), where known, fill the one the input decides.
 */
function declaredWeights(
  cls: string,
  c: Record<string, unknown>,
  inChannels?: number,
): Record<string, (number | undefined)[]> | undefined {
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const conv = /^Conv([123])D$/.exec(cls);
  if (cls === 'Dense') return { kernel: [inChannels, n(c.units)] };
  if (conv) {
    const k = sizeList(c.kernel_size, Number(conv[1])) ?? [];
    return { kernel: [...k, inChannels, n(c.filters)] };
  }
  const k2 = sizeList(c.kernel_size, 2) ?? [];
  if (cls === 'DepthwiseConv2D') {
    return { depthwise_kernel: [...k2, inChannels, n(c.depth_multiplier) ?? 1] };
  }
  if (cls === 'SeparableConv2D') {
    // TF.js does not write SeparableConv2D's depth_multiplier: unknown when absent.
    const dm = n(c.depth_multiplier);
    return {
      depthwise_kernel: [...k2, inChannels, dm],
      pointwise_kernel: [
        1,
        1,
        inChannels === undefined || dm === undefined ? undefined : inChannels * dm,
        n(c.filters),
      ],
    };
  }
  if (cls === 'Embedding') return { embeddings: [n(c.input_dim), n(c.output_dim)] };
  return undefined;
}

/** Layers that keep their input's shape. */
const SAME_SHAPE = new Set([
  'Activation',
  'ReLU',
  'LeakyReLU',
  'ELU',
  'Softmax',
  'ThresholdedReLU',
  'Dropout',
  'SpatialDropout1D',
  'SpatialDropout2D',
  'GaussianNoise',
  'GaussianDropout',
  'AlphaDropout',
  'BatchNormalization',
  'LayerNormalization',
]);

/** The length of a convolution or pooling window's output, as Keras computes it. */
function windowed(size: number, k: number, stride: number, dilation: number, padding: unknown) {
  return padding === 'same'
    ? Math.ceil(size / stride)
    : Math.floor((size - (k - 1) * dilation - 1) / stride) + 1;
}

/**
 * The input shape (without the batch) of each layer of a Sequential
 * topology, as far as it can be followed: it stops at the first layer kind
 * whose output shape is not worked out here, so a layer not listed is
 * checked only by what its config fixes.
 */
function sequentialInputShapes(topology: unknown): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const node =
    isObject(topology) && isObject(topology.model_config) ? topology.model_config : topology;
  if (!isObject(node) || node.class_name !== 'Sequential') return out;
  const config = node.config;
  const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers)) return out;
  const first = layers[0] as { config?: Record<string, unknown> } | undefined;
  const bis = first?.config?.batch_input_shape;
  let shape = Array.isArray(bis) ? (bis.slice(1) as unknown[]) : [];
  if (shape.length === 0 || !shape.every((d) => Number.isSafeInteger(d) && (d as number) > 0))
    return out;
  for (const l of layers as { class_name?: unknown; config?: Record<string, unknown> }[]) {
    const c = l.config ?? {};
    const cls = String(l.class_name);
    if (c.data_format === 'channels_first') break;
    const dims = shape as number[];
    out.set(String(c.name), dims);
    const ch = dims[dims.length - 1];
    const spatial = dims.slice(0, -1);
    const conv = /^(?:Conv([123])D|DepthwiseConv2D|SeparableConv2D)$/.exec(cls);
    const pool = /^(?:Max|Average)Pooling([123])D$/.exec(cls);
    if (cls === 'InputLayer' || SAME_SHAPE.has(cls)) continue;
    if (cls === 'Dense') shape = [...spatial, Number(c.units)];
    else if (cls === 'Flatten') shape = [dims.reduce((a, b) => a * b, 1)];
    else if (/^Global(?:Max|Average)Pooling[123]D$/.test(cls)) shape = [ch];
    else if (conv || pool) {
      const r = Number(conv?.[1] ?? pool?.[1] ?? 2);
      const k = sizeList(conv ? c.kernel_size : c.pool_size, r) ?? [];
      const st = sizeList(c.strides ?? (pool ? c.pool_size : 1), r) ?? [];
      const dl = sizeList(c.dilation_rate ?? 1, r) ?? [];
      if (spatial.length !== r || k.length !== r) break;
      const sp = spatial.map((d, i) => windowed(d, k[i], st[i] ?? 1, dl[i] ?? 1, c.padding));
      const chOut =
        cls === 'DepthwiseConv2D'
          ? ch * (Number(c.depth_multiplier) || 1)
          : pool
            ? ch
            : Number(c.filters);
      shape = [...sp, chOut];
    } else if (cls === 'ZeroPadding2D' && spatial.length === 2) {
      const p = c.padding;
      const pads =
        typeof p === 'number'
          ? [
              [p, p],
              [p, p],
            ]
          : Array.isArray(p) && typeof p[0] === 'number'
            ? [
                [p[0], p[0]],
                [p[1], p[1]],
              ]
            : (p as number[][]);
      if (!Array.isArray(pads) || pads.length !== 2) break;
      shape = [spatial[0] + pads[0][0] + pads[0][1], spatial[1] + pads[1][0] + pads[1][1], ch];
    } else if (cls === 'Reshape' && Array.isArray(c.target_shape)) {
      const t = c.target_shape as number[];
      const total = dims.reduce((a, b) => a * b, 1);
      const known = t.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      shape = t.map((d) => (d === -1 ? total / known : d));
    } else break;
    if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) > 0)) break;
  }
  return out;
}

/** The layer configs of a layers-model topology, nested models included. */
function layerConfigs(node: unknown, out: { cls: string; config: Record<string, unknown> }[]) {
  if (!isObject(node)) return out;
  const inner = isObject(node.model_config) ? node.model_config : node;
  const config = inner.config;
  const layers = Array.isArray(config) ? config : isObject(config) ? config.layers : undefined;
  if (!Array.isArray(layers)) return out;
  for (const l of layers) {
    if (!isObject(l) || typeof l.class_name !== 'string' || !isObject(l.config)) continue;
    out.push({ cls: l.class_name, config: l.config });
    layerConfigs(l, out);
  }
  return out;
}

/**
 * TF.js builds a layers model — allocating every weight its topology
 * declares — before it compares the weights with the manifest, so a
 * model.json declaring a huge layer over small weight files would allocate
 * all of it first. Compare what each layer's config fixes (units, filters,
 * kernel sizes, embedding sizes) with the manifest's shapes, and the
 * parameters the topology needs at least with the manifest's total, first.
 */
function checkDeclaredLayers(json: tf.io.ModelJSON, file: string): void {
  if (modelFormat(json, file) !== 'layers-model') return;
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const shapes: WeightShapes = new Map(specs.map((w) => [w.name, w.shape]));
  const manifestParams = specs.reduce((a, w) => a + w.shape.reduce((p, d) => p * d, 1), 0);
  const find = (name: string) => {
    for (const [k, v] of shapes) if (k === name || k.endsWith(`/${name}`)) return v;
    return undefined;
  };
  const inputs = sequentialInputShapes(json.modelTopology);
  let atLeast = 0;
  for (const { cls, config } of layerConfigs(json.modelTopology, [])) {
    const input = inputs.get(String(config.name));
    const declared = declaredWeights(cls, config, input?.[input.length - 1]);
    if (!declared) continue;
    for (const [weight, dims] of Object.entries(declared)) {
      atLeast += dims.reduce<number>((a, d) => a * (d ?? 1), 1);
      const name = `${String(config.name)}/${weight}`;
      const got = find(name);
      if (!got) continue;
      const fits =
        got.length === dims.length && dims.every((d, i) => d === undefined || d === got[i]);
      if (!fits) {
        const want = dims.map((d) => d ?? '?').join(', ');
        throw new LoadError(
          'MODEL_LOAD',
          `${file}: layer ${String(config.name)} (${cls}) declares ${weight} [${want}]${input ? ` for an input of shape [${input.join(', ')}]` : ''} but the weightsManifest has ${name} [${got.join(', ')}]; the topology and the weights do not belong together`,
        );
      }
    }
  }
  if (atLeast > manifestParams) {
    throw new LoadError(
      'MODEL_LOAD',
      `${file}: the topology's layers need at least ${atLeast} parameters but the weightsManifest holds ${manifestParams}; the topology and the weights do not belong together`,
    );
  }
}

/** A tf.io.IOHandler reading a model.json and the weight shards its manifest names. */
export function fileLoadHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const json = readJson(modelJsonPath);
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
