/**
 * ONNX TensorProto → tf.Tensor. Floating types (float32, float16, double)
 * become float32; integer and bool types become int32 (shape arithmetic and
 * indices: int64 values outside int32's range, such as the INT64_MAX that
 * exporters write for "to the end" in Slice, are clamped, which keeps their
 * meaning). Data comes from raw_data (little-endian), the typed fields, or
 * an external file (data_location EXTERNAL) that `external` provides.
 */
import * as tf from '@tensorflow/tfjs';
import { LoadError } from '../../errors.js';
import { type TensorProto, toNumber } from './proto.js';

export type ExternalData = (location: string) => Uint8Array | Promise<Uint8Array>;

const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const UINT16 = 4;
const INT16 = 5;
const INT32 = 6;
const INT64 = 7;
const BOOL = 9;
const FLOAT16 = 10;
const DOUBLE = 11;
const UINT32 = 12;
const UINT64 = 13;

const TYPE_NAMES: Record<number, string> = {
  0: 'undefined',
  8: 'string',
  14: 'complex64',
  15: 'complex128',
  16: 'bfloat16',
};

const I32_MAX = 2147483647;
const clampI32 = (v: number): number => Math.max(-I32_MAX - 1, Math.min(I32_MAX, v));

function float16ToFloat32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Decodes little-endian element bytes of an ONNX data type. */
function fromRaw(
  raw: Uint8Array,
  type: number,
  count: number,
  where: string,
): Float32Array | Int32Array {
  const size = {
    [FLOAT]: 4,
    [UINT8]: 1,
    [INT8]: 1,
    [UINT16]: 2,
    [INT16]: 2,
    [INT32]: 4,
    [INT64]: 8,
    [BOOL]: 1,
    [FLOAT16]: 2,
    [DOUBLE]: 8,
    [UINT32]: 4,
    [UINT64]: 8,
  }[type];
  if (size === undefined) throw unsupportedType(type, where);
  if (raw.length !== count * size)
    throw new LoadError(
      'MODEL_LOAD',
      `${where}: its data has ${raw.length} bytes; its shape and type need ${count} × ${size} = ${count * size}`,
    );
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const isFloat = type === FLOAT || type === FLOAT16 || type === DOUBLE;
  const out = isFloat ? new Float32Array(count) : new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const o = i * size;
    switch (type) {
      case FLOAT:
        out[i] = view.getFloat32(o, true);
        break;
      case FLOAT16:
        out[i] = float16ToFloat32(view.getUint16(o, true));
        break;
      case DOUBLE:
        out[i] = view.getFloat64(o, true);
        break;
      case UINT8:
      case BOOL:
        out[i] = view.getUint8(o);
        break;
      case INT8:
        out[i] = view.getInt8(o);
        break;
      case UINT16:
        out[i] = view.getUint16(o, true);
        break;
      case INT16:
        out[i] = view.getInt16(o, true);
        break;
      case INT32:
        out[i] = view.getInt32(o, true);
        break;
      case UINT32:
        out[i] = clampI32(view.getUint32(o, true));
        break;
      case INT64:
        out[i] = clampI32(Number(view.getBigInt64(o, true)));
        break;
      case UINT64:
        out[i] = clampI32(Number(view.getBigUint64(o, true)));
        break;
    }
  }
  return out;
}

function unsupportedType(type: number, where: string): LoadError {
  return new LoadError(
    'MODEL_LOAD',
    `${where} has ONNX data type ${type} (${TYPE_NAMES[type] ?? 'unknown'}); advkit reads float32, float16, double and integer/bool tensors`,
  );
}

/** Typed-field data (float_data, int32_data, int64_data, …) of a tensor without raw_data. */
function fromFields(t: TensorProto, count: number, where: string): Float32Array | Int32Array {
  const type = t.dataType;
  let values: number[];
  if (type === FLOAT || type === DOUBLE) values = type === FLOAT ? t.floatData : t.doubleData;
  else if (type === FLOAT16) values = t.int32Data.map(float16ToFloat32);
  else if (type === INT64) values = t.int64Data.map((v) => clampI32(toNumber(v)));
  else if (type === UINT32 || type === UINT64)
    values = t.uint64Data.map((v) => clampI32(toNumber(v)));
  else if ([UINT8, INT8, UINT16, INT16, INT32, BOOL].includes(type)) values = t.int32Data;
  else throw unsupportedType(type, where);
  if (values.length !== count)
    throw new LoadError(
      'MODEL_LOAD',
      `${where}: its data has ${values.length} values; its shape [${t.dims.map(toNumber).join(', ')}] has ${count}`,
    );
  return type === FLOAT || type === FLOAT16 || type === DOUBLE
    ? Float32Array.from(values)
    : Int32Array.from(values);
}

async function externalBytes(
  t: TensorProto,
  external: ExternalData | undefined,
  where: string,
): Promise<Uint8Array> {
  const entry = (key: string) => t.externalData.find((e) => e.key === key)?.value;
  const location = entry('location');
  if (!location)
    throw new LoadError('MODEL_LOAD', `${where} is stored externally but names no location`);
  if (!external)
    throw new LoadError(
      'MODEL_LOAD',
      `${where} is stored in the external file ${JSON.stringify(location)}; load the model from its file (loadClassifierFromFile) or pass importOnnx's externalData option`,
    );
  const file = await external(location);
  const offset = Number(entry('offset') ?? 0);
  const length = entry('length') === undefined ? file.length - offset : Number(entry('length'));
  if (!(offset >= 0 && length >= 0 && offset + length <= file.length))
    throw new LoadError(
      'MODEL_LOAD',
      `${where}: external data ${JSON.stringify(location)} offset ${offset} length ${length} lies outside the file (${file.length} bytes)`,
    );
  return file.subarray(offset, offset + length);
}

/** The tensor's values as a tf.Tensor (float32 or int32), `where` naming it in errors. */
export async function tensorFromProto(
  t: TensorProto,
  external: ExternalData | undefined,
  where: string,
): Promise<tf.Tensor> {
  const bytes = t.dataLocation === 1 ? await externalBytes(t, external, where) : undefined;
  return decodeTensor(t, where, bytes);
}

/** `tensorFromProto` for a tensor held in the file (attributes), or with its external bytes read. */
export function decodeTensor(t: TensorProto, where: string, external?: Uint8Array): tf.Tensor {
  const shape = t.dims.map(toNumber);
  const count = shape.reduce((a, b) => a * b, 1);
  let data: Float32Array | Int32Array;
  if (t.dataLocation === 1) {
    if (!external)
      throw new LoadError(
        'MODEL_LOAD',
        `${where} is stored externally where advkit reads only in-file data`,
      );
    data = fromRaw(external, t.dataType, count, where);
  } else if (t.rawData.length > 0 || count === 0)
    data = fromRaw(t.rawData, t.dataType, count, where);
  else data = fromFields(t, count, where);
  return data instanceof Float32Array
    ? tf.tensor(data, shape, 'float32')
    : tf.tensor(data, shape, 'int32');
}

/** An initializer's or Constant's name in messages. */
export const tensorWhere = (name: string, file: string): string =>
  `tensor ${JSON.stringify(name)} in ${file}`;
