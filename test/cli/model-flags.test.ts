/**
 * The model flags' map to loader options (src/cli/options.ts): --input-shape
 * parsed as three positive integers and passed on as `inputShape`, which a
 * model with a fixed input checks (here an ONNX export, 48 × 48 × 3).
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { modelFlags, modelOptions } from '../../src/cli/options.js';
import { InputError, loadClassifierFromFile, setBackend } from '../../src/node.js';

const ONNX = 'test/model/fixtures/onnx/resnet-basic-bn/model.onnx';
const base = { bounds: [0, 1] as [number, number], mode: 'eval' as const };

before(async () => {
  await setBackend();
});

test('--input-shape: three positive integers, else a usage error naming the flag', () => {
  const parse = modelFlags['input-shape'].parse;
  assert.deepEqual(parse(' 224, 224,3', 'input-shape'), [224, 224, 3]);
  for (const bad of ['224,224', '224,224,3,1', '0,4,3', '2.5,4,3', 'a,b,c', '-1,4,3']) {
    assert.throws(
      () => parse(bad, 'input-shape'),
      (e: unknown) => e instanceof Error && /^--input-shape must be /.test(e.message),
      `--input-shape ${bad}`,
    );
  }
  assert.equal('inputShape' in modelOptions(base), false, 'no flag: the model decides');
  assert.deepEqual(modelOptions({ ...base, 'input-shape': [48, 48, 3] }).inputShape, [48, 48, 3]);
});

test('--input-shape reaches the loader: the ONNX model agrees at 48,48,3 and refuses 32,32,3', async () => {
  const { model } = await loadClassifierFromFile(
    ONNX,
    modelOptions({ ...base, 'input-shape': [48, 48, 3] }),
  );
  assert.deepEqual(model.inputShape, [48, 48, 3]);
  assert.equal(model.info.kind, 'onnx');
  model.dispose();
  await assert.rejects(
    loadClassifierFromFile(ONNX, modelOptions({ ...base, 'input-shape': [32, 32, 3] })),
    (e: unknown) =>
      e instanceof InputError && e.code === 'INVALID_SHAPE' && /\[32, ?32, ?3\]/.test(e.message),
  );
});
