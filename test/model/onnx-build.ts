/**
 * Small ONNX models written in a test: nodes, initializers and one input,
 * encoded with protobufjs and advkit's own onnx.proto descriptor, so each
 * op and each error has a model made for it (no PyTorch needed).
 *
 *   const bytes = onnxModel({ input: ['x', [1, 2, 4, 4]], output: 'y',
 *     nodes: [node('Relu', ['x'], ['y'])] });
 */
import protobuf from 'protobufjs/light.js';
import { onnxSchema } from '../../src/model/onnx/proto.js';

type AttrValue = number | number[] | string | { f: number } | { floats: number[] };

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: Record<string, AttrValue>;
}

export type Encoding =
  | 'float'
  | 'float16'
  | 'double'
  | 'int64'
  | 'int32'
  | 'float-field'
  | 'int64-field';

export interface InitSpec {
  dims: number[];
  data: ArrayLike<number>;
  encoding?: Encoding;
  /** Stored externally: location, offset, length (the caller writes the file). */
  external?: { location: string; offset?: number; length?: number };
}

export interface ModelSpec {
  /** name and NCHW dims (a string is a dim_param); several for the error tests. */
  input?: [string, (number | string)[]];
  inputs?: [string, (number | string)[]][];
  output?: string;
  outputs?: string[];
  nodes: NodeSpec[];
  initializers?: Record<string, InitSpec>;
  opset?: number;
}

export const node = (
  op: string,
  inputs: string[],
  outputs: string[],
  attrs?: Record<string, AttrValue>,
  name?: string,
): NodeSpec => ({ op, inputs, outputs, attrs, name: name ?? `${op}_${outputs[0]}` });

function float16(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >> 16) & 0x8000;
  const exp = ((u >> 23) & 0xff) - 127 + 15;
  const frac = (u >> 13) & 0x3ff;
  if (exp <= 0) return sign;
  if (exp >= 31) return sign | 0x7c00;
  return sign | (exp << 10) | frac;
}

/** The element bytes of `data` as ONNX stores them (little-endian). */
export function rawBytes(data: ArrayLike<number>, encoding: Encoding): Uint8Array {
  const n = data.length;
  const size = { float: 4, float16: 2, double: 8, int64: 8, int32: 4 }[encoding as 'float'] ?? 4;
  const buf = new ArrayBuffer(n * size);
  const view = new DataView(buf);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (encoding === 'float16') view.setUint16(i * 2, float16(v), true);
    else if (encoding === 'double') view.setFloat64(i * 8, v, true);
    else if (encoding === 'int64') view.setBigInt64(i * 8, BigInt(v), true);
    else if (encoding === 'int32') view.setInt32(i * 4, v, true);
    else view.setFloat32(i * 4, v, true);
  }
  return new Uint8Array(buf);
}

const DATA_TYPE: Record<Encoding, number> = {
  float: 1,
  'float-field': 1,
  float16: 10,
  double: 11,
  int64: 7,
  'int64-field': 7,
  int32: 6,
};

function tensor(name: string, t: InitSpec) {
  const encoding = t.encoding ?? 'float';
  const base = { name, dims: t.dims, dataType: DATA_TYPE[encoding] };
  if (t.external) {
    const entries = [
      { key: 'location', value: t.external.location },
      ...(t.external.offset !== undefined
        ? [{ key: 'offset', value: String(t.external.offset) }]
        : []),
      ...(t.external.length !== undefined
        ? [{ key: 'length', value: String(t.external.length) }]
        : []),
    ];
    return { ...base, dataLocation: 1, externalData: entries };
  }
  if (encoding === 'float-field') return { ...base, floatData: Array.from(t.data) };
  if (encoding === 'int64-field') return { ...base, int64Data: Array.from(t.data) };
  return { ...base, rawData: rawBytes(t.data, encoding) };
}

function attribute(name: string, v: AttrValue) {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (typeof v === 'number')
    return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  if ('f' in v) return { name, type: 1, f: v.f };
  return { name, type: 6, floats: v.floats };
}

const valueInfo = ([name, dims]: [string, (number | string)[]]) => ({
  name,
  type: {
    tensorType: {
      elemType: 1,
      shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) },
    },
  },
});

let modelType: protobuf.Type | undefined;

export function onnxModel(spec: ModelSpec): Uint8Array {
  modelType ??= protobuf.Root.fromJSON(onnxSchema).lookupType('onnx.ModelProto');
  const inputs = spec.inputs ?? (spec.input ? [spec.input] : []);
  const outputs = spec.outputs ?? [spec.output ?? 'y'];
  const message = modelType.fromObject({
    irVersion: 8,
    producerName: 'advkit-test',
    opsetImport: [{ domain: '', version: spec.opset ?? 13 }],
    graph: {
      name: 'test',
      node: spec.nodes.map((n) => ({
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? '',
        opType: n.op,
        domain: n.domain ?? '',
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      initializer: Object.entries(spec.initializers ?? {}).map(([k, t]) => tensor(k, t)),
      input: inputs.map(valueInfo),
      output: outputs.map((o) => valueInfo([o, []])),
    },
  });
  return modelType.encode(message).finish();
}

/** Deterministic values in [-1, 1) (a small LCG), for weights and inputs. */
export function values(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}
