/**
 * ONNX models (PyTorch exports) as advkit networks: `importOnnx` parses a
 * .onnx file (`proto.ts`), reads its weights (`tensors.ts`, external data
 * through `options.externalData`), refuses what it cannot translate with
 * one error naming every unsupported op and its nodes, and translates the
 * graph to TF.js ops in NHWC (`translate.ts`). Browser-safe: no node:
 * imports; the Node loader (`../load-node.ts`) supplies the external-data
 * reader confined to the model's folder.
 *
 *   const net = await importOnnx(bytes);
 *   const model = Classifier.create(net, { bounds: [0, 1], preprocess: { mean, std } });
 */
import * as tf from '@tensorflow/tfjs';
import { InputError, LoadError } from '../../errors.js';
import { sha256Hex } from '../networks/artifacts.js';
import type { TranslatedGraph } from './graph.js';
import { translators } from './ops/index.js';
import { decodeModel, type ModelProto, type NodeProto, toNumber } from './proto.js';
import { runGraph } from './run.js';
import { decodeTensor, type ExternalData, tensorFromProto } from './tensors.js';
import { translateGraph } from './translate.js';

export type { NodeSpec, TranslatedGraph, TranslatedNode, ValueInfo } from './graph.js';
export type { ExternalData } from './tensors.js';

export interface ImportOnnxOptions {
  /** Reads an external-data file named by the model (a path relative to the model's folder). */
  externalData?: ExternalData;
  /** The model's name in messages (its path). */
  where?: string;
  /** NHWC [h, w, c] for a model whose input leaves its spatial size dynamic. */
  inputShape?: [number, number, number];
}

export interface OnnxNetwork {
  readonly kind: 'onnx';
  /** advkit's NHWC [h, w, c], from the model's NCHW input. */
  readonly inputShape: [number, number, number];
  readonly opset: number;
  readonly producer: string;
  readonly nodeCount: number;
  /** sha256 hex over the file's bytes followed by each external-data file's. */
  readonly checksum: string;
  readonly graph: TranslatedGraph;
  /** Set when the graph ends in Softmax / Sigmoid / LogSoftmax. */
  readonly outputActivation?: { op: 'Softmax' | 'Sigmoid' | 'LogSoftmax'; node: string };
  /** NHWC input → the graph's output (differentiable, TF.js ops). */
  forward(x: tf.Tensor4D): tf.Tensor;
  /** The input of the final Softmax / Sigmoid / LogSoftmax (logits), when there is one. */
  forwardBeforeActivation?(x: tf.Tensor4D): tf.Tensor;
  /** What the network was imported from: how a worker thread imports it again. */
  readonly source: OnnxSource;
  dispose(): void;
}

/** A model's file bytes and the external-data files it read (structured-cloneable). */
export interface OnnxSource {
  bytes: Uint8Array;
  external: Record<string, Uint8Array>;
  where: string;
  inputShape?: [number, number, number];
}

/** Imports a network again from its `source` (in a worker). */
export function importOnnxSource(source: OnnxSource): Promise<OnnxNetwork> {
  return importOnnx(source.bytes, {
    where: source.where,
    inputShape: source.inputShape,
    externalData: (location) => {
      const f = source.external[location];
      if (!f)
        throw new LoadError(
          'MODEL_LOAD',
          `${source.where}: external data ${JSON.stringify(location)} was not sent with the model`,
        );
      return f;
    },
  });
}

export const MIN_OPSET = 7;
export const MAX_OPSET = 18;

/** The translators' ops plus Constant (read before translation). */
export const SUPPORTED_OPS: readonly string[] = [...Object.keys(translators), 'Constant'].sort();

function opsetOf(model: ModelProto, where: string): number {
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const opset = entry ? toNumber(entry.version) : 0;
  if (opset < MIN_OPSET || opset > MAX_OPSET)
    throw new LoadError(
      'MODEL_LOAD',
      `${where} uses ONNX opset ${opset || '(none)'}; advkit translates opsets ${MIN_OPSET}–${MAX_OPSET} (re-export with torch.onnx.export(..., opset_version=13))`,
    );
  return opset;
}

function refuseUnsupported(nodes: NodeProto[], where: string): void {
  const bad = new Map<string, string[]>();
  nodes.forEach((n, k) => {
    const known =
      (n.domain === '' || n.domain === 'ai.onnx') &&
      (n.opType === 'Constant' || n.opType in translators);
    if (known) return;
    const op = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    const list = bad.get(op) ?? [];
    list.push(n.name || `#${k}`);
    bad.set(op, list);
  });
  if (bad.size === 0) return;
  const lines = [...bad].map(
    ([op, names]) =>
      `${op} (${names.length} node${names.length > 1 ? 's' : ''}: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''})`,
  );
  throw new LoadError(
    'MODEL_LOAD',
    `${where} uses ${bad.size} op${bad.size > 1 ? 's' : ''} advkit cannot translate: ${lines.join('; ')}. Supported: ${SUPPORTED_OPS.join(', ')}`,
  );
}

function inputInfo(model: ModelProto, where: string, given?: [number, number, number]) {
  const graph = model.graph!;
  const initialized = new Set(graph.initializer.map((t) => t.name));
  const inputs = graph.input.filter((i) => !initialized.has(i.name));
  if (inputs.length !== 1)
    throw new LoadError(
      'MODEL_LOAD',
      `${where} has ${inputs.length} graph inputs (${inputs.map((i) => JSON.stringify(i.name)).join(', ') || 'none'}); advkit attacks models with one image input`,
    );
  const input = inputs[0];
  const tensor = input.type?.tensorType;
  const dims = tensor?.shape?.dim ?? [];
  if (dims.length !== 4)
    throw new LoadError(
      'MODEL_LOAD',
      `${where}: input ${JSON.stringify(input.name)} has ${tensor?.shape ? `rank ${dims.length}` : 'no declared shape'}; advkit needs a 4-D NCHW image input [N, C, H, W]`,
    );
  if (tensor && tensor.elemType !== 1)
    throw new LoadError(
      'MODEL_LOAD',
      `${where}: input ${JSON.stringify(input.name)} has ONNX element type ${tensor.elemType}; advkit needs float32 (1)`,
    );
  const size = dims.map((d) =>
    d.dimParam ? 0 : d.dimValue === undefined ? 0 : toNumber(d.dimValue),
  );
  const [n, c, h, w] = size;
  let shape: [number, number, number];
  if (given) {
    // Checked here, before the graph is traced at this size.
    if (given.length !== 3 || !given.every((d) => Number.isInteger(d) && d > 0))
      throw new InputError(
        'INVALID_SHAPE',
        `inputShape must be [height, width, channels] of positive integers; received [${given}]`,
      );
    const clash = [h, w, c].some((v, i) => v > 0 && v !== given[i]);
    if (clash)
      throw new InputError(
        'INVALID_SHAPE',
        `inputShape [${given.join(', ')}] (NHWC) contradicts ${where}'s input [${size.map((v) => v || '?').join(', ')}] (NCHW)`,
      );
    shape = given;
  } else {
    if (!(h > 0 && w > 0 && c > 0))
      throw new LoadError(
        'MODEL_LOAD',
        `${where}: input ${JSON.stringify(input.name)} has dynamic dimensions [${dims.map((d) => d.dimParam || (d.dimValue ? toNumber(d.dimValue) : '?')).join(', ')}]; give the image size as inputShape [h, w, c] (CLI: --input-shape)`,
      );
    shape = [h, w, c];
  }
  return { name: input.name, shape, fileBatch: n > 0 ? n : undefined };
}

export async function importOnnx(
  bytes: Uint8Array,
  options: ImportOnnxOptions = {},
): Promise<OnnxNetwork> {
  const where = options.where ?? 'the ONNX model';
  const model = decodeModel(bytes, where);
  const graph = model.graph!;
  const opset = opsetOf(model, where);
  refuseUnsupported(graph.node, where);
  const input = inputInfo(model, where, options.inputShape);
  if (graph.output.length !== 1)
    throw new LoadError(
      'MODEL_LOAD',
      `${where} has ${graph.output.length} graph outputs (${graph.output.map((o) => JSON.stringify(o.name)).join(', ')}); advkit needs one output (the class scores)`,
    );

  // External files are read once each, in order of first use (the checksum covers them).
  const files = new Map<string, Uint8Array>();
  const external: ExternalData | undefined = options.externalData
    ? async (location) => {
        let f = files.get(location);
        if (!f) {
          f = await options.externalData!(location);
          files.set(location, f);
        }
        return f;
      }
    : undefined;
  const constants = new Map<string, tf.Tensor>();
  const nodes: NodeProto[] = [];
  let translated: TranslatedGraph;
  try {
    for (const t of graph.initializer)
      constants.set(
        t.name,
        await tensorFromProto(t, external, `initializer ${JSON.stringify(t.name)} in ${where}`),
      );
    for (const [k, n] of graph.node.entries()) {
      if (n.opType !== 'Constant') {
        nodes.push({ ...n, output: [...n.output] });
        continue;
      }
      constants.set(
        n.output[0],
        constantValue(n, `Constant node ${JSON.stringify(n.name || `#${k}`)} in ${where}`),
      );
    }
    translated = translateGraph({
      nodes,
      constants,
      inputName: input.name,
      outputName: graph.output[0].name,
      inputShape: input.shape,
      fileBatch: input.fileBatch,
      opset,
      where,
    });
  } finally {
    for (const t of constants.values()) t.dispose();
  }
  const checksum = await sha256Hex([bytes, ...files.values()]);
  const last = translated.nodes.find((n) => n.output === translated.output);
  const finalOp = last && ['Softmax', 'Sigmoid', 'LogSoftmax'].includes(last.op) ? last : undefined;
  const [h, w, c] = input.shape;
  const check = (x: tf.Tensor4D) => {
    const s = x.shape;
    if (s.length !== 4 || s[1] !== h || s[2] !== w || s[3] !== c)
      throw new InputError(
        'INVALID_SHAPE',
        `${where} takes NHWC images [N, ${h}, ${w}, ${c}]; received [${s}]`,
      );
  };
  return {
    kind: 'onnx',
    inputShape: input.shape,
    opset,
    producer: `${model.producerName}${model.producerVersion ? ` ${model.producerVersion}` : ''}`,
    nodeCount: graph.node.length,
    checksum,
    graph: translated,
    outputActivation: finalOp
      ? { op: finalOp.op as 'Softmax' | 'Sigmoid' | 'LogSoftmax', node: finalOp.name }
      : undefined,
    forward(x) {
      check(x);
      return runGraph(translated, x);
    },
    forwardBeforeActivation: finalOp
      ? (x) => {
          check(x);
          return runGraph(translated, x, finalOp.inputs[0]);
        }
      : undefined,
    source: { bytes, external: Object.fromEntries(files), where, inputShape: options.inputShape },
    dispose: () => translated.dispose(),
  };
}

/** A Constant node's value (value, value_float(s), value_int(s)). */
function constantValue(n: NodeProto, where: string): tf.Tensor {
  const a = n.attribute[0];
  if (!a) throw new LoadError('MODEL_LOAD', `${where} has no value`);
  switch (a.name) {
    case 'value':
      if (!a.t) break;
      return decodeTensor(a.t, where);
    case 'value_float':
      return tf.scalar(a.f, 'float32');
    case 'value_floats':
      return tf.tensor1d(a.floats, 'float32');
    case 'value_int':
      return tf.scalar(toNumber(a.i), 'int32');
    case 'value_ints':
      return tf.tensor1d(a.ints.map(toNumber), 'int32');
  }
  throw new LoadError(
    'MODEL_LOAD',
    `${where} has a ${a.name} value; advkit reads value, value_float(s) and value_int(s)`,
  );
}
