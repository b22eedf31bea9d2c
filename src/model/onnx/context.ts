/**
 * What an op translator sees of the node it translates (`OpContext`) and
 * the values it reads. Translators are written once for two situations:
 *
 * - folding: every input is known at load (initializers, Constant outputs,
 *   shapes), so `emit` evaluates the op at once and its output becomes a
 *   constant (all inputs are held in ONNX order, `layout` is 'plain');
 * - runtime: some input depends on the image, so `emit` adds a node to the
 *   translated graph, and the translator picks the layout it wants each
 *   runtime input in (`input(i, layout)`: a transpose is inserted when the
 *   value is held otherwise).
 *
 * Shapes are traced with a dummy image at two batch sizes ("worlds"), so
 * a value that depends on the batch size — the `[N, 768, 196]` a ViT export
 * computes with Shape/Gather/Concat before a Reshape — is known as a linear
 * function of N (`batchInts`), and runtime nodes recover N from the shape
 * of an input (`batchReader`).
 */
import type * as tf from '@tensorflow/tfjs';
import type { LoadError } from '../../errors.js';
import type { NodeSpec } from './graph.js';
import { type AttributeProto, type NodeProto, toNumber } from './proto.js';

export type Layout = 'nhwc' | 'plain';

export interface Emit {
  /** Value handles from `input` (runtime) — the op's runtime operands, in apply's order. */
  inputs: number[];
  apply(xs: tf.Tensor[]): tf.Tensor;
  spec: NodeSpec;
  /** How the output is held; a 4-D output may be 'nhwc' (held NHWC, meaning NCHW). */
  layout: Layout;
  /** Which ONNX output this writes (Split writes several). */
  output?: number;
  /** Constants `apply` closes over, freed with the graph. */
  keep?: tf.Tensor[];
  /**
   * The output is a feature map [C, H, W] flattened in NHWC order (H, W, C)
   * where ONNX has C, H, W: only a Gemm may read it, permuting its weight rows.
   */
  flatNhwc?: [number, number, number];
}

export interface OpContext {
  readonly node: NodeProto;
  /** The node's name for messages and translated nodes. */
  readonly name: string;
  /** The default-domain opset the model imports. */
  readonly opset: number;
  /** True while the node is evaluated at load (all inputs known). */
  readonly folding: boolean;
  /** Whether ONNX input i is given (optional inputs may be absent or ''). */
  has(i: number): boolean;
  /** Input i is known at load. */
  isConst(i: number): boolean;
  /** The value of a known input (ONNX order), for this world while folding. */
  constant(i: number): tf.Tensor;
  /** A known integer input as numbers (axes, shapes, pads). */
  ints(i: number): number[];
  /** A known integer input that may depend on the batch size: its value at batch N. */
  batchInts(i: number): (batch: number) => number[];
  /** Input i's ONNX shape (NCHW for an NHWC-held value), at this world's batch when folding. */
  shape(i: number): number[];
  /** How runtime input i is held. */
  layout(i: number): Layout;
  /** [C, H, W] when input i is a feature map flattened in NHWC order (see `Emit.flatNhwc`). */
  flatNhwc(i: number): [number, number, number] | undefined;
  /**
   * A handle for input i to list in `Emit.inputs`, held as `want` (a 4-D
   * value is transposed when held otherwise; other ranks are always plain).
   */
  input(i: number, want?: Layout): number;
  /**
   * Handles plus a reader of the batch size from the tensors `apply`
   * receives: from a listed input whose shape follows the batch, else from
   * the image, appended to the handles.
   */
  batchReader(handles: number[]): { inputs: number[]; read(xs: tf.Tensor[]): number };
  emit(e: Emit): void;
  /** Output `o` is input `i` unchanged (Identity, Dropout, a float-to-float Cast). */
  alias(i: number, o?: number): void;
  /** Output 0 is runtime input `i`'s held tensor read as `layout` (a Transpose that is free as held). */
  aliasAs(i: number, layout: Layout): void;
  /** The nodes that read this node's output `o`, and whether it is a graph output. */
  consumers(o?: number): { nodes: NodeProto[]; graphOutput: boolean };
  /** Translate `node` (a sole consumer) as part of this one: its output becomes this node's. */
  absorb(node: NodeProto): void;
  /** A known input of another node (for absorbing). */
  constantOf(name: string): tf.Tensor | undefined;
  fail(message: string): LoadError;
  attr: Attributes;
}

export interface Attributes {
  int(name: string, fallback: number): number;
  ints(name: string, fallback: number[]): number[];
  float(name: string, fallback: number): number;
  string(name: string, fallback: string): string;
  has(name: string): boolean;
  raw(name: string): AttributeProto | undefined;
}

export function attributes(node: NodeProto): Attributes {
  const find = (name: string) => node.attribute.find((a) => a.name === name);
  return {
    int: (name, fallback) => {
      const a = find(name);
      return a ? toNumber(a.i) : fallback;
    },
    ints: (name, fallback) => {
      const a = find(name);
      return a ? a.ints.map(toNumber) : fallback;
    },
    float: (name, fallback) => find(name)?.f ?? fallback,
    string: (name, fallback) => {
      const a = find(name);
      return a ? new TextDecoder().decode(a.s) : fallback;
    },
    has: (name) => find(name) !== undefined,
    raw: find,
  };
}

/** ONNX axis of a 4-D NCHW value → its axis in the NHWC-held tensor. */
export const NHWC_AXIS = [0, 3, 1, 2];
/** NHWC-held → NCHW (ONNX order), and back. */
export const TO_NCHW = [0, 3, 1, 2];
export const TO_NHWC = [0, 2, 3, 1];

export const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/**
 * A constant broadcast against an NHWC-held value: ONNX broadcasts it
 * against NCHW, so pad it to rank 4 and move its channel axis last.
 */
export function constantToNhwc(t: tf.Tensor, tfx: typeof tf): tf.Tensor {
  if (t.size === 1) return t.reshape([]);
  if (t.rank > 4) throw new Error(`rank-${t.rank} constant against a 4-D value`);
  const r4 = t.reshape([...new Array(4 - t.rank).fill(1), ...t.shape]);
  return tfx.transpose(r4, TO_NHWC);
}
