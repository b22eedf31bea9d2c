/**
 * What a layers-model topology declares about its weights, checked against
 * a model.json's weightsManifest before TF.js builds the model: TF.js
 * allocates every weight the topology declares first and compares with the
 * manifest only afterwards, so a topology declaring a huge layer over small
 * weight files would allocate all of it before failing.
 */
import type * as tf from '@tensorflow/tfjs';
import { LoadError } from '../errors.js';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

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
 * Throws MODEL_LOAD unless a layers-model's topology fits its manifest:
 * each layer's weight shapes — what its config fixes (units, filters,
 * kernel and embedding sizes), and the input's channels where the shapes
 * of a Sequential topology can be followed — against the manifest's, and
 * the parameters the topology needs at least against the manifest's total.
 */
export function checkDeclaredLayers(json: tf.io.ModelJSON, file: string): void {
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
