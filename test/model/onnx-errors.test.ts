/**
 * What an ONNX model advkit cannot take is told as one coded error naming
 * the problem: every unsupported op with its nodes, several inputs or
 * outputs, an input that is not a 4-D image, dynamic spatial sizes without
 * inputShape, truncated or corrupt bytes, an opset out of range, and
 * external-data files that are missing, outside the model's folder (by
 * '..', an absolute path or a symbolic link) or too short. Nothing is
 * left allocated after a refused import.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { importOnnx } from '../../src/model/onnx/index.js';
import { loadClassifierFromFile, setBackend } from '../../src/node.js';
import { type ModelSpec, node, onnxModel, rawBytes } from './onnx-build.js';

before(async () => {
  await setBackend();
});

const relu: ModelSpec = { input: ['x', [1, 3, 4, 4]], nodes: [node('Relu', ['x'], ['y'])] };

/** Imports `bytes` expecting a coded error whose message matches `pattern`; checks for leaks. */
async function refused(
  bytes: Uint8Array,
  pattern: RegExp,
  options: Parameters<typeof importOnnx>[1] = {},
  code = 'MODEL_LOAD',
): Promise<void> {
  const before = tf.memory().numTensors;
  await assert.rejects(
    importOnnx(bytes, { where: 'm.onnx', ...options }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, code, `error code of: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    },
  );
  assert.equal(tf.memory().numTensors, before, 'a refused import leaves no tensor');
}

describe('refused models', () => {
  it('every unsupported op is named with its nodes, in one error', async () => {
    const bytes = onnxModel({
      input: ['x', [1, 3, 4, 4]],
      nodes: [
        node('Relu', ['x'], ['a']),
        node('LRN', ['a'], ['b'], { size: 3 }, 'norm1'),
        node('Resize', ['b'], ['c'], {}, 'up1'),
        node('LRN', ['c'], ['d'], { size: 3 }, 'norm2'),
        { op: 'Inverse', domain: 'com.microsoft', inputs: ['d'], outputs: ['y'], name: 'inv' },
      ],
    });
    await refused(
      bytes,
      /m\.onnx uses 3 ops advkit cannot translate: LRN \(2 nodes: norm1, norm2\); Resize \(1 node: up1\); com\.microsoft\.Inverse \(1 node: inv\)\. Supported: .*Conv/,
    );
  });

  it('several image inputs, or several outputs', async () => {
    await refused(
      onnxModel({
        ...relu,
        inputs: [
          ['x', [1, 3, 4, 4]],
          ['z', [1, 3, 4, 4]],
        ],
      }),
      /m\.onnx has 2 graph inputs \("x", "z"\); advkit attacks models with one image input/,
    );
    await refused(
      onnxModel({ ...relu, outputs: ['y', 'x'] }),
      /m\.onnx has 2 graph outputs \("y", "x"\); advkit needs one output/,
    );
  });

  it('an initializer listed among the inputs is not an input', async () => {
    const bytes = onnxModel({
      inputs: [
        ['x', [1, 3, 4, 4]],
        ['k', [1]],
      ],
      nodes: [node('Mul', ['x', 'k'], ['y'])],
      initializers: { k: { dims: [1], data: [2] } },
    });
    const net = await importOnnx(bytes);
    assert.deepEqual(net.inputShape, [4, 4, 3]);
    net.dispose();
  });

  it('an input that is not a 4-D image', async () => {
    await refused(
      onnxModel({ input: ['tokens', [1, 16]], nodes: [node('Relu', ['tokens'], ['y'])] }),
      /input "tokens" has rank 2; advkit needs a 4-D NCHW image input \[N, C, H, W\]/,
    );
  });

  it('dynamic spatial dimensions need inputShape, which then sizes the model', async () => {
    const dynamic = onnxModel({
      input: ['x', ['N', 3, 'H', 'W']],
      nodes: [node('Relu', ['x'], ['y'])],
    });
    await refused(
      dynamic,
      /input "x" has dynamic dimensions \[N, 3, H, W\]; give the image size as inputShape \[h, w, c\]/,
    );
    const net = await importOnnx(dynamic, { inputShape: [5, 6, 3] });
    assert.deepEqual(net.inputShape, [5, 6, 3]);
    net.dispose();
    await refused(
      dynamic,
      /inputShape \[5, 6, 4\] \(NHWC\) contradicts m\.onnx's input \[\?, 3, \?, \?\] \(NCHW\)/,
      { inputShape: [5, 6, 4] },
      'INVALID_SHAPE',
    );
    // Refused before the graph is traced at that size (not a TF.js shape error).
    for (const bad of [
      [0, 6, 3],
      [-2, 6, 3],
      [2.5, 6, 3],
      [5, 6],
    ]) {
      await refused(
        dynamic,
        /^inputShape must be \[height, width, channels\] of positive integers; received \[/,
        { inputShape: bad as [number, number, number] },
        'INVALID_SHAPE',
      );
    }
  });

  it('truncated, corrupt and empty files', async () => {
    const good = onnxModel({
      ...relu,
      nodes: [node('Mul', ['x', 'k'], ['y'])],
      initializers: { k: { dims: [3, 1, 1], data: [1, 2, 3] } },
    });
    await refused(
      good.subarray(0, good.length - 7),
      /m\.onnx is not a readable ONNX model \(truncated or corrupt protobuf, \d+ bytes\)/,
    );
    await refused(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f]), /not a readable ONNX model/);
    await refused(
      new TextEncoder().encode('{"modelTopology": {}}'),
      /m\.onnx is not (a readable ONNX model|an ONNX model)/,
    );
    await refused(
      new Uint8Array(0),
      /m\.onnx is not an ONNX model: it decodes as protobuf but has no graph nodes/,
    );
  });

  it('an initializer whose data does not fill its shape', async () => {
    const bytes = onnxModel({
      ...relu,
      nodes: [node('Mul', ['x', 'k'], ['y'])],
      initializers: { k: { dims: [3, 1, 1], data: [1, 2] } },
    });
    await refused(
      bytes,
      /initializer "k" in m\.onnx: its data has 8 bytes; its shape and type need 3 × 4 = 12/,
    );
  });

  it('an opset outside 7–18', async () => {
    await refused(
      onnxModel({ ...relu, opset: 19 }),
      /m\.onnx uses ONNX opset 19; advkit translates opsets 7–18/,
    );
  });

  it('a forward on images of the wrong size is an INVALID_SHAPE error', async () => {
    const net = await importOnnx(onnxModel(relu), { where: 'm.onnx' });
    const x = tf.zeros([1, 5, 4, 3]) as tf.Tensor4D;
    assert.throws(
      () => net.forward(x),
      /m\.onnx takes NHWC images \[N, 4, 4, 3\]; received \[1,5,4,3\]/,
    );
    x.dispose();
    net.dispose();
  });
});

describe('external data', () => {
  const k = [1, 2, 3];
  const external = (location: string, offset?: number, length?: number) =>
    onnxModel({
      ...relu,
      nodes: [
        node('Mul', ['x', 'k'], ['m']),
        node('GlobalAveragePool', ['m'], ['g']),
        node('Flatten', ['g'], ['y']),
      ],
      initializers: { k: { dims: [3, 1, 1], data: k, external: { location, offset, length } } },
    });
  const folder = () => mkdtempSync(path.join(tmpdir(), 'advkit-onnx-'));

  it('weights beside the model are read (at their offset) and covered by the checksum', async () => {
    const dir = folder();
    writeFileSync(path.join(dir, 'w.bin'), new Uint8Array([9, 9, 9, 9, ...rawBytes(k, 'float')]));
    writeFileSync(path.join(dir, 'm.onnx'), external('w.bin', 4, 12));
    const loaded = await loadClassifierFromFile(path.join(dir, 'm.onnx'));
    assert.equal(loaded.format, 'onnx');
    const x = tf.ones([1, 4, 4, 3]) as tf.Tensor4D;
    const y = loaded.model.logits(x);
    assert.deepEqual(
      Array.from((await y.data()).slice(0, 3)),
      k,
      'NHWC pixel (0, 0) = the three channel weights',
    );
    tf.dispose([x, y]);
    loaded.model.dispose();
    (loaded.network as { dispose(): void }).dispose();
    // the same model file with other external bytes has another checksum
    writeFileSync(
      path.join(dir, 'w.bin'),
      new Uint8Array([9, 9, 9, 9, ...rawBytes([1, 2, 4], 'float')]),
    );
    const again = await loadClassifierFromFile(path.join(dir, 'm.onnx'));
    assert.notEqual(again.checksum, loaded.checksum, 'checksum covers the external data');
    again.model.dispose();
    (again.network as { dispose(): void }).dispose();
  });

  it("locations outside the model's folder are refused: '..', absolute, a symbolic link", async () => {
    const dir = folder();
    const inner = path.join(dir, 'model');
    mkdirSync(inner);
    writeFileSync(path.join(dir, 'outside.bin'), rawBytes(k, 'float'));
    symlinkSync(path.join(dir, 'outside.bin'), path.join(inner, 'link.bin'));
    const cases: [string, RegExp][] = [
      [
        '../outside.bin',
        /external data location "\.\.\/outside\.bin" in .*m\.onnx leads out of the folder/,
      ],
      [
        path.join(dir, 'outside.bin'),
        /external data location ".*outside\.bin" in .*m\.onnx is absolute/,
      ],
      [
        'link.bin',
        /external data location "link\.bin" in .*m\.onnx leads out of the folder through a symbolic link/,
      ],
      ['missing.bin', /external data file .*missing\.bin named in .*m\.onnx does not exist/],
    ];
    for (const [location, pattern] of cases) {
      writeFileSync(path.join(inner, 'm.onnx'), external(location));
      await assert.rejects(
        loadClassifierFromFile(path.join(inner, 'm.onnx')),
        (e: Error & { code?: string }) => {
          assert.equal(e.code, 'MODEL_LOAD', e.message);
          assert.match(e.message, pattern);
          assert.doesNotMatch(e.message, /bytes/, 'nothing about the outside file is told');
          return true;
        },
      );
    }
  });

  it('external data too short for its tensor, or without a reader', async () => {
    const bytes = external('w.bin', 8, 12);
    await refused(
      bytes,
      /external data "w\.bin" offset 8 length 12 lies outside the file \(16 bytes\)/,
      {
        externalData: () => new Uint8Array(16),
      },
    );
    await refused(
      bytes,
      /tensor "k"|initializer "k" in m\.onnx is stored in the external file "w\.bin"; load the model from its file/,
    );
  });

  it('external-data weights travel with the model (checksum = sha256 of both files)', async () => {
    const dir = folder();
    writeFileSync(path.join(dir, 'w.bin'), rawBytes(k, 'float'));
    const model = external('w.bin');
    writeFileSync(path.join(dir, 'm.onnx'), model);
    const loaded = await loadClassifierFromFile(path.join(dir, 'm.onnx'));
    const joined = new Uint8Array([...model, ...rawBytes(k, 'float')]);
    const digest = Buffer.from(await crypto.subtle.digest('SHA-256', joined)).toString('hex');
    assert.equal(loaded.checksum, digest);
    const source = (loaded.network as { source: { external: Record<string, Uint8Array> } }).source;
    assert.deepEqual(
      Object.keys(source.external),
      ['w.bin'],
      'the worker payload carries the external file',
    );
    loaded.model.dispose();
    (loaded.network as { dispose(): void }).dispose();
  });
});
